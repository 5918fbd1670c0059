"""Optimizers: 100 steps of SGD / Adam / AdamW against PyTorch (float32, to rounding), parameter groups, state
saving and resuming, in-place updates without upcasts, and errors."""
import numpy as np
import pytest

import tinygen
from tinygen import nn, optim
from tinygen.serialization import load, save

from helpers import assert_close, host

STEPS = 100

OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, betas=(0.0, 0.99), weight_decay=0.1, amsgrad=True)),
]


def problem(seed=0):
    """Start values, a target and per-step noise: loss_t(p) = 0.5 |p - target|^2 + <noise_t, p>."""
    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(5,)).astype(np.float32)]
    targets = [rng.normal(size=start.shape).astype(np.float32) for start in starts]
    noise = [[rng.normal(scale=0.3, size=start.shape).astype(np.float32) for start in starts] for _ in range(STEPS)]
    return starts, targets, noise


def train_tinygen(optimizer_name, options, steps=STEPS, groups=None, seed=0):
    starts, targets, noise = problem(seed)
    params = [nn.Parameter(tinygen.tensor(start)) for start in starts]
    targets = [tinygen.tensor(t) for t in targets]
    spec = params if groups is None else [{**group, "params": [params[i] for i in group["params"]]} for group in groups]
    optimizer = getattr(optim, optimizer_name)(spec, **options)
    for step in range(steps):
        optimizer.zero_grad()
        loss = sum(0.5 * ((p - t) ** 2).sum() + (p * tinygen.tensor(n)).sum()
                   for p, t, n in zip(params, targets, noise[step]))
        loss.backward()
        optimizer.step()
    return params, optimizer


def train_torch(torch, optimizer_name, options, groups=None, seed=0):
    starts, targets, noise = problem(seed)
    params = [torch.nn.Parameter(torch.tensor(start)) for start in starts]
    targets = [torch.tensor(t) for t in targets]
    spec = params if groups is None else [{**group, "params": [params[i] for i in group["params"]]} for group in groups]
    optimizer = getattr(torch.optim, optimizer_name)(spec, **options)
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = sum(0.5 * ((p - t) ** 2).sum() + (p * torch.tensor(n)).sum() for p, t, n in zip(params, targets, noise[step]))
        loss.backward()
        optimizer.step()
    return params, optimizer


@pytest.mark.torch
@pytest.mark.parametrize("optimizer_name, options", OPTIMIZER_CASES)
def test_hundred_steps_match_torch(optimizer_name, options):
    torch = pytest.importorskip("torch")
    ours, our_optimizer = train_tinygen(optimizer_name, options)
    theirs, their_optimizer = train_torch(torch, optimizer_name, options)
    starts = problem()[0]
    for ours_p, theirs_p, start in zip(ours, theirs, starts):
        assert np.abs(host(ours_p) - start).max() > 0.05  # the parameters really moved
        assert_close(ours_p, theirs_p.detach().numpy(), rtol=1e-5, atol=1e-6)
    our_state, their_state = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert sorted(our_state["state"]) == sorted(their_state["state"])
    for index, values in our_state["state"].items():
        assert set(values) == set(their_state["state"][index])
        for key, value in values.items():
            theirs_value = their_state["state"][index][key]
            if key == "step":
                assert value == STEPS and isinstance(value, int) and float(theirs_value) == STEPS
            else:
                assert_close(value, theirs_value.numpy(), rtol=1e-5, atol=1e-6)
    assert [g["params"] for g in our_state["param_groups"]] == [g["params"] for g in their_state["param_groups"]]


@pytest.mark.torch
@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam", "AdamW"])
def test_parameter_groups_with_their_own_options_match_torch(optimizer_name):
    torch = pytest.importorskip("torch")
    options = dict(lr=0.01, weight_decay=0.02) if optimizer_name != "SGD" else dict(lr=0.01, momentum=0.9)
    groups = [{"params": [0], "lr": 0.05}, {"params": [1], "weight_decay": 0.5}]
    ours, _ = train_tinygen(optimizer_name, options, groups=groups)
    theirs, _ = train_torch(torch, optimizer_name, options, groups=groups)
    for ours_p, theirs_p in zip(ours, theirs):
        assert_close(ours_p, theirs_p.detach().numpy(), rtol=1e-5, atol=1e-6)


# --- closed forms, without PyTorch: with a constant gradient g, m_t = (1 - b1^t) g and v_t = (1 - b2^t) g^2, so
# every bias-corrected Adam step is lr g / (|g| + eps); missing corrections or eps inside the square root are not ---

START = np.array([1.0, -0.5, 2.0, 0.25])
GRADIENTS = {"order 1": np.array([0.5, -2.0, 1e-3, 3.0]),
             "below eps": 1e-10 * np.array([1.0, -3.0, 0.5, 2.0])}  # sqrt(v) + eps is mostly eps here


def adam_step(gradient, lr, eps=1e-8):
    return lr * gradient / (np.abs(gradient) + eps)


def steps_with_constant_gradient(optimizer_name, gradient, steps=3, **options):
    param = nn.Parameter(tinygen.tensor(START))
    adam = dict(betas=(0.8, 0.9), eps=1e-8) if optimizer_name != "SGD" else {}
    optimizer = getattr(optim, optimizer_name)([param], lr=0.1, **adam, **options)
    for _ in range(steps):
        param.grad = tinygen.tensor(gradient)
        optimizer.step()
    return param


@pytest.mark.parametrize("gradient", GRADIENTS.values(), ids=GRADIENTS.keys())
def test_adam_steps_with_a_constant_gradient_in_closed_form(gradient):
    assert_close(steps_with_constant_gradient("Adam", gradient), START - 3 * adam_step(gradient, 0.1), rtol=1e-12)


@pytest.mark.parametrize("gradient", GRADIENTS.values(), ids=GRADIENTS.keys())
def test_adamw_decays_the_weight_not_the_gradient(gradient):
    """AdamW: w <- w - lr wd w - lr g / (|g| + eps) each step; the decay never enters the moments."""
    expected = START
    for _ in range(3):
        expected = expected - 0.1 * 0.5 * expected - adam_step(gradient, 0.1)
    assert_close(steps_with_constant_gradient("AdamW", gradient, weight_decay=0.5), expected, rtol=1e-12)


def test_adam_weight_decay_is_added_to_the_gradient():
    """Adam (coupled decay), one step: g' = g + wd w, w <- w - lr g' / (|g'| + eps)."""
    gradient = GRADIENTS["order 1"] + 0.5 * START
    param = steps_with_constant_gradient("Adam", GRADIENTS["order 1"], steps=1, weight_decay=0.5)
    assert_close(param, START - adam_step(gradient, 0.1), rtol=1e-12)


G = GRADIENTS["order 1"]


@pytest.mark.parametrize("options, steps, expected", [
    # momentum buffer b_1 = g, b_2 = mu g + (1 - dampening) g
    (dict(momentum=0.9, dampening=0.3), 2, START - 0.1 * G - 0.1 * (0.9 + 0.7) * G),
    # nesterov steps along g + mu b: b_1 = g, b_2 = 1.9 g
    (dict(momentum=0.9, nesterov=True), 2, START - 0.1 * 1.9 * G - 0.1 * (1 + 0.9 * 1.9) * G),
    (dict(weight_decay=0.5), 1, START - 0.1 * (G + 0.5 * START)),
], ids=["dampening", "nesterov", "weight decay"])
def test_sgd_steps_in_closed_form(options, steps, expected):
    assert_close(steps_with_constant_gradient("SGD", G, steps=steps, **options), expected, rtol=1e-12)


def test_amsgrad_divides_by_the_largest_second_moment_so_far():
    """Gradients 1 then 0.1 (b1 0.8, b2 0.9): v_1 = 0.1 > v_2 = 0.091, so step 2 divides by sqrt(v_1 / (1 - b2^2))."""
    param = nn.Parameter(tinygen.tensor(np.zeros(1)))
    optimizer = optim.Adam([param], lr=0.1, betas=(0.8, 0.9), eps=1e-8, amsgrad=True)
    for gradient in (1.0, 0.1):
        param.grad = tinygen.tensor(np.array([gradient]))
        optimizer.step()
    first_moment = 0.8 * 0.2 + 0.2 * 0.1
    second_step = 0.1 * first_moment / (1 - 0.8**2) / (np.sqrt(0.1 / (1 - 0.9**2)) + 1e-8)
    assert_close(param, -adam_step(np.ones(1), 0.1) - second_step, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("optimizer_name, options", [("Adam", dict()), ("Adam", dict(amsgrad=True, weight_decay=0.1)),
                                                     ("AdamW", dict(weight_decay=0.1))])
def test_gradients_below_eps_match_torch(optimizer_name, options):
    """Gradients of order 1e-10, where eps (1e-8) dominates the denominator: where eps sits shows."""
    torch = pytest.importorskip("torch")
    gradients = 1e-10 * np.random.default_rng(4).normal(size=(5,) + START.shape)
    ours, theirs = nn.Parameter(tinygen.tensor(START)), torch.nn.Parameter(torch.tensor(START))
    our_optimizer = getattr(optim, optimizer_name)([ours], lr=0.1, **options)
    their_optimizer = getattr(torch.optim, optimizer_name)([theirs], lr=0.1, **options)
    for gradient in gradients:
        ours.grad, theirs.grad = tinygen.tensor(gradient), torch.tensor(gradient)
        our_optimizer.step()
        their_optimizer.step()
    assert_close(ours, theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("optimizer_name, options", [("SGD", dict(lr=0.05, momentum=0.9)),
                                                     ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01))])
def test_resuming_from_a_saved_state_continues_exactly(tmp_path, optimizer_name, options):
    uninterrupted, _ = train_tinygen(optimizer_name, options, steps=STEPS)
    first_half, optimizer = train_tinygen(optimizer_name, options, steps=STEPS // 2)
    save({"params": [p.detach() for p in first_half], "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")

    starts, targets, noise = problem()
    params = [nn.Parameter(saved.clone()) for saved in checkpoint["params"]]
    resumed = getattr(optim, optimizer_name)(params, lr=123.0)  # options come back from the checkpoint
    resumed.load_state_dict(checkpoint["optimizer"])
    assert resumed.param_groups[0]["lr"] == options["lr"]
    targets = [tinygen.tensor(t) for t in targets]
    for step in range(STEPS // 2, STEPS):
        resumed.zero_grad()
        sum(0.5 * ((p - t) ** 2).sum() + (p * tinygen.tensor(n)).sum()
            for p, t, n in zip(params, targets, noise[step])).backward()
        resumed.step()
    for resumed_p, uninterrupted_p in zip(params, uninterrupted):
        assert (host(resumed_p) == host(uninterrupted_p)).all()


@pytest.mark.parametrize("optimizer_name, options", [
    ("Adam", {}), ("Adam", dict(amsgrad=True, weight_decay=0.1, maximize=True)), ("AdamW", dict(weight_decay=0.1)),
])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_adam_in_cache_sized_pieces_gives_the_whole_arrays_numbers(monkeypatch, optimizer_name, options, layout):
    """A large parameter's update runs a piece of its arrays at a time (``backend.cache_piece`` numbers): five
    steps give the same parameters bit for bit as whole arrays, pieces of 7 numbers across a 5 x 9 weight too;
    a transposed parameter (no flat view) is updated whole, in place."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((9, 5) if layout == "transposed" else (5, 9)).astype(np.float32)
    gradients = [rng.standard_normal((5, 9)).astype(np.float32) for _ in range(5)]
    backend = tinygen.backend.get_backend("cpu")

    def five_steps(piece):
        monkeypatch.setattr(type(backend), "cache_piece", piece)
        weight = nn.Parameter(tinygen.tensor(start.T if layout == "transposed" else start))
        optimizer = getattr(optim, optimizer_name)([weight], lr=0.01, **options)
        for gradient in gradients:
            weight.grad = tinygen.tensor(gradient)
            optimizer.step()
        return host(weight).copy()

    whole, pieces = five_steps(None), five_steps(7)
    assert not np.array_equal(whole, start.T if layout == "transposed" else start)
    np.testing.assert_array_equal(pieces, whole)


def test_updates_are_in_place_keep_dtypes_and_bump_versions():
    for dtype in (tinygen.float32, tinygen.float64):
        weight = nn.Parameter(tinygen.ones(3, dtype=dtype))
        data, version = weight.array, weight._version[0]
        optimizer = optim.Adam([weight], lr=0.1, weight_decay=0.1, amsgrad=True)
        y = (weight * weight).sum()
        y.backward(retain_graph=True)
        optimizer.step()
        assert weight.array is data and weight.dtype == dtype and weight._version[0] == version + 1
        assert all(value.dtype == dtype for key, value in optimizer.state[weight].items() if key != "step")
        with pytest.raises(RuntimeError, match="modified in place"):
            y.backward()  # the graph saw the old weight


def test_parameters_without_gradients_are_skipped():
    used, unused = nn.Parameter(tinygen.ones(2)), nn.Parameter(tinygen.ones(2))
    optimizer = optim.SGD([used, unused], lr=0.5, momentum=0.9)
    (used * 2.0).sum().backward()
    optimizer.step()
    assert_close(used, np.zeros(2, dtype=np.float32))
    assert_close(unused, np.ones(2, dtype=np.float32))
    assert list(optimizer.state_dict()["state"]) == [0]


def test_zero_grad_and_closure():
    weight = nn.Parameter(tinygen.ones(2))
    optimizer = optim.SGD([weight], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (weight * weight).sum()
        loss.backward()
        return loss

    assert float(optimizer.step(closure)) == 2.0
    assert_close(weight, np.full(2, 0.8, dtype=np.float32))
    optimizer.zero_grad(set_to_none=False)
    assert (host(weight.grad) == 0).all()
    optimizer.zero_grad()
    assert weight.grad is None


def test_state_dict_structure_and_add_param_group():
    first, second = nn.Parameter(tinygen.ones(2)), nn.Parameter(tinygen.ones(3))
    optimizer = optim.Adam([first], lr=0.01)
    optimizer.add_param_group({"params": second, "lr": 0.5})
    assert optimizer.param_groups[1]["betas"] == (0.9, 0.999) and optimizer.param_groups[1]["lr"] == 0.5
    (first.sum() + second.sum()).backward()
    optimizer.step()
    state = optimizer.state_dict()
    assert [group["params"] for group in state["param_groups"]] == [[0], [1]]
    assert set(state["state"][1]) == {"step", "exp_avg", "exp_avg_sq"} and state["state"][1]["step"] == 1
    with pytest.raises(ValueError, match="parameter appears more than once"):
        optimizer.add_param_group({"params": [first]})
    with pytest.raises(ValueError, match="unknown option\\(s\\) \\['momentum'\\]"):
        optimizer.add_param_group({"params": [nn.Parameter(tinygen.ones(1))], "momentum": 0.9})


def test_load_state_dict_checks_groups_and_shapes():
    weight = nn.Parameter(tinygen.ones(2))
    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    weight.sum().backward()
    optimizer.step()
    state = optimizer.state_dict()
    other = optim.SGD([nn.Parameter(tinygen.ones(2)), nn.Parameter(tinygen.ones(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="parameter group 0 has 1 parameters in the saved state but 2 here"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="the saved state has 1 parameter groups, this optimizer has 2"):
        optim.SGD([{"params": [nn.Parameter(tinygen.ones(2))]}, {"params": [nn.Parameter(tinygen.ones(2))]}],
                  lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' has shape \(2,\) but its parameter has shape \(5,\)"):
        optim.SGD([nn.Parameter(tinygen.ones(5))], lr=0.1, momentum=0.9).load_state_dict(state)
    fresh = optim.SGD([nn.Parameter(tinygen.ones(2))], lr=0.1, momentum=0.9)
    fresh.load_state_dict(state)
    buffer = fresh.state_dict()["state"][0]["momentum_buffer"]
    assert buffer is not state["state"][0]["momentum_buffer"]  # a copy: the two optimizers don't share state
    assert_close(buffer, host(state["state"][0]["momentum_buffer"]))


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid learning rate -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "SGD: invalid momentum -1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov momentum needs momentum > 0 and dampening = 0"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam: invalid beta parameter at index 0: 1.0 \(must be in \[0, 1\)\)"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "AdamW: invalid beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Adam: invalid eps"),
    (lambda p: optim.Adam(p, betas=(0.9, 0.99, 0.9)), r"Adam: betas must be a pair \(beta1, beta2\)"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), "AdamW: invalid weight_decay"),
    (lambda p: optim.Adam([], lr=0.1), "Adam got an empty parameter list"),
    (lambda p: optim.Adam([tinygen.ones(2)]), "does not require grad"),
    (lambda p: optim.Adam([p[0] * 2.0]), "can't optimize a non-leaf tensor"),
])
def test_invalid_options_and_parameters_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter(tinygen.ones(2))])


def test_params_of_the_wrong_kind_are_type_errors():
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        optim.SGD(nn.Parameter(tinygen.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match="params must be an iterable of Tensors .* got int"):
        optim.SGD(3, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors \\(Parameters\\), got str"):
        optim.SGD(["weight"], lr=0.1)


def test_defaults_and_repr():
    optimizer = optim.AdamW(nn.Linear(2, 2).parameters())
    group = optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"], group["amsgrad"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 1e-2, False)
    assert optim.SGD(nn.Linear(2, 2).parameters()).param_groups[0]["lr"] == 1e-3
    assert "AdamW (\nParameter Group 0\n    amsgrad: False" in repr(optimizer)
