"""nn.BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, CrossEntropyLoss, NLLLoss, KLDivLoss: the modules call the
functional losses with their options; F.kl_div's gradients; values and gradients against PyTorch."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, random_tensor

REDUCTIONS = ["mean", "sum", "none"]


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((4, 3))
    probabilities = 1 / (1 + np.exp(-logits))
    targets = rng.uniform(0.05, 0.95, (4, 3))
    classes = rng.integers(0, 3, 4)
    return logits, probabilities, targets, classes


def modules_and_functions():
    logits, probabilities, targets, classes = inputs()
    t = lambda a, **k: tinygen.tensor(a, **k)  # noqa: E731
    log_probabilities = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return {
        "BCELoss": (nn.BCELoss, F.binary_cross_entropy, t(probabilities), t(targets)),
        "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, t(logits), t(targets)),
        "MSELoss": (nn.MSELoss, F.mse_loss, t(logits), t(targets)),
        "L1Loss": (nn.L1Loss, F.l1_loss, t(logits), t(targets)),
        "CrossEntropyLoss": (nn.CrossEntropyLoss, F.cross_entropy, t(logits), t(classes)),
        "NLLLoss": (nn.NLLLoss, F.nll_loss, t(log_probabilities), t(classes)),
        "KLDivLoss": (nn.KLDivLoss, F.kl_div, t(log_probabilities), t(targets / targets.sum(1, keepdims=True))),
    }


@pytest.mark.parametrize("name", sorted(modules_and_functions()))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_equals_its_functional_loss(name, reduction):
    module, function, input, target = modules_and_functions()[name]
    assert_close(module(reduction=reduction)(input, target), function(input, target, reduction=reduction))


def test_bce_with_logits_loss_passes_its_pos_weight_on():
    logits, _, targets, _ = inputs()
    pos_weight = tinygen.tensor([0.5, 2.0, 3.0])
    x, t = tinygen.tensor(logits), tinygen.tensor(targets)
    weighted = nn.BCEWithLogitsLoss(pos_weight=pos_weight)(x, t)
    assert_close(weighted, F.binary_cross_entropy_with_logits(x, t, pos_weight=pos_weight))
    assert abs(weighted.item() - F.binary_cross_entropy_with_logits(x, t).item()) > 0.1


def test_legacy_size_average_and_reduce_map_to_reduction_with_a_warning():
    with pytest.warns(UserWarning, match="size_average and reduce are deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.BCELoss(reduce=False).reduction == "none"
    assert nn.L1Loss().reduction == "mean"


def test_weights_are_buffers_and_class_options_reach_the_functions():
    weight = tinygen.tensor([1.0, 2.0, 3.0])
    loss = nn.BCELoss(weight=weight)
    assert "weight" in loss.state_dict()
    _, probabilities, targets, _ = inputs()
    p, y = tinygen.tensor(probabilities, dtype=tinygen.float32), tinygen.tensor(targets, dtype=tinygen.float32)
    assert_close(loss(p, y), F.binary_cross_entropy(p, y, weight=weight))
    class_weight = tinygen.tensor([1.0, 3.0])
    logits, classes = random_tensor((3, 2), seed=4, requires_grad=False), tinygen.tensor([1, -1, 0])
    for module, function in ((nn.CrossEntropyLoss, F.cross_entropy), (nn.NLLLoss, F.nll_loss)):
        loss = module(weight=class_weight, ignore_index=-1, reduction="sum")
        assert "weight" in loss.state_dict() and "weight" not in module().state_dict()
        assert_close(loss(logits, classes), function(logits, classes, weight=class_weight, ignore_index=-1,
                                                     reduction="sum"))
    smoothed = nn.CrossEntropyLoss(weight=class_weight, label_smoothing=0.2)
    assert_close(smoothed(logits, tinygen.tensor([1, 0, 0])),
                 F.cross_entropy(logits, tinygen.tensor([1, 0, 0]), weight=class_weight, label_smoothing=0.2))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.KLDivLoss(reduction="average")(p.log(), y)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradients(reduction, log_target):
    log_q = random_tensor((3, 4), seed=1, low=-3.0, high=-0.1)
    p = random_tensor((3, 4), seed=2, low=0.05 if not log_target else -3.0, high=0.9 if not log_target else -0.1)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), [log_q, p])
    gradgradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), [log_q, p])


def test_kl_div_zero_target_contributes_zero_without_nan():
    log_q = tinygen.tensor([[-1.0, -2.0]], dtype=tinygen.float64, requires_grad=True)
    p = tinygen.tensor([[0.0, 1.0]], dtype=tinygen.float64, requires_grad=True)
    loss = F.kl_div(log_q, p, reduction="sum")
    assert loss.item() == pytest.approx(2.0)
    gradients = tinygen.grad(loss, [log_q, p])
    assert all(np.isfinite(g.numpy()).all() for g in gradients)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(modules_and_functions()))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_and_gradients_match_pytorch(name, reduction):
    torch = pytest.importorskip("torch")
    module, _, input, target = modules_and_functions()[name]
    input = input.detach().requires_grad_()
    theirs_input = torch.tensor(input.detach().numpy(), requires_grad=True)
    theirs_target = torch.tensor(target.numpy())
    loss = module(reduction=reduction)(input, target)
    loss_torch = getattr(torch.nn, name)(reduction=reduction)(theirs_input, theirs_target)
    upstream = np.random.default_rng(9).standard_normal(tuple(loss_torch.shape))
    (gradient,) = tinygen.grad(loss, input, tinygen.tensor(upstream))
    (gradient_torch,) = torch.autograd.grad(loss_torch, theirs_input, torch.tensor(upstream))
    assert_close(loss, loss_torch.detach().numpy(), rtol=1e-12)
    assert_close(gradient, gradient_torch.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.torch
def test_kl_div_batchmean_matches_pytorch():
    torch = pytest.importorskip("torch")
    _, _, targets, _ = inputs(3)
    log_q = np.log(targets[::-1] / targets[::-1].sum(1, keepdims=True))
    p = targets / targets.sum(1, keepdims=True)
    ours = nn.KLDivLoss(reduction="batchmean")(tinygen.tensor(log_q), tinygen.tensor(p))
    theirs = torch.nn.KLDivLoss(reduction="batchmean")(torch.tensor(log_q), torch.tensor(p))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
