"""StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR and ReduceLROnPlateau: learning rates per
epoch against PyTorch and their formulas, several groups, saving and resuming, errors."""
import math

import pytest

import tinygen
from tinygen import nn, optim
from tinygen.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, MultiStepLR, StepLR
from tinygen.serialization import load, save


def two_group_optimizer(lr=0.1):
    groups = [{"params": [nn.Parameter(tinygen.ones(2))]}, {"params": [nn.Parameter(tinygen.ones(2))], "lr": 0.5}]
    return optim.SGD(groups, lr=lr, momentum=0.9)


def torch_two_group_optimizer(torch, lr=0.1):
    groups = [{"params": [torch.nn.Parameter(torch.ones(2))]}, {"params": [torch.nn.Parameter(torch.ones(2))], "lr": 0.5}]
    return torch.optim.SGD(groups, lr=lr, momentum=0.9)


def learning_rates(scheduler, optimizer, epochs):
    history = [scheduler.get_last_lr()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        history.append(scheduler.get_last_lr())
    return history


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda module, opt: module.StepLR(opt, step_size=3, gamma=0.5),
    lambda module, opt: module.StepLR(opt, step_size=1),
    lambda module, opt: module.LambdaLR(opt, lambda epoch: 0.95 ** epoch),
    lambda module, opt: module.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.5),
    lambda module, opt: module.ExponentialLR(opt, gamma=0.9),
    lambda module, opt: module.CosineAnnealingLR(opt, T_max=5, eta_min=0.01),
    lambda module, opt: module.CosineAnnealingLR(opt, T_max=12),
    lambda module, opt: module.LambdaLR(opt, [lambda epoch: 1.0 / (epoch + 1), lambda epoch: min(1.0, (epoch + 1) / 4)]),
])
def test_schedules_match_torch(make):
    torch = pytest.importorskip("torch")
    ours_optimizer, theirs_optimizer = two_group_optimizer(), torch_two_group_optimizer(torch)
    ours = learning_rates(make(optim.lr_scheduler, ours_optimizer), ours_optimizer, 12)
    theirs = learning_rates(make(torch.optim.lr_scheduler, theirs_optimizer), theirs_optimizer, 12)
    flat = lambda history: [lr for lrs in history for lr in lrs]  # noqa: E731
    assert flat(ours) == pytest.approx(flat(theirs), rel=1e-12)
    assert [group["lr"] for group in ours_optimizer.param_groups] == ours[-1]
    assert [group["initial_lr"] for group in ours_optimizer.param_groups] == [0.1, 0.5]


def test_step_lr_values():
    optimizer = two_group_optimizer()
    history = learning_rates(StepLR(optimizer, step_size=2, gamma=0.1), optimizer, 5)
    assert [lrs[0] for lrs in history] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_multistep_exponential_and_cosine_values():
    """Probe: MultiStepLR, ExponentialLR and CosineAnnealingLR, common in scripts, were missing."""
    optimizer = two_group_optimizer()
    history = learning_rates(MultiStepLR(optimizer, [1, 3, 3]), optimizer, 4)
    assert [lrs[1] for lrs in history] == pytest.approx([0.5, 0.05, 0.05, 0.0005, 0.0005])
    optimizer = two_group_optimizer()
    assert [lrs[0] for lrs in learning_rates(ExponentialLR(optimizer, 0.5), optimizer, 3)] == pytest.approx(
        [0.1, 0.05, 0.025, 0.0125])
    optimizer = two_group_optimizer()
    cosine = [lrs[1] for lrs in learning_rates(CosineAnnealingLR(optimizer, T_max=4, eta_min=0.1), optimizer, 8)]
    expected = [0.1 + 0.4 * (1 + math.cos(math.pi * epoch / 4)) / 2 for epoch in range(9)]
    assert cosine == pytest.approx(expected) and cosine[4] == pytest.approx(0.1) and cosine[8] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="MultiStepLR: milestones must be increasing integers, got \\[3, 1\\]"):
        MultiStepLR(two_group_optimizer(), [3, 1])
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be a positive integer, got 0"):
        CosineAnnealingLR(two_group_optimizer(), 0)


def test_state_dict_round_trip_resumes_the_schedule(tmp_path):
    optimizer = two_group_optimizer()
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    learning_rates(scheduler, optimizer, 3)
    save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")

    resumed_optimizer = two_group_optimizer()
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed = StepLR(resumed_optimizer, step_size=7, gamma=0.9, last_epoch=checkpoint["scheduler"]["last_epoch"])
    resumed.load_state_dict(checkpoint["scheduler"])
    assert (resumed.step_size, resumed.gamma, resumed.last_epoch) == (2, 0.5, 3)
    assert learning_rates(resumed, resumed_optimizer, 4)[1:] == learning_rates(scheduler, optimizer, 4)[1:]


def test_lambda_lr_state_dict_has_no_functions():
    optimizer = two_group_optimizer()
    scheduler = LambdaLR(optimizer, lambda epoch: 0.5 ** epoch)
    optimizer.step()
    scheduler.step()
    state = scheduler.state_dict()
    assert state == {"base_lrs": [0.1, 0.5], "last_epoch": 1, "last_lr": [0.05, 0.25]}


def test_errors():
    optimizer = two_group_optimizer()
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got 0"):
        StepLR(optimizer, step_size=0)
    with pytest.raises(ValueError, match="LambdaLR: expected 2 lr_lambdas \\(one per param group\\), got 1"):
        LambdaLR(optimizer, [lambda epoch: 1.0])
    with pytest.raises(TypeError, match="lr_lambda must be a function"):
        LambdaLR(optimizer, 0.5)
    with pytest.raises(KeyError, match="has no 'initial_lr'"):
        StepLR(two_group_optimizer(), step_size=2, last_epoch=4)


# --- ReduceLROnPlateau -------------------------------------------------------------------------------------

#: a metric that falls, stalls, creeps by less than the relative threshold, falls again and stalls
PLATEAU_METRICS = [1.0, 0.8, 0.8, 0.8, 0.79995, 0.8, 0.5, 0.5, 0.5, 0.5, 0.6, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]


def plateau_rates(scheduler, optimizer, metrics):
    history = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        history.extend(scheduler.get_last_lr())
    return history


@pytest.mark.torch
@pytest.mark.parametrize("settings", [
    {}, {"patience": 1}, {"patience": 2, "factor": 0.5, "cooldown": 2},
    {"patience": 0, "min_lr": [0.02, 0.3]}, {"patience": 1, "threshold_mode": "abs", "threshold": 0.05},
    {"mode": "max", "patience": 1}, {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.0},
])
def test_reduce_lr_on_plateau_matches_torch(settings):
    torch = pytest.importorskip("torch")
    ours_optimizer, theirs_optimizer = two_group_optimizer(), torch_two_group_optimizer(torch)
    ours = optim.lr_scheduler.ReduceLROnPlateau(ours_optimizer, **settings)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_optimizer, **settings)
    assert plateau_rates(ours, ours_optimizer, PLATEAU_METRICS) == pytest.approx(
        plateau_rates(theirs, theirs_optimizer, PLATEAU_METRICS), rel=1e-12)


def test_reduce_lr_on_plateau_values_and_resume(tmp_path):
    optimizer = two_group_optimizer()
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=1, factor=0.5, min_lr=[0.0, 0.2])
    first = plateau_rates(scheduler, optimizer, [1.0, 1.0, 1.0, tinygen.tensor(0.9), 0.9, 0.9, 0.9, 0.9])
    # two epochs without improvement lower the lr; the second group stops at its min_lr of 0.2
    assert first == pytest.approx([0.1, 0.5, 0.1, 0.5, 0.05, 0.25, 0.05, 0.25, 0.05, 0.25,
                                   0.025, 0.2, 0.025, 0.2, 0.0125, 0.2])
    save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")
    resumed_optimizer = two_group_optimizer()
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed = optim.lr_scheduler.ReduceLROnPlateau(resumed_optimizer)
    resumed.load_state_dict(checkpoint["scheduler"])
    later = [0.9, 0.9, 0.5, 0.5, 0.5]
    assert plateau_rates(resumed, resumed_optimizer, later) == plateau_rates(scheduler, optimizer, later)


def test_reduce_lr_on_plateau_errors():
    make = optim.lr_scheduler.ReduceLROnPlateau
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode must be 'min' or 'max', got 'lowest'"):
        make(two_group_optimizer(), mode="lowest")
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: factor must be in \[0, 1\).*got 2"):
        make(two_group_optimizer(), factor=2)
    with pytest.raises(ValueError, match="threshold_mode must be 'rel' or 'abs', got 'relative'"):
        make(two_group_optimizer(), threshold_mode="relative")
    with pytest.raises(ValueError, match=r"expected 2 min_lr values \(one per param group\), got 3"):
        make(two_group_optimizer(), min_lr=[0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="ReduceLROnPlateau: expected an Optimizer, got list"):
        make([])


def test_reduce_lr_on_plateau_lowers_a_group_added_later_as_pytorch():
    """Probe: a group added with add_param_group (a backbone unfrozen) kept its lr forever."""
    optimizer = optim.SGD([nn.Parameter(tinygen.zeros(1))], lr=0.1)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    optimizer.add_param_group({"params": [nn.Parameter(tinygen.zeros(1))], "lr": 0.05})
    for metric in (1.0, 1.0, 1.0):
        scheduler.step(metric)
    assert [group["lr"] for group in optimizer.param_groups] == pytest.approx([0.001, 0.0005])
    listed = optim.SGD([nn.Parameter(tinygen.zeros(1))], lr=0.1)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(listed, patience=0, min_lr=[0.0])
    listed.add_param_group({"params": [nn.Parameter(tinygen.zeros(1))]})
    scheduler.step(1.0)
    with pytest.raises(ValueError, match=r"the optimizer has 2 param groups, but min_lr gave 1 \(a group was added "
                                         r"since\): set scheduler.min_lrs to one per group"):
        scheduler.step(1.0)


@pytest.mark.torch
@pytest.mark.parametrize("settings", [{}, {"start_factor": 0.1, "total_iters": 4}, {"start_factor": 1.0,
                                      "end_factor": 0.2, "total_iters": 7}])
def test_linear_lr_matches_torch(settings):
    torch = pytest.importorskip("torch")
    ours_optimizer, theirs_optimizer = two_group_optimizer(), torch_two_group_optimizer(torch)
    ours = learning_rates(optim.lr_scheduler.LinearLR(ours_optimizer, **settings), ours_optimizer, 10)
    theirs = learning_rates(torch.optim.lr_scheduler.LinearLR(theirs_optimizer, **settings), theirs_optimizer, 10)
    assert [lr for lrs in ours for lr in lrs] == pytest.approx([lr for lrs in theirs for lr in lrs], rel=1e-12)


def test_linear_lr_values_resume_and_errors(tmp_path):
    optimizer = two_group_optimizer()
    scheduler = optim.lr_scheduler.LinearLR(optimizer, start_factor=0.25, total_iters=3)
    history = learning_rates(scheduler, optimizer, 5)
    assert [lrs[0] for lrs in history] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.1])
    save(scheduler.state_dict(), tmp_path / "s.npz")
    resumed = optim.lr_scheduler.LinearLR(two_group_optimizer(), start_factor=0.9, total_iters=9)
    resumed.load_state_dict(load(tmp_path / "s.npz"))
    assert (resumed.start_factor, resumed.total_iters, resumed.last_epoch) == (0.25, 3, 5)
    with pytest.raises(ValueError, match=r"start_factor must be in \(0, 1\]"):
        optim.lr_scheduler.LinearLR(two_group_optimizer(), start_factor=0)
    with pytest.raises(ValueError, match="total_iters must be a positive integer"):
        optim.lr_scheduler.LinearLR(two_group_optimizer(), total_iters=0)
    with pytest.raises(AttributeError, match="tinygen does not have it; write the schedule as a LambdaLR"):
        optim.lr_scheduler.OneCycleLR
