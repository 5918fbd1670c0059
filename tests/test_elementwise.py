"""Elementwise ops: gradients first (float64 finite differences, random upstream gradients, first and second
order, drawn shapes, strided layouts), then forward values against NumPy, then edge cases and bad input."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.ops.elementwise import (SigmoidBackward, TanhBackward, leaky_relu_reference, sigmoid_backward_reference,
                                     tanh_backward_reference)
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor

# name -> (tinygen function, NumPy reference, strategy options keeping inputs in the domain and off kinks)
UNARY = {
    "exp": (tinygen.exp, np.exp, {}),
    "log": (tinygen.log, np.log, dict(low=0.1, high=3.0)),
    "sqrt": (tinygen.sqrt, np.sqrt, dict(low=0.1, high=3.0)),
    "abs": (tinygen.abs, np.abs, dict(away_from=(0.0,))),
    "tanh": (tinygen.tanh, np.tanh, {}),
    "sigmoid": (tinygen.sigmoid, lambda x: 1 / (1 + np.exp(-x)), {}),
    "relu": (tinygen.relu, lambda x: np.maximum(x, 0), dict(away_from=(0.0,))),
    "leaky_relu": (lambda x: tinygen.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), dict(away_from=(0.0,))),
    "elu": (lambda x: tinygen.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0))),
            dict(away_from=(0.0,))),
    "softplus": (tinygen.softplus, lambda x: np.log1p(np.exp(x)), {}),
    "softplus_beta": (lambda x: tinygen.softplus(x, beta=2.0, threshold=3.0),
                      lambda x: np.where(2 * x > 3.0, x, np.log1p(np.exp(2 * x)) / 2), dict(away_from=(1.5,))),
    "clamp": (lambda x: tinygen.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), dict(away_from=(-0.5, 0.7))),
    "clamp_min": (lambda x: x.clamp(min=0.3), lambda x: np.maximum(x, 0.3), dict(away_from=(0.3,))),
    "neg": (lambda x: -x, np.negative, {}),
    "square": (lambda x: x ** 2, np.square, {}),
    "cube": (lambda x: x ** 3, lambda x: x ** 3, {}),
    "rsqrt": (lambda x: x ** -0.5, lambda x: x ** -0.5, dict(low=0.2, high=3.0)),
    "reciprocal": (lambda x: 1.0 / x, np.reciprocal, dict(low=0.2, high=3.0)),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, {}),
    "sin": (tinygen.sin, np.sin, dict(low=-4.0, high=4.0)),
    "cos": (lambda x: x.cos(), np.cos, dict(low=-4.0, high=4.0)),
    "square_function": (tinygen.square, np.square, {}),
    "rsqrt_function": (lambda x: x.rsqrt(), lambda x: x ** -0.5, dict(low=0.2, high=3.0)),
    "log1p": (tinygen.log1p, np.log1p, dict(low=-0.8, high=3.0)),
    "expm1": (lambda x: x.expm1(), np.expm1, {}),
    "reciprocal_function": (tinygen.reciprocal, np.reciprocal, dict(low=0.2, high=3.0)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_gradients(name, data):
    function, _, options = UNARY[name]
    x = data.draw(tst.tensors(tst.shapes(max_dims=3, max_side=4), requires_grad=True, **options))
    gradcheck(function, [x])
    gradgradcheck(function, [x])


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [tinygen.float32, tinygen.float64])
def test_unary_forward_matches_numpy(name, dtype):
    function, reference, options = UNARY[name]
    x = random_tensor((3, 5), seed=1, low=options.get("low", -2.0), high=options.get("high", 2.0), dtype=dtype)
    y = function(x)
    assert y.dtype == dtype, "float32 stays float32; float64 stays float64"
    tolerance = 1e-6 if dtype == tinygen.float32 else 1e-12
    assert_close(y, reference(host(x).astype(np.float64)), rtol=tolerance, atol=tolerance)


BINARY = {
    "maximum": (tinygen.maximum, np.maximum),
    "minimum": (tinygen.minimum, np.minimum),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=tst.tensor_pairs(requires_grad=True))
def test_binary_elementwise_gradients(name, pair):
    function, reference = BINARY[name]
    a, b = pair
    if np.any(np.abs(np.subtract(host(a), host(b))) < 1e-3):
        return  # ties are kinks: tested separately below
    gradcheck(function, [a, b])
    gradgradcheck(function, [a, b])
    assert_close(function(a, b), reference(host(a), host(b)))


def test_maximum_splits_gradient_at_ties_as_pytorch():
    a = tinygen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tinygen.tensor([1.0, 5.0, 0.0], requires_grad=True)
    tinygen.maximum(a, b).sum().backward()
    assert host(a.grad).tolist() == [0.5, 0.0, 1.0]
    assert host(b.grad).tolist() == [0.5, 1.0, 0.0]


@given(data=st.data())
def test_where_gradients(data):
    a, b = data.draw(tst.tensor_pairs(requires_grad=True))
    shape = np.broadcast_shapes(a.shape, b.shape)
    mask = tinygen.tensor(np.random.default_rng(data.draw(st.integers(0, 99))).random(shape) > 0.5)
    gradcheck(lambda a, b: tinygen.where(mask, a, b), [a, b])
    gradgradcheck(lambda a, b: tinygen.where(mask, a, b), [a, b])
    assert_close(tinygen.where(mask, a, b), np.where(host(mask), host(a), host(b)))


def test_where_with_a_number_and_masked_fill():
    x = random_tensor((2, 3), seed=2)
    mask = x > 0
    assert_close(tinygen.where(mask, x, 0.0), np.where(host(x) > 0, host(x), 0.0))
    gradcheck(lambda x: x.masked_fill(mask, -1.0), [x])


def test_masked_fill_keeps_the_dtype_and_differentiates_a_tensor_value():
    """Probe: an int64 tensor filled with 2.7 became float32 (PyTorch: [2, 5], int64), a bool one int64."""
    filled = tinygen.tensor([1, 5]).masked_fill(tinygen.tensor([True, False]), 2.7)
    assert filled.dtype == tinygen.int64 and host(filled).tolist() == [2, 5]
    flags = tinygen.tensor([True, False]).masked_fill(tinygen.tensor([False, True]), 1)
    assert flags.dtype == tinygen.bool and host(flags).tolist() == [True, True]
    x = random_tensor((4, 3), seed=4).transpose(0, 1).detach().requires_grad_()  # non-contiguous
    value = random_tensor((), seed=5)
    mask = tinygen.tensor(np.random.default_rng(6).random((3, 1)) > 0.5)  # broadcast over the columns
    gradcheck(lambda x, value: x.masked_fill(mask, value), [x, value])
    gradgradcheck(lambda x, value: x.masked_fill(mask, value) ** 2, [x, value])
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor, got int64"):
        x.masked_fill(tinygen.tensor([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: value must be a number or a 0-d tensor, got a tensor of "
                                         r"shape \(2,\)"):
        x.masked_fill(mask, tinygen.zeros(2))
    with pytest.raises(ValueError, match=r"masked_fill: .*\(2, 1\).*\(3, 4\)"):
        x.masked_fill(tinygen.ones(2, 1, dtype=tinygen.bool), 0.0)
    other = "strict" if tinygen.get_default_device() != "strict" else "cpu"
    with pytest.raises(RuntimeError, match="masked_fill: expected all tensors on one device"):
        x.masked_fill(tinygen.ones(3, 1, dtype=tinygen.bool, device=other), 0.0)


@pytest.mark.torch
def test_masked_fill_matches_torch():
    torch = pytest.importorskip("torch")
    for values, mask, value in (([1, 5], [True, False], 2.7), ([[1.5, -2.0]], [[False], [True]], -1),
                                ([True, False], [False, True], 1)):
        ours = tinygen.tensor(values).masked_fill(tinygen.tensor(mask), value)
        theirs = torch.tensor(values).masked_fill(torch.tensor(mask), value)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") and ours.shape == tuple(theirs.shape)
        assert host(ours).tolist() == theirs.tolist()


def test_sign_has_zero_gradient():
    x = random_tensor((4,), seed=3)
    (tinygen.sign(x) * x).sum().backward()
    assert_close(x.grad, np.sign(host(x)))


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, 1.0, 1.5, -0.5])
@pytest.mark.parametrize("dtype", [tinygen.float32, tinygen.float64])
def test_leaky_relu_matches_its_reference(slope, dtype):
    """The max trick and the 1-or-slope factor against ``where(x > 0, x, slope * x)``: equal values, gradients
    and second derivatives (the gradient is linear in the upstream g: d<dL/dx, v>/dg), zeros and both signs
    included, on a non-contiguous input."""
    values = np.random.default_rng(4).uniform(-2, 2, size=(6, 5))
    values[::2, 1] = 0.0
    x = tinygen.tensor(np.ascontiguousarray(values.T), dtype=dtype).T.requires_grad_()  # a transposed layout
    assert not x.is_contiguous()
    upstream = random_tensor(x.shape, seed=5, dtype=dtype)
    direction = random_tensor(x.shape, seed=6, dtype=dtype, requires_grad=False)
    results = []
    for function in (tinygen.leaky_relu, leaky_relu_reference):
        y = function(x, slope)
        (gradient,) = tinygen.grad(y, [x], upstream, create_graph=True)
        (second,) = tinygen.grad((gradient * direction).sum(), [upstream])
        results.append((y, gradient, second))
    for ours, reference in zip(*results):
        assert ours.dtype == dtype
        assert_close(ours.detach(), host(reference), rtol=0, atol=0)


FUSED_BACKWARDS = {
    "tanh": (TanhBackward, tanh_backward_reference),
    "sigmoid": (SigmoidBackward, sigmoid_backward_reference),
}


@pytest.mark.parametrize("name", sorted(FUSED_BACKWARDS))
@given(data=st.data())
def test_fused_backward_gradients(name, data):
    """Tanh's and sigmoid's backward, one op each, as functions of (g, y): first and second order, drawn layouts."""
    fused, _ = FUSED_BACKWARDS[name]
    shape = data.draw(tst.shapes(max_dims=3, max_side=4))
    g = data.draw(tst.tensors(shape, requires_grad=True))
    y = data.draw(tst.tensors(shape, requires_grad=True, low=-0.95, high=0.95))
    gradcheck(lambda g, y: fused()(g, y), [g, y])
    gradgradcheck(lambda g, y: fused()(g, y), [g, y])


@pytest.mark.parametrize("name", sorted(FUSED_BACKWARDS))
@pytest.mark.parametrize("dtype", [tinygen.float16, tinygen.float32, tinygen.float64])
@pytest.mark.parametrize("shape", [(), (3, 4)])
def test_fused_backward_matches_its_reference(name, dtype, shape):
    """The one-op backward against the three-op formula it replaces: same values and dtype (0-d included: NumPy 1
    would make 1.0 - a 0-d float32 float64), on a transposed layout, and the same first and second derivatives
    through the function itself."""
    fused, reference = FUSED_BACKWARDS[name]
    g = random_tensor(shape[::-1], seed=7, dtype=dtype).T
    y = random_tensor(shape[::-1], seed=8, low=-0.9, high=0.9, dtype=dtype).T
    ours, theirs = fused()(g, y), reference(g, y)
    assert ours.dtype == theirs.dtype == dtype
    assert_close(ours.detach(), host(theirs), rtol=0, atol=0)
    function = getattr(tinygen, name)
    x = random_tensor(shape, seed=9)
    upstream, direction = random_tensor(shape, seed=10), random_tensor(shape, seed=11, requires_grad=False)
    (gradient,) = tinygen.grad(function(x), [x], upstream, create_graph=True)
    (second,) = tinygen.grad((gradient * direction).sum(), [x])
    y64 = function(x).detach()
    expected_first = reference(upstream.detach(), y64)
    derivative = 1.0 - y64 * y64 if name == "tanh" else y64 * (1.0 - y64)  # f'(x) from y
    second_factor = -2.0 * y64 if name == "tanh" else 1.0 - 2.0 * y64  # f''(x) = second_factor * f'(x)
    assert_close(gradient.detach(), host(expected_first), rtol=1e-12, atol=1e-12)
    assert_close(second, host(upstream.detach() * direction * second_factor * derivative), rtol=1e-12, atol=1e-12)


# --- numerics at the extremes ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tinygen.float32, tinygen.float64])
def test_sigmoid_softplus_tanh_finite_at_extreme_inputs(dtype):
    x = tinygen.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype, requires_grad=True)
    for function in (tinygen.sigmoid, tinygen.softplus, tinygen.tanh):
        y = function(x)
        (grad,) = tinygen.grad(y.sum(), [x])
        assert np.all(np.isfinite(host(y))) and np.all(np.isfinite(host(grad))), function.__name__
    assert host(tinygen.softplus(x))[-1] == pytest.approx(1e4)
    assert host(tinygen.sigmoid(x)).tolist()[0] == 0.0


def test_sigmoid_keeps_tiny_values():
    """1 / (1 + exp(-x)) keeps sigmoid(-40) ~ 4e-18; a 0.5 * (1 + tanh(x / 2)) shortcut would round it to 0."""
    y = tinygen.sigmoid(tinygen.tensor([-40.0], dtype=tinygen.float64))
    assert host(y)[0] == pytest.approx(np.exp(-40.0), rel=1e-12)


@pytest.mark.parametrize("dtype", [tinygen.float32, tinygen.float64])
def test_sigmoid_is_the_two_branch_formula_bit_for_bit(dtype):
    """The op runs exp(min(x, 0)) / (1 + exp(-|x|)) with no branch per element; the formula as it reads picks
    1 / (1 + e) for x >= 0 and e / (1 + e) below (e = exp(-|x|)). The same numbers, from tiny to huge |x|."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(2000) * scale for scale in (0.01, 1.0, 30.0, 1000.0)]
                       + [[0.0, -0.0, np.inf, -np.inf, 88.7, -88.7, 745.0, -745.0]]).astype(dtype)
    e = np.exp(-np.abs(x))
    with np.errstate(over="ignore"):
        expected = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(dtype)
    np.testing.assert_array_equal(host(tinygen.sigmoid(tinygen.tensor(x))), expected)


def test_sqrt_and_log_at_zero_follow_the_math():
    x = tinygen.tensor([0.0], dtype=tinygen.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        assert host(tinygen.log(x))[0] == -np.inf
        (grad,) = tinygen.grad(tinygen.sqrt(x).sum(), [x])
    assert host(grad)[0] == np.inf


def test_integer_input_to_float_op_gives_default_float():
    y = tinygen.exp(tinygen.tensor([0, 1]))
    assert y.dtype == tinygen.float32


# --- bad input -------------------------------------------------------------------------------------

def test_clamp_without_bounds_is_an_error():
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        tinygen.clamp(tinygen.ones(2))


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="where: condition must be a boolean tensor"):
        tinygen.where(tinygen.ones(2), tinygen.ones(2), tinygen.zeros(2))


def test_non_tensor_input_is_a_clear_error():
    with pytest.raises(TypeError, match="exp: expected input to be a Tensor, got list"):
        tinygen.exp([1.0, 2.0])


@pytest.mark.parametrize("name, reference", [("floor", np.floor), ("ceil", np.ceil), ("round", np.round)])
def test_rounding_has_values_of_numpy_and_a_zero_gradient(name, reference):
    """Halves round to even (round(2.5) == 2, round(-0.5) == -0), as in PyTorch; steps are flat: dL/dx = 0, also
    through a second backward."""
    values = np.array([[-2.5, -1.5, -0.5, 0.5], [1.5, 2.5, 0.2, -3.7]])
    x = tinygen.tensor(values, requires_grad=True)
    y = getattr(tinygen, name)(x)
    assert np.array_equal(host(y), reference(values)) and y.dtype == tinygen.float64
    assert np.array_equal(host(getattr(x, name)()), reference(values))
    upstream = random_tensor((2, 4), seed=2, requires_grad=False)
    (grad,) = tinygen.autograd.grad((y * upstream).sum(), x, create_graph=True)
    assert host(grad).tolist() == [[0.0] * 4] * 2
    drawn = host(random_tensor((6, 8), seed=3, requires_grad=False))
    kept_off_the_steps = np.floor(drawn) + 0.2 + 0.1 * (drawn - np.floor(drawn))  # in [k + 0.2, k + 0.3)
    steady = tinygen.tensor(kept_off_the_steps)[::2, ::2].detach().requires_grad_()  # not contiguous
    gradcheck(getattr(tinygen, name), [steady])
    gradgradcheck(getattr(tinygen, name), [steady])
    torch = pytest.importorskip("torch")
    assert np.array_equal(getattr(torch, name)(torch.from_numpy(values)).numpy(), reference(values))
