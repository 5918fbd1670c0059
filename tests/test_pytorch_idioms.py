"""A third probe with PyTorch scripts (a conditional GAN, a VAE with buffers, a training loop with a Dataset, tensor
idioms): what it found, each against PyTorch's answer (skipped without PyTorch) and without it."""
import numpy as np
import pytest

import tinygen
import tinygen.nn as nn
import tinygen.optim as optim

from helpers import host


# --- & | ^ ~ are bitwise on integer tensors (they were logical: tensor([1, 2, 3]) & 1 gave all True) ----------
def test_bitwise_operators_on_integer_tensors_are_bitwise():
    i = tinygen.tensor([1, 2, 3, -4])
    np.testing.assert_array_equal(host(i & 1), [1, 0, 1, 0])
    np.testing.assert_array_equal(host(i | 4), [5, 6, 7, -4])
    np.testing.assert_array_equal(host(i ^ 1), [0, 3, 2, -3])
    np.testing.assert_array_equal(host(~i), [-2, -3, -4, 3])
    np.testing.assert_array_equal(host(6 & i), [0, 2, 2, 4])
    for result in (i & 1, i | 4, i ^ 1, ~i, 6 & i):
        assert result.dtype == tinygen.int64 and not result.requires_grad
    assert (tinygen.tensor([1, 2], dtype=tinygen.int32) & tinygen.tensor([3, 3])).dtype == tinygen.int64


def test_bitwise_operators_on_bool_tensors_stay_logical():
    a, b = tinygen.tensor([True, True, False]), tinygen.tensor([True, False, False])
    np.testing.assert_array_equal(host(a & b), [True, False, False])
    np.testing.assert_array_equal(host(a | b), [True, True, False])
    np.testing.assert_array_equal(host(a ^ b), [False, True, False])
    np.testing.assert_array_equal(host(~a), [False, False, True])
    np.testing.assert_array_equal(host(True ^ a), [False, False, True])
    assert (a & b).dtype == tinygen.bool_


@pytest.mark.parametrize("apply", [lambda x: x & 1, lambda x: x | (x > 0), lambda x: 1 ^ x, lambda x: ~x],
                         ids=["and", "or", "rxor", "invert"])
def test_bitwise_operators_refuse_float_tensors(apply):
    with pytest.raises(TypeError, match="bitwise ops take bool or integer tensors, got float32"):
        apply(tinygen.tensor([0.5, 2.0]))


def test_bitwise_operators_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([[5, -3, 0], [7, 12, -1]])
    for op in (lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a & b):
        ours = op(tinygen.tensor(values), tinygen.tensor(values[::-1].copy()))
        theirs = op(torch.tensor(values), torch.tensor(values[::-1].copy()))
        np.testing.assert_array_equal(host(ours), theirs.numpy())


# --- an integer raised to an integer power stays an integer (2 ** arange(3) was float32) ----------------------
def test_integer_powers_of_integer_tensors_are_integers():
    i = tinygen.tensor([1, 2, 3])
    for result, expected in ((2 ** i, [2, 4, 8]), (i ** i, [1, 4, 27]), (i ** tinygen.tensor(2), [1, 4, 9])):
        assert result.dtype == tinygen.int64
        np.testing.assert_array_equal(host(result), expected)
    assert (2.0 ** i).dtype == tinygen.float32 and (i ** tinygen.tensor([0.5])).dtype == tinygen.float32
    with pytest.raises(RuntimeError, match="integers to negative integer powers are not allowed"):
        2 ** (-i)


def test_integer_powers_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([0, 1, 2, 5])
    for op in (lambda a: 3 ** a, lambda a: a ** a, lambda a: a ** 2, lambda a: 2.5 ** a, lambda a: a ** 0.5):
        ours, theirs = op(tinygen.tensor(values)), op(torch.tensor(values))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-6)


# --- an optimizer takes a frozen nn.Parameter (fine-tuning: freeze, then optim.Adam(model.parameters())) ----------
def _freeze_train_unfreeze(nn, optim, make_input, model):
    """Three Adam steps with the first layer frozen, three after unfreezing it; the weights at each stage."""
    for p in model[0].parameters():
        p.requires_grad = False
    optimizer = optim.Adam(model.parameters(), lr=0.1, weight_decay=0.01)
    seen = []
    for step in range(6):
        if step == 3:
            for p in model[0].parameters():
                p.requires_grad_(True)
        optimizer.zero_grad()
        model(make_input(step)).pow(2).mean().backward()
        optimizer.step()
        seen.append([p.detach().numpy().copy() for p in model.parameters()])
    return seen


def _two_layers(nn):
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_an_optimizer_passes_a_frozen_parameter_by_until_it_is_unfrozen():
    model = _two_layers(nn)
    first = [p.detach().numpy().copy() for p in model[0].parameters()]
    inputs = [tinygen.tensor(np.random.default_rng(s).normal(size=(5, 3)), dtype=tinygen.float32) for s in range(6)]
    seen = _freeze_train_unfreeze(nn, optim, lambda s: inputs[s], model)
    for stage in seen[:3]:  # frozen: unchanged (no gradient, so no weight decay either)
        for got, initial in zip(stage[:2], first):
            np.testing.assert_array_equal(got, initial)
    assert not np.array_equal(seen[0][2], seen[2][2])
    assert not np.array_equal(seen[5][0], first[0])  # unfrozen: it trains in the same optimizer
    with pytest.raises(ValueError, match="does not require grad"):  # a plain tensor still is an error
        optim.Adam([tinygen.ones(2)])
    with pytest.raises(ValueError, match="does not require grad"):
        optim.Adam([nn.Parameter(tinygen.ones(2, dtype=tinygen.int64), requires_grad=False)])


def test_a_frozen_then_unfrozen_layer_trains_as_in_pytorch():
    torch = pytest.importorskip("torch")
    from torch_oracle import copy_parameters

    ours, theirs = _two_layers(nn), _two_layers(torch.nn)
    copy_parameters(ours, theirs)
    values = [np.random.default_rng(s).normal(size=(5, 3)).astype(np.float32) for s in range(6)]
    seen = _freeze_train_unfreeze(nn, optim, lambda s: tinygen.tensor(values[s]), ours)
    expected = _freeze_train_unfreeze(torch.nn, torch.optim, lambda s: torch.tensor(values[s]), theirs)
    for stage, reference in zip(seen, expected):
        for got, want in zip(stage, reference):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# --- nonzero, argwhere and where(condition) alone (where(mask) said "missing 2 required positional arguments") --
NONZERO_INPUTS = [[[0, 1.5, 0], [2, 0, -1]], [0, 3, 0, 1], [[True, False]], 3.0, 0.0, [[0.0, 0.0]]]


@pytest.mark.parametrize("values", NONZERO_INPUTS, ids=range(len(NONZERO_INPUTS)))
def test_nonzero_and_where_of_a_condition_give_the_indices(values):
    x = tinygen.tensor(values, requires_grad=isinstance(values, list) and isinstance(values[0], list)
                       and isinstance(values[0][0], float))
    expected = np.argwhere(np.asarray(values)) if np.ndim(values) else np.zeros((int(values != 0), 0), np.int64)
    for result in (x.nonzero(), tinygen.nonzero(x), tinygen.argwhere(x), x.argwhere()):
        assert result.dtype == tinygen.int64 and not result.requires_grad
        np.testing.assert_array_equal(host(result), expected)
    pieces = tinygen.nonzero(x, as_tuple=True)
    assert len(pieces) == max(x.ndim, 1) and all(p.dtype == tinygen.int64 for p in pieces)
    if x.ndim:
        np.testing.assert_array_equal([host(p) for p in pieces], np.nonzero(np.asarray(values)))
        np.testing.assert_array_equal([host(p) for p in tinygen.where(x != 0)], np.nonzero(np.asarray(values)))
        np.testing.assert_array_equal(host(x[x.nonzero(as_tuple=True)]), np.asarray(values)[np.nonzero(values)])


@pytest.mark.parametrize("values", NONZERO_INPUTS, ids=range(len(NONZERO_INPUTS)))
def test_nonzero_and_where_of_a_condition_match_pytorch(values):
    torch = pytest.importorskip("torch")
    ours, theirs = tinygen.tensor(values), torch.tensor(values)
    assert tuple(ours.nonzero().shape) == tuple(theirs.nonzero().shape)
    np.testing.assert_array_equal(host(ours.nonzero()), theirs.nonzero().numpy())
    for got, want in zip(tinygen.where(ours != 0), torch.where(theirs != 0), strict=True):
        np.testing.assert_array_equal(host(got), want.numpy())


def test_where_with_one_value_says_to_give_both_or_neither():
    x = tinygen.tensor([1.0, -1.0])
    with pytest.raises(TypeError, match=r"give both values, where\(condition, input, other\), or neither"):
        tinygen.where(x > 0, x)


# --- add/sub take alpha, div takes rounding_mode (both were "unexpected keyword argument") ------------------
DIVIDENDS, DIVISORS = np.array([-7, -6, -1, 0, 1, 5, 7]), np.array([2, -2, 3, -3, 2, -4, 3])


@pytest.mark.parametrize("scale", [1, 1.5], ids=["int64", "float64"])
def test_div_rounding_modes_round_the_quotient_toward_zero_or_down(scale):
    a, b = DIVIDENDS * scale, DIVISORS * scale
    for mode, rounded in (("trunc", np.trunc), ("floor", np.floor)):
        for divisor in (tinygen.tensor(b), -2):
            result = tinygen.div(tinygen.tensor(a), divisor, rounding_mode=mode)
            assert result.dtype == (tinygen.int64 if scale == 1 else tinygen.float64)
            np.testing.assert_array_equal(host(result), rounded(a / (b if isinstance(divisor, tinygen.Tensor)
                                                                        else divisor)))
    assert tinygen.tensor(a).div(tinygen.tensor(b), rounding_mode=None).dtype.kind == "f"
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        tinygen.div(tinygen.tensor(a), 2, rounding_mode="round")
    with pytest.raises(ZeroDivisionError, match="div: integer division by zero"):
        tinygen.div(tinygen.tensor([1, 2]), tinygen.tensor([1, 0]), rounding_mode="trunc")


def test_rounded_quotients_have_zero_gradients():
    a = tinygen.tensor(DIVIDENDS * 1.5, requires_grad=True)
    for mode in ("trunc", "floor"):
        a.grad = None
        a.div(0.7, rounding_mode=mode).sum().backward()
        np.testing.assert_array_equal(host(a.grad), np.zeros(len(DIVIDENDS)))


def test_div_rounding_modes_match_pytorch():
    torch = pytest.importorskip("torch")
    for a, b in ((DIVIDENDS, DIVISORS), (DIVIDENDS * 1.5, DIVISORS * 0.7), (DIVIDENDS, 2), (DIVIDENDS * 1.0, -2.5)):
        for mode in ("trunc", "floor"):
            ours = tinygen.div(tinygen.tensor(a), tinygen.tensor(b) if np.ndim(b) else b, rounding_mode=mode)
            theirs = torch.div(torch.tensor(a), torch.tensor(b) if np.ndim(b) else b, rounding_mode=mode)
            assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]
            np.testing.assert_array_equal(host(ours), theirs.numpy())


def test_add_and_sub_take_alpha_with_gradients():
    from tinygen.testing import gradcheck, gradgradcheck

    from helpers import random_tensor

    x = random_tensor((4, 3), seed=1).t()  # non-contiguous
    y = random_tensor((3, 4), seed=2)
    np.testing.assert_allclose(host(tinygen.add(x, y, alpha=2.5)), host(x) + 2.5 * host(y))
    np.testing.assert_allclose(host(x.sub(y, alpha=-0.5)), host(x) + 0.5 * host(y))
    np.testing.assert_array_equal(host(tinygen.sub(tinygen.tensor([5, 7]), tinygen.tensor([1, 2]), alpha=3)), [2, 1])
    for function in (lambda a, b: tinygen.add(a, b, alpha=2.5), lambda a, b: a.sub(b, alpha=-0.5)):
        gradcheck(function, [x, y])
        gradgradcheck(function, [x, y])


def test_add_and_sub_with_alpha_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = np.random.default_rng(0).normal(size=(2, 3, 4))
    for alpha in (2, -0.5):
        np.testing.assert_allclose(host(tinygen.add(tinygen.tensor(a), tinygen.tensor(b), alpha=alpha)),
                                   torch.add(torch.tensor(a), torch.tensor(b), alpha=alpha).numpy())
        np.testing.assert_allclose(host(tinygen.tensor(a).sub(tinygen.tensor(b), alpha=alpha)),
                                   torch.tensor(a).sub(torch.tensor(b), alpha=alpha).numpy())


# --- forward hooks (net[1].register_forward_hook(save_activation) was "no attribute") ---------------------------
def _hooked_run(net, make_input):
    """On a Linear-ReLU-Linear ``net``: a forward hook that records, a pre-hook that doubles the input, a hook that
    replaces an output; the recorded activation, the output with the hooks and the output after removing them."""
    seen = {}
    record = net[1].register_forward_hook(lambda module, args, output: seen.setdefault("relu", output.detach()))
    double = net[0].register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    negate = net[2].register_forward_hook(lambda module, args, output: -output)
    hooked = net(make_input())
    for handle in (record, double, negate):
        handle.remove()
    handle.remove()  # twice is harmless
    return seen["relu"], hooked, net(make_input())


def _three_layers(nn):
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_forward_hooks_see_change_and_stop_after_remove():
    values = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    net = _three_layers(nn)
    relu, hooked, plain = _hooked_run(net, lambda: tinygen.tensor(values))
    w0, b0, w2, b2 = (host(p) for p in net.parameters())
    hidden = np.maximum(2 * values @ w0.T + b0, 0)
    np.testing.assert_allclose(host(relu), hidden, rtol=1e-6)
    np.testing.assert_allclose(host(hooked), -(hidden @ w2.T + b2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(plain), np.maximum(values @ w0.T + b0, 0) @ w2.T + b2, rtol=1e-5, atol=1e-6)
    layer, calls = nn.Linear(2, 2), []
    with layer.register_forward_hook(lambda module, args, output: calls.append(module)):
        layer(tinygen.ones(1, 2))
    layer(tinygen.ones(1, 2))
    assert calls == [layer]
    with pytest.raises(TypeError, match="a forward hook must be callable"):
        layer.register_forward_hook(None)


def test_a_forward_hook_output_carries_gradients():
    layer = nn.Linear(3, 2)
    layer.register_forward_hook(lambda module, args, output: output * 3)
    x = tinygen.ones(1, 3, requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 3 * host(layer.weight).sum(axis=0, keepdims=True), rtol=1e-6)


def test_forward_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    from torch_oracle import copy_parameters

    values = np.random.default_rng(1).normal(size=(2, 3)).astype(np.float32)
    ours, theirs = _three_layers(nn), _three_layers(torch.nn)
    copy_parameters(ours, theirs)
    for got, want in zip(_hooked_run(ours, lambda: tinygen.tensor(values)),
                         _hooked_run(theirs, lambda: torch.tensor(values)), strict=True):
        np.testing.assert_allclose(host(got), want.detach().numpy(), rtol=1e-5, atol=1e-6)


# --- log1p, expm1, reciprocal (functions and methods; all three were missing) --------------------------------
@pytest.mark.parametrize("name, reference, low", [("log1p", np.log1p, -0.8), ("expm1", np.expm1, -2.0),
                                                  ("reciprocal", np.reciprocal, 0.3)])
def test_log1p_expm1_reciprocal_values_and_gradients_on_a_non_contiguous_input(name, reference, low):
    from helpers import check_values_and_gradients, random_tensor

    x = random_tensor((4, 3), seed=3, low=low, high=2.0).t()  # non-contiguous
    check_values_and_gradients(getattr(tinygen, name), reference, x, rtol=1e-12)
    check_values_and_gradients(lambda t: getattr(t, name)(), reference, x, rtol=1e-12)
    assert getattr(tinygen.tensor([1, 2]), name)().dtype == tinygen.float32  # integers give floats


@pytest.mark.parametrize("name", ["log1p", "expm1", "reciprocal"])
def test_log1p_expm1_reciprocal_match_pytorch(name):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(4).uniform(0.1, 2.0, size=(3, 4)).astype(np.float32)
    ours, theirs = tinygen.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    upstream = np.random.default_rng(5).normal(size=(3, 4)).astype(np.float32)
    getattr(ours, name)().backward(tinygen.tensor(upstream))
    getattr(torch, name)(theirs).backward(torch.tensor(upstream))
    np.testing.assert_allclose(host(getattr(tinygen, name)(ours)), getattr(theirs, name)().detach().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-5)


# --- cat leaves out 1-D empty tensors (the accumulator idiom: preds = cat([preds, batch_preds]) from tensor([])) --
def test_cat_leaves_out_one_dimensional_empty_tensors():
    rows = tinygen.tensor(np.arange(6.0).reshape(2, 3), dtype=tinygen.float64, requires_grad=True)
    collected = tinygen.tensor([])
    for _ in range(2):
        collected = tinygen.cat([collected, rows * 2], dim=0)
    assert collected.shape == (4, 3) and collected.dtype == tinygen.float64
    np.testing.assert_array_equal(host(collected), np.tile(np.arange(6.0).reshape(2, 3) * 2, (2, 1)))
    collected.sum().backward()
    np.testing.assert_array_equal(host(rows.grad), np.full((2, 3), 4.0))
    labels = tinygen.cat([tinygen.tensor([]), tinygen.tensor([[1, 2]])], dim=1)  # dim past the empty's own dims
    assert labels.shape == (1, 2) and labels.dtype == tinygen.float32  # the empty float32 takes part in the dtype
    assert tinygen.cat([tinygen.tensor([]), tinygen.tensor([])]).shape == (0,)
    with pytest.raises(ValueError, match="differ outside dim 0"):  # a 2-D empty is not left out
        tinygen.cat([tinygen.zeros(0, 2), tinygen.zeros(2, 3)])


def test_cat_with_empty_tensors_matches_pytorch():
    torch = pytest.importorskip("torch")
    cases = [([np.zeros(0, np.float32), np.ones((2, 3), np.float32)], 0),
             ([np.ones((2, 3), np.int64), np.zeros(0, np.float32), np.ones((2, 1), np.int64)], 1),
             ([np.zeros(0, np.float32), np.arange(3.0, dtype=np.float32)], 0)]
    for arrays, dim in cases:
        ours = tinygen.cat([tinygen.tensor(a) for a in arrays], dim=dim)
        theirs = torch.cat([torch.tensor(a) for a in arrays], dim=dim)
        assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(host(ours), theirs.numpy())


# --- clamp takes tensor bounds (x.clamp(min=lower) with a per-feature tensor was "min must be a real number") -----
CLAMP_X = np.array([[-2.0, 0.5, 1.3, 3.0], [0.2, 2.4, -1.0, 5.0]])
CLAMP_LOW, CLAMP_HIGH = np.array([0.1, 0.7, 0.8, 1.1]), np.array([[1.2], [2.1]])


@pytest.mark.parametrize("bounds", ["min", "max", "both"])
def test_clamp_with_tensor_bounds_values_and_gradients(bounds):
    from tinygen.testing import gradcheck, gradgradcheck

    from helpers import check_values_and_gradients

    low = tinygen.tensor(CLAMP_LOW, requires_grad=True) if bounds != "max" else None
    high = tinygen.tensor(CLAMP_HIGH, requires_grad=True) if bounds != "min" else None
    x = tinygen.tensor(CLAMP_X.T.copy(), requires_grad=True).t()  # non-contiguous, off the bounds' values
    reference = lambda a: np.clip(a, CLAMP_LOW if low is not None else None, CLAMP_HIGH if high is not None else None)
    check_values_and_gradients(lambda t: t.clamp(min=low, max=high), reference, x)
    bound_tensors = [b for b in (low, high) if b is not None]

    def function(t, *given):  # the bounds as inputs too
        given = iter(given)
        return tinygen.clamp(t, next(given) if low is not None else None, next(given) if high is not None else None)

    gradcheck(function, [x] + bound_tensors)
    gradgradcheck(function, [x] + bound_tensors)


def test_clamp_with_tensor_bounds_names_itself_for_a_bound_of_another_shape_or_device():
    x = tinygen.tensor([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"clamp: shapes \(1, 2\) and \(3,\) cannot be broadcast"):
        x.clamp(min=tinygen.tensor([1.0, 2.0, 3.0]))
    from tinygen.autograd.function import DeviceMismatchError

    on_cpu, on_strict = tinygen.tensor([1.0, 2.0], device="cpu"), tinygen.tensor([1.0, 2.0], device="strict")
    with pytest.raises(DeviceMismatchError, match="clamp: expected all tensors on one device"):
        tinygen.clamp(on_cpu, max=on_strict)


def test_clamp_with_tensor_bounds_matches_pytorch():
    torch = pytest.importorskip("torch")
    upstream = np.arange(8.0).reshape(2, 4)
    for bounds in ({"min": CLAMP_LOW}, {"max": CLAMP_HIGH}, {"min": CLAMP_LOW, "max": CLAMP_HIGH},
                   {"min": np.array([-2.0, 0.5, 1.0, 3.0])}):  # ties: x's gradient passes at x == min
        x, tx = tinygen.tensor(CLAMP_X, requires_grad=True), torch.tensor(CLAMP_X, requires_grad=True)
        ours = {k: tinygen.tensor(v, requires_grad=True) for k, v in bounds.items()}
        theirs = {k: torch.tensor(v, requires_grad=True) for k, v in bounds.items()}
        result, expected = x.clamp(**ours), torch.clamp(tx, **theirs)
        result.backward(tinygen.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(host(result), expected.detach().numpy())
        np.testing.assert_array_equal(host(x.grad), tx.grad.numpy())
        for key in bounds:
            np.testing.assert_array_equal(host(ours[key].grad), theirs[key].grad.numpy())


# --- sign(nan) is 0, as PyTorch's (it was NaN, NumPy's answer) ------------------------------------------------
def test_sign_of_nan_is_zero():
    values = [float("nan"), -0.0, -3.0, 2.0, float("inf")]
    for dtype in (tinygen.float32, tinygen.float64):
        result = tinygen.tensor(values, dtype=dtype).sign()
        assert result.dtype == dtype
        np.testing.assert_array_equal(host(result), [0.0, 0.0, -1.0, 1.0, 1.0])
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(host(tinygen.sign(tinygen.tensor(values))), torch.sign(torch.tensor(values)).numpy())


# --- utils.data.WeightedRandomSampler (oversampling a rare class: it was missing, with no pointer to the docs) -----
def test_weighted_random_sampler_draws_by_weight():
    from tinygen.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

    tinygen.manual_seed(0)
    sampler = WeightedRandomSampler([1.0, 3.0, 0.0, 4.0], num_samples=8000)
    draws = list(sampler)
    assert len(sampler) == len(draws) == 8000 and all(isinstance(i, int) for i in draws)
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 8000, [0.125, 0.375, 0.0, 0.5], atol=0.02)
    tinygen.manual_seed(0)
    assert list(sampler) == draws  # the seed fixes the draws
    distinct = list(WeightedRandomSampler(tinygen.tensor([1.0, 1.0, 0.0, 2.0]), 3, replacement=False))
    assert sorted(distinct) == [0, 1, 3]
    data = TensorDataset(tinygen.arange(4.0), tinygen.tensor([0, 1, 1, 1]))
    (values, labels), = list(DataLoader(data, batch_size=6, sampler=WeightedRandomSampler([1, 0, 0, 0], 6)))
    np.testing.assert_array_equal(host(values), np.zeros(6))


@pytest.mark.parametrize("arguments, message", [
    (([1.0, 2.0], 0), "num_samples must be a positive integer"),
    (([[1.0, 2.0]], 2), "weights must be a non-empty 1-D sequence"),
    (([1.0, -1.0], 2), "weights must be finite, non-negative and not all zero"),
    (([0.0, 0.0], 2), "weights must be finite, non-negative and not all zero"),
    (([1.0, 0.0, 1.0], 3, False), "cannot draw 3 samples without replacement from 2 nonzero weights"),
])
def test_weighted_random_sampler_errors(arguments, message):
    from tinygen.utils.data import WeightedRandomSampler

    with pytest.raises(ValueError, match=message):
        WeightedRandomSampler(*arguments)


def test_a_missing_utils_data_name_says_tinygen_does_not_have_it():
    import tinygen.utils.data

    with pytest.raises(AttributeError, match="module 'tinygen.utils.data' has no attribute 'IterableDataset': "
                                             "tinygen does not have it"):
        tinygen.utils.data.IterableDataset


# --- names tinygen lacks that the probe's scripts reached for say what to use ------------------------------------
@pytest.mark.parametrize("get, hint", [
    (lambda: tinygen.linalg, "tinygen.norm(x, p, dim, keepdim) gives linalg.norm"),
    (lambda: nn.LSTM, "write the cell with nn.Linear and a loop over time"),
    (lambda: nn.TransformerEncoderLayer, "F.scaled_dot_product_attention"),
    (lambda: tinygen.zeros(3).scatter_add, "F.one_hot(index, n).T.float() @ src"),
    (lambda: tinygen.zeros(3).index_add_, "F.one_hot(index, n).T.float() @ src"),
    (lambda: tinygen.zeros(3).register_hook, "tinygen's autograd has no tensor hooks"),
    (lambda: optim.lr_scheduler.CosineAnnealingWarmRestarts, "write the schedule as a LambdaLR"),
    (lambda: nn.utils.rnn, "pad sequences to one length with F.pad and tinygen.stack"),
    (lambda: nn.utils.parameters_to_vector, "tinygen.cat([p.reshape(-1) for p in parameters])"),
    (lambda: nn.utils.clip_grad_norm, "use nn.utils.clip_grad_norm_"),
    (lambda: tinygen.use_deterministic_algorithms, "tinygen's CPU ops are deterministic"),
    (lambda: tinygen.get_rng_state, "tinygen.random.default_generator().get_state()"),
])
def test_missing_names_from_the_probe_say_what_to_use(get, hint):
    with pytest.raises(AttributeError, match="tinygen does not have it|tinygen's Tensor does not have it") as error:
        get()
    assert hint in str(error.value)


def test_the_scatter_add_hint_computes_scatter_add():
    import tinygen.nn.functional as F

    index, source = tinygen.tensor([0, 2, 0, 1]), tinygen.tensor([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(host(F.one_hot(index, 3).T.float() @ source), [4.0, 4.0, 2.0])


# --- SGD, Adam and AdamW take maximize (RMSprop, Adagrad and Adadelta had it; these said "unexpected keyword") ----
def _ascend(optim, nn, tensor, make):
    """Ten steps that ascend -(tanh(x w + b))^2's mean from fixed data; the final w and b."""
    rng = np.random.default_rng(0)
    w = nn.Parameter(tensor(rng.normal(size=(3, 4))))
    b = nn.Parameter(tensor(rng.normal(size=4)))
    optimizer = make(optim, [w, b])
    for _ in range(10):
        optimizer.zero_grad()
        (-(tensor(rng.normal(size=(5, 3))) @ w + b).tanh().pow(2).mean()).backward()
        optimizer.step()
    return w.detach().numpy(), b.detach().numpy()


MAXIMIZING = [lambda optim, p: optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.01, maximize=True),
              lambda optim, p: optim.Adam(p, lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True),
              lambda optim, p: optim.AdamW(p, lr=0.05, maximize=True)]


@pytest.mark.parametrize("make", MAXIMIZING, ids=["SGD", "Adam", "AdamW"])
def test_maximize_ascends_as_minimizing_the_negation(make):
    maximized = _ascend(optim, nn, lambda v: tinygen.tensor(v), make)

    def negated(optim, params):  # the same optimizer on the objective negated back, without maximize
        optimizer = make(optim, params)
        for group in optimizer.param_groups:
            group["maximize"] = False
        return _NegatedGradients(optimizer)

    for got, want in zip(maximized, _ascend(optim, nn, lambda v: tinygen.tensor(v), negated)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    saved = make(optim, [nn.Parameter(tinygen.ones(2))]).state_dict()
    assert saved["param_groups"][0]["maximize"] is True


class _NegatedGradients:
    """An optimizer whose step first negates every gradient (what maximize should amount to)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def zero_grad(self):
        self.optimizer.zero_grad()

    def step(self):
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.grad = -p.grad
        self.optimizer.step()


@pytest.mark.parametrize("make", MAXIMIZING, ids=["SGD", "Adam", "AdamW"])
def test_maximize_matches_pytorch(make):
    torch = pytest.importorskip("torch")
    ours = _ascend(optim, nn, lambda v: tinygen.tensor(v), make)
    theirs = _ascend(torch.optim, torch.nn, lambda v: torch.tensor(v), make)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-10)


# --- Module.half() and get_submodule (model.half() was "no attribute", though x.half() works) ------------------
def test_module_half_and_get_submodule():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)))
    assert model.half() is model
    assert all(p.dtype == tinygen.float16 for p in model.parameters())
    assert model[1][1].running_mean.dtype == tinygen.float16 and model[1][1].num_batches_tracked.dtype == tinygen.int64
    assert model.get_submodule("1.1") is model[1][1] and model.get_submodule("") is model
    with pytest.raises(AttributeError, match="Sequential has no submodule '2' \\(looking up '1.2'\\)"):
        model.get_submodule("1.2")


# --- amp: autocast and GradScaler (from torch.cuda.amp import GradScaler, autocast failed at the import) ----------
def _scaled_training(torch, model, optim, tensor, scaler, inf_at=(2,)):
    """Six steps of a scaled loop on ``model``, a ``Linear(3, 2)`` (an inf put into a gradient at the steps in
    ``inf_at``); the weights after each step and the scale before each."""
    with torch.no_grad():
        model.weight.copy_(tensor(np.arange(6.0).reshape(2, 3) / 10))
        model.bias.copy_(tensor(np.array([0.1, -0.2])))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen = []
    for step in range(6):
        optimizer.zero_grad()
        with torch.autocast(device_type="cpu", enabled=False):
            loss = model(tensor(np.random.default_rng(step).normal(size=(4, 3)))).pow(2).mean()
        seen.append(scaler.get_scale())
        scaler.scale(loss).backward()
        if step in inf_at:
            with torch.no_grad():
                model.bias.grad[0] = float("inf")
        scaler.step(optimizer)
        scaler.update()
        seen.append(model.weight.detach().numpy().copy())
    return seen


def _scaler(module):
    return module.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)


def test_grad_scaler_skips_a_step_with_an_inf_and_adjusts_its_scale():
    import tinygen.optim as optim

    tensor = lambda values: tinygen.tensor(values, dtype=tinygen.float32)  # noqa: E731
    seen = _scaled_training(tinygen, nn.Linear(3, 2), optim, tensor, _scaler(tinygen))
    scales = seen[0::2]
    assert scales == [1024.0, 1024.0, 2048.0, 1024.0, 1024.0, 2048.0]  # grows every 2 clean steps, halves on inf
    np.testing.assert_array_equal(seen[5], seen[3])  # the step with the inf was skipped
    unscaled = _scaled_training(tinygen, nn.Linear(3, 2), optim, tensor, tinygen.amp.GradScaler("cpu", enabled=False),
                                inf_at=())
    scaled_clean = _scaled_training(tinygen, nn.Linear(3, 2), optim, tensor, _scaler(tinygen), inf_at=())
    for got, want in zip(scaled_clean[1::2], unscaled[1::2]):  # scales are powers of 2: unscaling is exact
        np.testing.assert_array_equal(got, want)


def test_grad_scaler_and_autocast_match_pytorch():
    """In float64, so that what is compared is the scaler's logic (the scales, the skipped step): in float32 a weight
    that six steps bring from 0.3 to 0.01 keeps two libraries' rounding differences at 2e-6 of its size."""
    torch = pytest.importorskip("torch")
    import tinygen.optim as optim

    ours = _scaled_training(tinygen, nn.Linear(3, 2).double(), optim,
                            lambda v: tinygen.tensor(v, dtype=tinygen.float64), _scaler(tinygen))
    theirs = _scaled_training(torch, torch.nn.Linear(3, 2).double(), torch.optim,
                              lambda v: torch.tensor(v, dtype=torch.float64), _scaler(torch))
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_grad_scaler_passes_through_when_disabled_and_checks_its_calls():
    from tinygen.cuda.amp import GradScaler, autocast

    if not tinygen.cuda.is_available():
        with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available; disabling"):
            assert not GradScaler().is_enabled()
    scaler = tinygen.amp.GradScaler("cpu", enabled=False)
    loss = tinygen.tensor(2.0)
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    with autocast(enabled=False):
        pass
    layer = nn.Linear(2, 1)
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    scaler = tinygen.amp.GradScaler("cpu")
    scaler.scale(layer(tinygen.ones(1, 2)).sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called on this optimizer"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last update"):
        scaler.step(optimizer)
    scaler.update()
    assert scaler.state_dict()["scale"] == 2.0 ** 16 and scaler.state_dict()["_growth_tracker"] == 1
    with pytest.warns(UserWarning, match="tinygen has no mixed precision"):
        tinygen.amp._warned.clear()
        with tinygen.autocast("cpu"):
            pass


# --- x += y on a tensor a graph computed (ResNet's out += identity raised); a requires-grad value written into a
# --- tensor that does not require grad is refused (its gradient was silently lost) ----------------------------------
def _residual(torch, tensor):
    """out = x w^T; out += x[:, :2]; out *= 3; relu: the output and the gradients of w and x."""
    w = tensor(np.arange(6.0).reshape(2, 3) / 10 - 0.2)
    x = tensor(np.random.default_rng(0).normal(size=(4, 3)))
    out = x @ w.t()
    out += x[:, :2]
    out *= 3
    out -= 0.5
    out /= 2
    out = torch.relu(out)
    out.backward(tensor(np.random.default_rng(1).normal(size=(4, 2)), requires_grad=False))
    return out.detach().numpy(), w.grad.numpy(), x.grad.numpy()


def test_augmented_assignment_in_a_graph_gives_the_values_and_gradients_of_the_out_of_place_ops():
    from tinygen.testing import gradcheck

    tensor = lambda values, requires_grad=True: tinygen.tensor(values, requires_grad=requires_grad)  # noqa: E731
    out, w_grad, x_grad = _residual(tinygen, tensor)
    w = np.arange(6.0).reshape(2, 3) / 10 - 0.2
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(out, np.maximum((3 * (x @ w.T + x[:, :2]) - 0.5) / 2, 0), rtol=1e-12)

    def residual(x, w):
        out = x @ w.t()
        out += x[:, :2]
        out *= x[:, 1:]
        return out

    gradcheck(residual, [tinygen.tensor(x, requires_grad=True), tinygen.tensor(w, requires_grad=True)])
    leaf = tinygen.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: in-place change of a tensor that requires grad"):
        leaf += 1  # a leaf that requires grad: refused, as in PyTorch
    buffer = tinygen.zeros(2)
    buffer += tinygen.ones(2)  # no graph involved: in place, as before
    same = buffer
    buffer += 1
    assert buffer is same and host(same).tolist() == [2.0, 2.0]


def test_augmented_assignment_in_a_graph_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = _residual(tinygen, lambda v, requires_grad=True: tinygen.tensor(v, requires_grad=requires_grad))
    theirs = _residual(torch, lambda v, requires_grad=True: torch.tensor(v, requires_grad=requires_grad))
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("write", [
    lambda out, w: out.__setitem__(0, w * 2),
    lambda out, w: out[0].copy_(w),
    lambda out, w: out.add_(w),
    lambda out, w: out.mul_(w),
    lambda out, w: out.div_(w),
    lambda out, w: out.masked_fill_(out == 0, w.sum()),
    lambda out, w: out.__iadd__(w),
], ids=["setitem", "copy_", "add_", "mul_", "div_", "masked_fill_", "iadd"])
def test_writing_a_value_that_requires_grad_into_a_plain_tensor_is_refused(write):
    w = tinygen.ones(3, requires_grad=True)
    out = tinygen.zeros(2, 3)
    with pytest.raises(RuntimeError, match="the value requires grad but the tensor written into does not, so the "
                                           "gradient through the write would be lost"):
        write(out, w)
    np.testing.assert_array_equal(host(out), np.zeros((2, 3)))  # nothing written
    with tinygen.no_grad():  # outside a graph the write is plain data, as before
        write(out, w)
    write(out, w.detach())


# --- a range indexes as its list (log_probs[range(N), targets], a hand-written NLL, was "unsupported index") --------
def test_range_indexes_like_the_list_of_its_values_with_gradients():
    from tinygen.testing import gradcheck

    values = np.arange(12.0).reshape(3, 4)
    x = tinygen.tensor(values)
    targets = tinygen.tensor([3, 0, 2])
    np.testing.assert_array_equal(host(x[range(3), targets]), values[[0, 1, 2], [3, 0, 2]])
    np.testing.assert_array_equal(host(x[:, range(1, 4, 2)]), values[:, [1, 3]])
    assert x[range(0)].shape == (0, 4)
    picked = tinygen.zeros(3, 3)
    picked[range(3), range(3)] = 1.0
    np.testing.assert_array_equal(host(picked), np.eye(3))
    log_probs = tinygen.tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    gradcheck(lambda t: -t.log_softmax(1)[range(3), targets].mean(), [log_probs])
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(host(x[range(3), targets]), torch.tensor(values)[range(3), torch.tensor([3, 0, 2])])


# --- checkpoints: NumPy scalars are stored as numbers; a map_location function and a whole model get clear errors ---
def test_checkpoints_take_numpy_scalars_and_say_what_to_do_for_a_model_or_a_map_location_function(tmp_path):
    state = {"loss": np.float32(0.25), "epoch": np.int64(3), "done": np.bool_(True), "steps": [np.float64(1.5)]}
    tinygen.save(state, tmp_path / "c.pt")
    loaded = tinygen.load(tmp_path / "c.pt")
    assert loaded == {"loss": 0.25, "epoch": 3, "done": True, "steps": [1.5]}
    assert type(loaded["epoch"]) is int and type(loaded["done"]) is bool
    with pytest.raises(TypeError, match=r"save its state_dict\(\) and load that into a new instance"):
        tinygen.save(nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(TypeError, match="cannot store a numpy.ndarray"):
        tinygen.save({"a": np.arange(3)}, tmp_path / "a.pt")
    for remap in (lambda storage, location: storage, {"cuda:0": "cpu"}):
        with pytest.raises(TypeError, match="tinygen loads every tensor onto one device: pass a device, e.g. "
                                            "map_location='cpu'"):
            tinygen.load(tmp_path / "c.pt", map_location=remap)


# --- cross_entropy / nll_loss take PyTorch's K-dimensional form (per-pixel or per-token classes were refused) -------
K_DIM_SETTINGS = [{}, {"reduction": "none"}, {"reduction": "sum", "weight": [1.0, 2.0, 0.5]},
                  {"label_smoothing": 0.1, "weight": [1.0, 2.0, 0.5]}, {"ignore_index": 1}]


def _k_dim_case(settings, seed=0):
    """Logits (2, 3, 4, 3) and targets (2, 4, 3); one target is ignored (-100, or the ignore_index given)."""
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 3, (2, 4, 3))
    target[0, 0, 0] = settings.get("ignore_index", -100)
    return rng.normal(size=(2, 3, 4, 3)), target


@pytest.mark.parametrize("settings", K_DIM_SETTINGS, ids=range(len(K_DIM_SETTINGS)))
def test_k_dimensional_cross_entropy_is_the_loss_over_all_positions(settings):
    import tinygen.nn.functional as F
    from tinygen.testing import gradcheck, gradgradcheck

    logits, target = _k_dim_case(settings)
    options = {k: tinygen.tensor(v, dtype=tinygen.float64) if k == "weight" else v for k, v in settings.items()}
    flat_logits = logits.transpose(0, 2, 3, 1).reshape(-1, 3)
    ours = F.cross_entropy(tinygen.tensor(logits), tinygen.tensor(target), **options)
    flat = F.cross_entropy(tinygen.tensor(flat_logits), tinygen.tensor(target.reshape(-1)), **options)
    if settings.get("reduction") == "none":
        assert ours.shape == target.shape
        flat = flat.reshape(target.shape)
    np.testing.assert_allclose(host(ours), host(flat), rtol=1e-12)
    x = tinygen.tensor(logits.transpose(0, 1, 3, 2).copy(), requires_grad=True).transpose(2, 3)  # non-contiguous
    labels = tinygen.tensor(target)
    nll_options = {k: v for k, v in options.items() if k != "label_smoothing"}
    for loss in (lambda t: F.cross_entropy(t, labels, **options), lambda t: F.nll_loss(t.log_softmax(1), labels,
                                                                                      **nll_options)):
        gradcheck(loss, [x])
        gradgradcheck(loss, [x])
    np.testing.assert_allclose(host(nn.CrossEntropyLoss(**options)(tinygen.tensor(logits), labels)), host(ours),
                               rtol=1e-12)


@pytest.mark.parametrize("settings", K_DIM_SETTINGS, ids=range(len(K_DIM_SETTINGS)))
def test_k_dimensional_cross_entropy_matches_pytorch(settings):
    torch = pytest.importorskip("torch")
    import tinygen.nn.functional as F

    logits, target = _k_dim_case(settings, 1)
    ours_x, theirs_x = tinygen.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    ours = F.cross_entropy(ours_x, tinygen.tensor(target), **{k: tinygen.tensor(v) if k == "weight" else v
                                                              for k, v in settings.items()})
    theirs = torch.nn.functional.cross_entropy(theirs_x, torch.tensor(target), **{
        k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in settings.items()})
    upstream = np.random.default_rng(2).normal(size=tuple(theirs.shape))
    ours.backward(tinygen.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(ours_x.grad), theirs_x.grad.numpy(), rtol=1e-10, atol=1e-14)
