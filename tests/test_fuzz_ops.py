"""Property-based tests across the op surface, where the per-op tests don't reach: shapes with size-0 and size-1
dims, broadcasting against size-0 dims, float32 / float64 / integer dtypes, and non-contiguous layouts (every
other element, negative strides, transposed memory order). Forward values are checked against NumPy and
gradients against finite differences (float64); every op must give the same result whatever the input's layout.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
import tinygen.nn.functional as F
from tinygen.testing import gradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host

FLOATS = (tinygen.float32, tinygen.float64)


def small_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3):
    """Shapes with size-0 and size-1 dims drawn often."""
    return tst.shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def check_forward(y, expected, dtype):
    """``y`` equals NumPy's float64 ``expected`` to the precision of ``dtype``; NaN and inf where NumPy has them."""
    tolerance = 2e-6 if dtype == tinygen.float32 else 1e-12
    assert y.dtype == dtype, f"dtype {y.dtype}, expected {dtype}"
    assert y.shape == np.shape(expected), f"shape {y.shape}, expected {np.shape(expected)}"
    np.testing.assert_allclose(host(y).astype(np.float64), expected, rtol=tolerance, atol=tolerance)


# --- elementwise ------------------------------------------------------------------------------------------------

# name -> (tinygen function, NumPy reference on float64, options keeping inputs in the domain and off kinks,
#          the dtype an int64 input gives: int64, the default float32, or None where ints are not taken)
ELEMENTWISE = {
    "exp": (tinygen.exp, np.exp, {}, tinygen.float32),
    "log": (tinygen.log, np.log, dict(low=0.1, high=3.0), tinygen.float32),
    "sqrt": (tinygen.sqrt, np.sqrt, dict(low=0.1, high=3.0), tinygen.float32),
    "abs": (tinygen.abs, np.abs, dict(away_from=(0.0,)), tinygen.int64),
    "neg": (lambda x: -x, np.negative, {}, tinygen.int64),
    "sign": (tinygen.sign, np.sign, dict(away_from=(0.0,)), tinygen.int64),
    "square": (lambda x: x ** 2, np.square, {}, tinygen.int64),
    "rsqrt": (lambda x: x ** -0.5, lambda a: a ** -0.5, dict(low=0.2, high=3.0), tinygen.float32),
    "tanh": (tinygen.tanh, np.tanh, {}, tinygen.float32),
    "sigmoid": (tinygen.sigmoid, lambda a: 1 / (1 + np.exp(-a)), {}, tinygen.float32),
    "logsigmoid": (F.logsigmoid, lambda a: -np.logaddexp(0, -a), {}, tinygen.float32),
    "relu": (tinygen.relu, lambda a: np.maximum(a, 0), dict(away_from=(0.0,)), tinygen.int64),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda a: np.where(a > 0, a, 0.1 * a), dict(away_from=(0.0,)),
                   tinygen.float32),
    "elu": (F.elu, lambda a: np.where(a > 0, a, np.expm1(a)), dict(away_from=(0.0,)), tinygen.float32),
    "softplus": (tinygen.softplus, lambda a: np.logaddexp(0, a), {}, tinygen.float32),
    "clamp": (lambda x: x.clamp(-1, 1), lambda a: np.clip(a, -1, 1), dict(away_from=(-1.0, 1.0)), tinygen.int64),
    "clamp_float_bounds": (lambda x: x.clamp(-0.5, 1.5), lambda a: np.clip(a, -0.5, 1.5), dict(away_from=(-0.5, 1.5)),
                           tinygen.float32),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data())
def test_elementwise_values_on_any_shape_dtype_and_layout(name, data):
    function, reference, options, _ = ELEMENTWISE[name]
    dtype = data.draw(st.sampled_from(FLOATS))
    x = data.draw(tst.tensors(small_shapes(max_dims=4), dtype=dtype, **options))
    check_forward(function(x), reference(host(x).astype(np.float64)), dtype)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data())
def test_elementwise_gradients_with_empty_and_unit_dims(name, data):
    function, _, options, _ = ELEMENTWISE[name]
    x = data.draw(tst.tensors(small_shapes(max_side=2), requires_grad=True, **options))
    gradcheck(function, [x])
    (gradient,) = tinygen.grad(function(x).sum(), x, allow_unused=True)
    assert gradient is None or gradient.shape == x.shape


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data())
def test_elementwise_on_integer_tensors_follows_pytorch_dtypes(name, data):
    function, reference, options, int_result = ELEMENTWISE[name]
    low, high = int(options.get("low", -3)) or 1, int(options.get("high", 3)) + 1
    values = data.draw(st.lists(st.integers(low, high), max_size=6))
    values = [v for v in values if not any(abs(v - kink) < 0.5 for kink in options.get("away_from", ()))]
    x = tinygen.tensor(values, dtype=tinygen.int64)
    y = function(x)
    assert y.dtype == int_result and y.shape == x.shape
    assert_close(y.to(tinygen.float64), reference(np.array(values, dtype=np.float64)), rtol=1e-6, atol=1e-6)


# --- binary ops with broadcasting -------------------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, np.add, {}),
    "sub": (lambda a, b: a - b, np.subtract, {}),
    "mul": (lambda a, b: a * b, np.multiply, {}),
    "div": (lambda a, b: a / b, np.divide, dict(low=0.5, high=2.0)),
    "pow": (lambda a, b: a ** b, np.power, dict(low=0.5, high=2.0)),
    "maximum": (tinygen.maximum, np.maximum, {}),
    "minimum": (tinygen.minimum, np.minimum, {}),
    "where": (lambda a, b: tinygen.where(a > 0.3, a, b), lambda a, b: np.where(a > 0.3, a, b), dict(away_from=(0.3,))),
}


@st.composite
def shape_pairs_with_zeros(draw):
    """Two shapes that broadcast together, size-0 dims allowed on either side (``(0, 1)`` with ``(3,)``)."""
    first = draw(small_shapes())
    return first, draw(tst.broadcastable_shapes(first, max_dims=3, allow_size_zero=True))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_values_and_gradients_with_broadcasting_and_empty_dims(name, data):
    function, reference, options = BINARY[name]
    a_shape, b_shape = data.draw(shape_pairs_with_zeros())
    a = data.draw(tst.tensors(a_shape, requires_grad=True, **options))
    b = data.draw(tst.tensors(b_shape, requires_grad=True, **options))
    if name in ("maximum", "minimum") and np.any(np.abs(np.subtract(host(a), host(b))) < 1e-3):
        return  # ties are kinks
    check_forward(function(a, b), reference(host(a), host(b)), tinygen.float64)
    gradcheck(function, [a, b])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "maximum", "minimum"])
@given(data=st.data())
def test_binary_ops_on_integers_stay_integers(name, data):
    function, reference, _ = BINARY[name]
    a_shape, b_shape = data.draw(shape_pairs_with_zeros())
    a = tinygen.tensor(np.arange(int(np.prod(a_shape))).reshape(a_shape) - 2)
    b = tinygen.tensor(np.arange(int(np.prod(b_shape))).reshape(b_shape) % 3)
    y = function(a, b)
    assert y.dtype == tinygen.int64
    assert np.array_equal(host(y), reference(host(a), host(b)))


@pytest.mark.parametrize("first, second, expected", [
    (tinygen.int64, tinygen.float32, tinygen.float32),   # the float kind wins, not NumPy's float64
    (tinygen.float32, tinygen.float64, tinygen.float64),
    (tinygen.int32, tinygen.int64, tinygen.int64),
    (tinygen.bool_, tinygen.int64, tinygen.int64),
    (tinygen.uint8, tinygen.float32, tinygen.float32),
])
@pytest.mark.parametrize("name", ["add", "mul", "maximum"])
def test_mixed_dtypes_promote_as_pytorch(name, first, second, expected):
    function = BINARY[name][0]
    a, b = tinygen.ones(2, 3, dtype=first), tinygen.ones(3, dtype=second)
    assert function(a, b).dtype == expected and function(b, a).dtype == expected


@pytest.mark.parametrize("scalar", [2.5, np.float64(2.5), np.float32(2.5), 2, np.int64(2)])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_numpy_and_python_scalars_never_upcast_float32_on_either_side(name, scalar):
    function = BINARY[name][0]
    x = tinygen.ones(3) * 1.5
    for y in (function(x, scalar), function(scalar, x)):
        assert isinstance(y, tinygen.Tensor) and y.dtype == tinygen.float32, (type(y), getattr(y, "dtype", None))


# --- reductions --------------------------------------------------------------------------------------------------

@st.composite
def tensor_and_dims(draw, dtype=tinygen.float64, requires_grad=False):
    """A tensor with size-0 and size-1 dims and a ``dim`` argument: None, one dim, or several."""
    x = draw(tst.tensors(small_shapes(min_dims=1), dtype=dtype, requires_grad=requires_grad))
    dims = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1),
                          st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True).map(tuple)))
    return x, dims, draw(st.booleans())


def reduced_count(x, dims):
    axes = range(x.ndim) if dims is None else ((dims,) if isinstance(dims, int) else dims)
    return int(np.prod([x.shape[d] for d in axes]))


def numpy_logsumexp(a, axis, keepdims):
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a).sum(axis=axis, keepdims=keepdims))


# name -> (tinygen reduction, NumPy reference, whether an empty reduction is an error)
REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k), False),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k), False),
    "var": (lambda x, d, k: x.var(d, keepdim=k, unbiased=False), lambda a, d, k: a.var(axis=d, keepdims=k), False),
    "std": (lambda x, d, k: x.std(d, keepdim=k, unbiased=False), lambda a, d, k: a.std(axis=d, keepdims=k), False),
    "logsumexp": (lambda x, d, k: x.logsumexp(d if d is not None else tuple(range(x.ndim)), keepdim=k),
                  numpy_logsumexp, False),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda a, d, k: a.max(axis=d, keepdims=k), True),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda a, d, k: a.min(axis=d, keepdims=k), True),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions_over_any_dims_including_empty_ones(name, data):
    function, reference, empty_is_error = REDUCTIONS[name]
    dtype = data.draw(st.sampled_from(FLOATS))
    x, dims, keepdim = data.draw(tensor_and_dims(dtype=dtype))
    if empty_is_error and reduced_count(x, dims) == 0:
        with pytest.raises(ValueError, match=rf"{name}: cannot take the m.. over dimension \d+ of size 0"):
            function(x, dims, keepdim)
        return
    with np.errstate(invalid="ignore", divide="ignore"):  # NumPy's mean of nothing warns; tinygen gives NaN quietly
        expected = reference(host(x).astype(np.float64), dims, keepdim)
    check_forward(function(x, dims, keepdim), expected, dtype)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_gradients_with_empty_and_unit_dims(name, data):
    function, _, empty_is_error = REDUCTIONS[name]
    x, dims, keepdim = data.draw(tensor_and_dims(requires_grad=True))
    if empty_is_error and reduced_count(x, dims) == 0 or name == "std" and reduced_count(x, dims) < 2:
        return  # an error; std's gradient at a single value is 0 / 0
    gradcheck(lambda x: function(x, dims, keepdim), [x])


@given(data=st.data())
def test_integer_and_boolean_reductions_follow_pytorch_dtypes(data):
    shape = data.draw(small_shapes(min_dims=1, min_side=1))
    values = np.random.default_rng(data.draw(st.integers(0, 100))).integers(-5, 5, size=shape)
    x, dim = tinygen.tensor(values), data.draw(st.integers(0, len(shape) - 1))
    assert x.sum(dim).dtype == tinygen.int64 and np.array_equal(host(x.sum(dim)), values.sum(axis=dim))
    assert x.amax(dim).dtype == tinygen.int64 and np.array_equal(host(x.amax(dim)), values.max(axis=dim))
    assert x.mean().dtype == tinygen.float32
    assert (x > 0).sum().dtype == tinygen.int64 and (x > 0).sum().item() == int((values > 0).sum())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_over_any_dim_including_empty_ones(name, data):
    x, dim, _ = data.draw(tensor_and_dims(requires_grad=True))
    dim = dim if isinstance(dim, int) else 0
    a = host(x)
    shifted = a - (a.max(axis=dim, keepdims=True) if a.size else 0)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    expected = log_probabilities if name == "log_softmax" else np.exp(log_probabilities)
    check_forward(getattr(x, name)(dim), expected, tinygen.float64)
    gradcheck(lambda x: getattr(x, name)(dim), [x])


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
@given(data=st.data())
def test_max_min_and_argmax_over_one_dim(name, data):
    x, dim, keepdim = data.draw(tensor_and_dims())
    dim = dim if isinstance(dim, int) else None
    extent = x.numel() if dim is None else x.shape[dim]
    call = lambda: getattr(x, name)(dim, keepdim=keepdim)  # noqa: E731
    if extent == 0:
        with pytest.raises(ValueError, match=rf"{name}: cannot take the m.. over dimension \d+ of size 0"):
            call()
        return
    a = host(x)
    if name in ("argmax", "argmin"):
        expected = getattr(np, name)(a.reshape(-1) if dim is None else a, axis=None if dim is None else dim)
        if keepdim:
            expected = np.reshape(expected, (1,) * x.ndim) if dim is None else np.expand_dims(expected, dim)
        assert call().dtype == tinygen.int64 and np.array_equal(host(call()), expected)
        return
    result = call()
    values = result if dim is None else result.values
    reduce = np.max if name == "max" else np.min
    check_forward(values, reduce(a, axis=dim, keepdims=keepdim and dim is not None), tinygen.float64)


# --- shape ops ---------------------------------------------------------------------------------------------------

@st.composite
def shape_op_cases(draw):
    """(name, function, NumPy reference) for a drawn shape op that fits ``shape``."""
    shape = draw(st.shared(small_shapes(min_dims=1), key="shape"))
    ndim = len(shape)
    order = draw(st.permutations(range(ndim)))
    dim = draw(st.integers(-ndim, ndim - 1))
    new_dim = draw(st.integers(-ndim - 1, ndim))
    target = (draw(st.integers(1, 2)),) + tuple(draw(st.sampled_from([extent, 1])) if extent == 1 else extent
                                                 for extent in shape)
    widths = tuple(draw(st.integers(0, 2)) for _ in range(2 * draw(st.integers(1, ndim))))
    numpy_widths = [(0, 0)] * ndim
    for pair in range(len(widths) // 2):
        numpy_widths[ndim - 1 - pair] = (widths[2 * pair], widths[2 * pair + 1])
    cases = {
        "reshape_flat": (lambda x: x.reshape(-1) if x.numel() else x.reshape(0), lambda a: a.reshape(-1)),
        "reshape_reversed": (lambda x: x.reshape(shape[::-1]), lambda a: a.reshape(shape[::-1])),
        "permute": (lambda x: x.permute(*order), lambda a: a.transpose(order)),
        "transpose": (lambda x: x.transpose(0, dim), lambda a: np.swapaxes(a, 0, dim)),
        "T": (lambda x: x.T, lambda a: a.T),
        "squeeze": (lambda x: x.squeeze(), lambda a: a.reshape([e for e in a.shape if e != 1])),
        "squeeze_dim": (lambda x: x.squeeze(dim),
                        lambda a: np.squeeze(a, dim) if a.shape[dim] == 1 else a),
        "unsqueeze": (lambda x: x.unsqueeze(new_dim), lambda a: np.expand_dims(a, new_dim)),
        "flatten": (lambda x: x.flatten(), lambda a: a.reshape(-1)),
        "broadcast_to": (lambda x: x.broadcast_to(target), lambda a: np.broadcast_to(a, target)),
        "contiguous": (lambda x: x.contiguous(), lambda a: a),
        "clone": (lambda x: x.clone(), lambda a: a),
        "pad": (lambda x: F.pad(x, widths, value=0.5), lambda a: np.pad(a, numpy_widths, constant_values=0.5)),
        "cat_with_itself": (lambda x: tinygen.cat([x, x * 2.0], dim), lambda a: np.concatenate([a, 2 * a], dim)),
        "stack_with_itself": (lambda x: tinygen.stack([x, x * 2.0], new_dim), lambda a: np.stack([a, 2 * a], new_dim)),
        "split_by_slicing": (lambda x: x[..., : shape[-1] // 2], lambda a: a[..., : shape[-1] // 2]),
    }
    name = draw(st.sampled_from(sorted(cases)))
    return (name,) + cases[name]


@given(data=st.data())
def test_shape_ops_on_empty_unit_and_strided_tensors(data):
    shape = data.draw(st.shared(small_shapes(min_dims=1), key="shape"))
    name, function, reference = data.draw(shape_op_cases())
    x = data.draw(tst.tensors(shape, requires_grad=True))
    y = function(x)
    assert np.array_equal(host(y), reference(host(x))), name
    gradcheck(function, [x], name=name)


# --- indexing ----------------------------------------------------------------------------------------------------

@st.composite
def basic_indices(draw, shape):
    """A tuple of ints, slices (negative steps too), ``None`` and at most one ``...`` that fits ``shape``."""
    parts, dim = [], 0
    while dim < len(shape) and draw(st.booleans()):
        extent = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none"] if extent else ["slice", "none"]))
        if kind == "int":
            parts.append(draw(st.integers(-extent, extent - 1)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-extent - 1, extent + 1))
            parts.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2]))))
        else:
            parts.append(None)
            continue
        dim += 1
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), Ellipsis)
    return tuple(parts)


@given(data=st.data())
def test_basic_indexing_with_negative_steps_on_any_layout(data):
    x = data.draw(tst.tensors(small_shapes(min_dims=1), requires_grad=True))
    index = data.draw(basic_indices(x.shape))
    assert np.array_equal(host(x[index]), host(x)[index])
    gradcheck(lambda x: x[index], [x])


@given(data=st.data())
def test_integer_array_and_mask_indexing_including_empty_indices(data):
    x = data.draw(tst.tensors(small_shapes(min_dims=1), requires_grad=True))
    extent = x.shape[0]
    positions = data.draw(st.lists(st.integers(-extent, extent - 1), max_size=5)) if extent else []
    mask = data.draw(st.lists(st.booleans(), min_size=extent, max_size=extent))
    for index in (positions, tinygen.tensor(positions, dtype=tinygen.int64), tinygen.tensor(mask, dtype=tinygen.bool_),
                  (Ellipsis, slice(None)) if x.ndim == 1 else (slice(None), [])):
        numpy_index = host(index) if isinstance(index, tinygen.Tensor) else index
        if isinstance(numpy_index, list):
            numpy_index = np.array(numpy_index, dtype=np.int64)
        elif isinstance(numpy_index, tuple):
            numpy_index = tuple(np.array(p, dtype=np.int64) if isinstance(p, list) else p for p in numpy_index)
        assert np.array_equal(host(x[index]), host(x)[numpy_index])
        gradcheck(lambda x: x[index], [x])


@given(data=st.data())
def test_gather_with_empty_and_repeated_indices(data):
    x = data.draw(tst.tensors(small_shapes(min_dims=1, min_side=1), requires_grad=True))
    dim = data.draw(st.integers(0, x.ndim - 1))
    index_shape = tuple(data.draw(st.integers(0, 3)) if axis == dim else extent for axis, extent in enumerate(x.shape))
    index = tinygen.tensor(np.random.default_rng(0).integers(0, x.shape[dim], size=index_shape))
    assert np.array_equal(host(x.gather(dim, index)), np.take_along_axis(host(x), host(index), dim))
    gradcheck(lambda x: x.gather(dim, index), [x])


# --- matmul --------------------------------------------------------------------------------------------------------

@st.composite
def matmul_shapes(draw):
    """Shapes ``a`` and ``b`` NumPy's matmul takes: 1-D or batched (broadcast batch dims), size 0 anywhere."""
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    batch = draw(small_shapes(max_dims=2, min_side=1))
    a_shape = (k,) if draw(st.booleans()) else batch + (n, k)
    b_batch = tuple(draw(st.sampled_from([extent, 1])) for extent in batch)[draw(st.integers(0, len(batch))):]
    b_shape = (k,) if draw(st.booleans()) else b_batch + (k, m)
    return a_shape, b_shape


@given(data=st.data())
def test_matmul_with_vectors_batches_and_empty_dims(data):
    a_shape, b_shape = data.draw(matmul_shapes())
    dtype = data.draw(st.sampled_from(FLOATS))
    a = data.draw(tst.tensors(a_shape, dtype=dtype, requires_grad=True))
    b = data.draw(tst.tensors(b_shape, dtype=dtype, requires_grad=True))
    check_forward(a @ b, np.matmul(host(a).astype(np.float64), host(b).astype(np.float64)), dtype)
    if dtype == tinygen.float64:
        gradcheck(lambda a, b: a @ b, [a, b])


def test_integer_matmul_stays_integer():
    a, b = tinygen.arange(6).reshape(2, 3), tinygen.arange(3)
    assert (a @ b).dtype == tinygen.int64 and host(a @ b).tolist() == [5, 14]


# --- every op ignores the memory layout of its input --------------------------------------------------------------

def conv_input(x):
    return x.reshape(x.shape[0], 1, x.shape[1], x.shape[2]) if x.ndim == 3 else x


LAYOUT_OPS = {
    "linear": lambda x: F.linear(x, tinygen.ones(2, x.shape[-1], dtype=x.dtype) * 0.5),
    "conv2d": lambda x: F.conv2d(conv_input(x), tinygen.ones(2, 1, 2, 2, dtype=x.dtype), padding=1),
    "conv_transpose2d": lambda x: F.conv_transpose2d(conv_input(x), tinygen.ones(1, 2, 2, 2, dtype=x.dtype), stride=2),
    "max_pool2d": lambda x: F.max_pool2d(conv_input(x), 2, stride=1),
    "avg_pool2d": lambda x: F.avg_pool2d(conv_input(x), 2, stride=1, padding=1),
    "interpolate": lambda x: F.interpolate(conv_input(x), scale_factor=2),
    "batch_norm": lambda x: F.batch_norm(x, None, None, training=True),
    "softmax": lambda x: F.softmax(x, -1),
    "log_softmax": lambda x: F.log_softmax(x, 0),
    "logsumexp": lambda x: x.logsumexp((0, -1)),
    "var": lambda x: x.var(1),
    "amax": lambda x: x.amax(-1),
    "matmul": lambda x: x @ x.mT,
    "gather": lambda x: x.gather(1, tinygen.zeros(x.shape, dtype=tinygen.int64)),
    "mse_loss": lambda x: F.mse_loss(x, x.detach() * 0.5),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
    "dropout": lambda x: F.dropout(x, 0.5, generator=tinygen.Generator(x.device, seed=1)),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_OPS))
@given(data=st.data())
def test_every_op_gives_the_same_values_and_gradients_whatever_the_layout(name, data):
    function = LAYOUT_OPS[name]
    shape = data.draw(tst.shapes(min_dims=3, max_dims=3, min_side=2, max_side=4))
    x = data.draw(tst.tensors(shape, requires_grad=True, noncontiguous=True))
    x_contiguous = tinygen.tensor(host(x), requires_grad=True)
    assert not x.is_contiguous()
    y, y_contiguous = function(x), function(x_contiguous)
    upstream = tinygen.tensor(np.random.default_rng(1).standard_normal(y.shape))
    (gradient,) = tinygen.grad(y, x, upstream)
    (expected_gradient,) = tinygen.grad(y_contiguous, x_contiguous, upstream)
    assert_close(y, y_contiguous, rtol=1e-12, atol=1e-12)
    assert_close(gradient, expected_gradient, rtol=1e-12, atol=1e-12)


# --- an empty batch goes through every layer ----------------------------------------------------------------------

EMPTY_BATCH_OPS = {
    "linear": (lambda x: F.linear(x, tinygen.ones(2, 3)), (0, 3), (0, 2)),
    "conv2d": (lambda x: F.conv2d(x, tinygen.ones(2, 1, 3, 3)), (0, 1, 5, 5), (0, 2, 3, 3)),
    "conv_transpose2d": (lambda x: F.conv_transpose2d(x, tinygen.ones(1, 2, 4, 4), stride=2, padding=1), (0, 1, 3, 3),
                         (0, 2, 6, 6)),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), (0, 1, 4, 4), (0, 1, 2, 2)),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), (0, 1, 4, 4), (0, 1, 2, 2)),
    "interpolate": (lambda x: F.interpolate(x, scale_factor=2), (0, 1, 2, 2), (0, 1, 4, 4)),
    "batch_norm_eval": (lambda x: F.batch_norm(x, tinygen.zeros(3), tinygen.ones(3)), (0, 3), (0, 3)),
    "dropout": (lambda x: F.dropout(x, 0.5), (0, 3), (0, 3)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), (0, 3), (0, 3)),
    "cross_entropy": (lambda x: F.cross_entropy(x, tinygen.zeros(0, dtype=tinygen.int64), reduction="sum"),
                      (0, 3), ()),
}


@pytest.mark.parametrize("name", sorted(EMPTY_BATCH_OPS))
def test_an_empty_batch_goes_forward_and_backward(name):
    function, shape, expected = EMPTY_BATCH_OPS[name]
    x = tinygen.zeros(shape, requires_grad=True)
    y = function(x)
    assert y.shape == expected
    y.sum().backward()
    assert x.grad.shape == shape
