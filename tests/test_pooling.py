"""max_pool2d, avg_pool2d, interpolate (nearest) and their layers: gradients (first and second order),
values against plain loops and PyTorch, and errors."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst


@st.composite
def pool_cases(draw, dilation=True):
    """Kernel 1-3, stride 1-3 (or None: the kernel), padding up to half the kernel, dilation 1-2, an input that fits."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilations = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 4))
        for k, p, d in zip(kernel, padding, dilations)
    )
    for axis in range(2):
        assume(_every_window_touches_the_input(size[axis], kernel[axis], (stride or kernel)[axis], padding[axis],
                                               dilations[axis]))
    options = dict(kernel_size=kernel, stride=stride, padding=padding)
    if dilation:
        options["dilation"] = dilations
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size, options


def _every_window_touches_the_input(size, kernel, stride, padding, dilation):
    """False where a dilated window sees only padding (PyTorch then reports an out-of-range argmax)."""
    windows = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    return all(
        any(padding <= i * stride + a * dilation < padding + size for a in range(kernel)) for i in range(windows)
    )


@st.composite
def resize_cases(draw):
    """Either an output size (any, up or down) or a scale factor (integer or not)."""
    shape = (1, draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    if draw(st.booleans()):
        return shape, dict(size=(draw(st.integers(1, 9)), draw(st.integers(1, 9))))
    factors = st.sampled_from([1, 2, 3, 0.5, 1.5, 2.25])
    factor = draw(factors | st.tuples(factors, factors))
    pair = factor if isinstance(factor, tuple) else (factor, factor)
    if any(int(size * f) < 1 for size, f in zip(shape[2:], pair)):
        factor = 2
    return shape, dict(scale_factor=factor)


# --- gradients ---------------------------------------------------------------------------------------------

@given(pool_cases(), st.data())
def test_max_pool2d_gradients(case, data):
    shape, options = case
    x = data.draw(tst.tensors(shape, requires_grad=True))
    gradcheck(lambda x: F.max_pool2d(x, **options), [x])
    gradgradcheck(lambda x: F.max_pool2d(x, **options), [x])


@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 3]), st.data())
def test_avg_pool2d_gradients(case, count_include_pad, divisor_override, data):
    shape, options = case
    x = data.draw(tst.tensors(shape, requires_grad=True))
    options.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    gradcheck(lambda x: F.avg_pool2d(x, **options), [x])
    gradgradcheck(lambda x: F.avg_pool2d(x, **options), [x])


@given(resize_cases(), st.data())
def test_interpolate_gradients(case, data):
    shape, options = case
    x = data.draw(tst.tensors(shape, requires_grad=True))
    gradcheck(lambda x: F.interpolate(x, **options), [x])
    gradgradcheck(lambda x: F.interpolate(x, **options), [x])


def test_max_pool2d_gradient_goes_to_the_maximum_of_overlapping_windows():
    x = tinygen.tensor([[[[1.0, 5.0, 2.0], [0.0, 3.0, 4.0], [6.0, 1.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # windows' maxima: 5, 5, 6, 4
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 2, 0], [0, 0, 1], [1, 0, 0]])


# --- values ------------------------------------------------------------------------------------------------

def naive_pool(x, reduce, kernel_size, stride, padding, dilation=(1, 1), pad_value=0.0):
    """Plain loops: ``reduce`` over the entries of every window (the definition, for checking)."""
    (k_h, k_w), (p_h, p_w), (d_h, d_w) = kernel_size, padding, dilation
    s_h, s_w = stride or kernel_size
    padded = np.pad(x, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)), constant_values=pad_value)
    out_h = (x.shape[2] + 2 * p_h - d_h * (k_h - 1) - 1) // s_h + 1
    out_w = (x.shape[3] + 2 * p_w - d_w * (k_w - 1) - 1) // s_w + 1
    y = np.zeros(x.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, :, i * s_h:i * s_h + d_h * (k_h - 1) + 1:d_h, j * s_w:j * s_w + d_w * (k_w - 1) + 1:d_w]
            y[:, :, i, j] = reduce(window.reshape(x.shape[:2] + (-1,)), axis=-1)
    return y


@given(pool_cases(), st.integers(0, 2**16))
def test_max_pool2d_matches_plain_loops(case, seed):
    shape, options = case
    x = np.random.default_rng(seed).standard_normal(shape)
    expected = naive_pool(x, np.max, options["kernel_size"], options["stride"], options["padding"],
                          options["dilation"], pad_value=-np.inf)
    np.testing.assert_array_equal(F.max_pool2d(tinygen.tensor(x), **options).numpy(), expected)


@given(pool_cases(dilation=False), st.integers(0, 2**16))
def test_avg_pool2d_matches_plain_loops(case, seed):
    shape, options = case
    x = np.random.default_rng(seed).standard_normal(shape)
    expected = naive_pool(x, np.mean, options["kernel_size"], options["stride"], options["padding"])
    # the window's sum in another order differs by an ulp of the window's values, not of a mean near zero: atol
    np.testing.assert_allclose(F.avg_pool2d(tinygen.tensor(x), **options).numpy(), expected, rtol=1e-12, atol=1e-14)


def test_nearest_upsampling_repeats_pixels():
    x = tinygen.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = [[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]]
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=(2, 3)).numpy()[0, 0], expected)
    np.testing.assert_array_equal(F.interpolate(x, size=(4, 6)).numpy()[0, 0], expected)


@pytest.mark.parametrize(
    "function",
    [lambda x: F.max_pool2d(x, 1), lambda x: F.avg_pool2d(x, 1), lambda x: F.interpolate(x, scale_factor=1)],
)
def test_a_one_pixel_window_still_gives_new_memory(function):
    x = tinygen.randn(1, 2, 3, 3)
    before = x.numpy().copy()
    y = function(x)
    y += 1.0
    np.testing.assert_array_equal(x.numpy(), before)


def test_float32_stays_float32():
    x = tinygen.randn(2, 3, 6, 6, requires_grad=True)
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 1, 1, count_include_pad=False), F.interpolate(x, scale_factor=1.5)):
        assert y.dtype == tinygen.float32
        (grad,) = tinygen.grad(y.sum(), x)
        assert grad.dtype == tinygen.float32


def test_unbatched_pooling_matches_a_batch_of_one():
    x = tinygen.randn(3, 7, 6)
    y, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    y_batched, indices_batched = F.max_pool2d(x.unsqueeze(0), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), y_batched[0].numpy())
    np.testing.assert_array_equal(indices.numpy(), indices_batched[0].numpy())
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).numpy(), F.avg_pool2d(x.unsqueeze(0), 2)[0].numpy())


# --- PyTorch as the oracle ---------------------------------------------------------------------------------

def _compare_with_torch(torch, ours, theirs, shape, seed, **options):
    """Values and the input gradient, in float32, for a random upstream gradient."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    mine, reference = tinygen.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, y_reference = ours(mine, **options), theirs(reference, **options)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(tinygen.tensor(upstream))
    y_reference.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.detach().numpy(), y_reference.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.torch
@given(pool_cases(), st.integers(0, 2**16))
def test_max_pool2d_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, options = case
    _compare_with_torch(torch, F.max_pool2d, torch.nn.functional.max_pool2d, shape, seed, **options)
    x = np.random.default_rng(seed).standard_normal(shape)
    _, indices = F.max_pool2d(tinygen.tensor(x), return_indices=True, **options)
    _, expected = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **options)
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


@pytest.mark.torch
@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 3]), st.integers(0, 2**16))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override, seed):
    torch = pytest.importorskip("torch")
    shape, options = case
    _compare_with_torch(torch, F.avg_pool2d, torch.nn.functional.avg_pool2d, shape, seed,
                        count_include_pad=count_include_pad, divisor_override=divisor_override, **options)


@pytest.mark.torch
@given(resize_cases(), st.booleans(), st.integers(0, 2**16))
def test_interpolate_matches_torch(case, recompute, seed):
    torch = pytest.importorskip("torch")
    shape, options = case
    if "scale_factor" in options:
        options["recompute_scale_factor"] = recompute
    _compare_with_torch(torch, F.interpolate, torch.nn.functional.interpolate, shape, seed, **options)


@pytest.mark.torch
def test_max_pool2d_propagates_nan_like_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    y, indices = F.max_pool2d(tinygen.tensor(x), 2, return_indices=True)
    expected, expected_indices = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


# --- layers ------------------------------------------------------------------------------------------------

def test_layers_call_their_functions():
    x = tinygen.randn(2, 3, 8, 8)
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(x).numpy(), F.max_pool2d(x, 3, 2, 1).numpy())
    np.testing.assert_array_equal(nn.AvgPool2d(2, count_include_pad=False)(x).numpy(), F.avg_pool2d(x, 2).numpy())
    np.testing.assert_array_equal(nn.Upsample(scale_factor=2)(x).numpy(), F.interpolate(x, scale_factor=2).numpy())
    y, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == indices.shape == (2, 3, 4, 4)
    assert list(nn.MaxPool2d(2).parameters()) == []


def test_layer_reprs():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(5, 6))) == "Upsample(size=(5, 6), mode='nearest')"


@pytest.mark.torch
def test_layer_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [
        (nn.MaxPool2d((3, 2), stride=1, padding=1), torch.nn.MaxPool2d((3, 2), stride=1, padding=1)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.Upsample(scale_factor=(2, 3)), torch.nn.Upsample(scale_factor=(2, 3))),
    ]:
        assert repr(ours) == repr(theirs)


# --- errors ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "function, options, error, pattern",
    [
        (F.max_pool2d, dict(kernel_size=2, padding=2), ValueError, r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)"),
        (F.avg_pool2d, dict(kernel_size=3, padding=(1, 2)), ValueError, r"avg_pool2d: padding \(1, 2\) must be at most half"),
        (F.max_pool2d, dict(kernel_size=7), ValueError, r"max_pool2d: the input of shape \(1, 2, 5, 6\) is smaller than one window"),
        (F.max_pool2d, dict(kernel_size=3, dilation=3), ValueError, r"output size would be \(0, 0\)"),
        (F.max_pool2d, dict(kernel_size=0), ValueError, "max_pool2d: kernel_size must be positive, got 0"),
        (F.avg_pool2d, dict(kernel_size=2, stride=0), ValueError, "avg_pool2d: stride must be positive, got 0"),
        (F.avg_pool2d, dict(kernel_size=2, padding=-1), ValueError, "avg_pool2d: padding must be non-negative, got -1"),
        (F.avg_pool2d, dict(kernel_size=2, divisor_override=0), ValueError, "avg_pool2d: divisor_override must be a non-zero int"),
        (F.max_pool2d, dict(kernel_size=2, ceil_mode=True), NotImplementedError, "max_pool2d: ceil_mode=True is not supported"),
        (F.interpolate, dict(), ValueError, "interpolate: give exactly one of size and scale_factor"),
        (F.interpolate, dict(size=4, scale_factor=2), ValueError, "interpolate: give exactly one of size and scale_factor"),
        (F.interpolate, dict(scale_factor=-1), ValueError, "interpolate: scale_factor must be a positive number"),
        (F.interpolate, dict(scale_factor=0.1), ValueError, r"interpolate: scale_factor 0.1 makes the input size \(5, 6\) empty"),
        (F.interpolate, dict(size=(0, 3)), ValueError, r"interpolate: size must be positive, got \(0, 3\)"),
        (F.interpolate, dict(size=4, mode="bicubic"), NotImplementedError, "interpolate: mode 'bicubic' is not supported"),
        (F.interpolate, dict(size=4, align_corners=True), ValueError, "interpolate: align_corners can only be set"),
    ],
)
def test_bad_arguments(function, options, error, pattern):
    with pytest.raises(error, match=pattern):
        function(tinygen.zeros(1, 2, 5, 6), **options)


@pytest.mark.parametrize("function", [lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2)])
def test_pooling_input_checks(function):
    with pytest.raises(ValueError, match=r"pool2d: expected a 4-D input \(N, C, H, W\) or a 3-D unbatched one .*\(4, 4\)"):
        function(tinygen.zeros(4, 4))
    with pytest.raises(TypeError, match="pool2d: expected a floating-point input, got dtype int64"):
        function(tinygen.zeros(1, 1, 4, 4, dtype=tinygen.int64))


def test_interpolate_input_checks():
    with pytest.raises(ValueError, match=r"interpolate: expected a 4-D input \(N, C, H, W\), got shape \(2, 4, 4\)"):
        F.interpolate(tinygen.zeros(2, 4, 4), scale_factor=2)
    with pytest.raises(TypeError, match="interpolate: expected a floating-point input, got dtype int64"):
        F.interpolate(tinygen.zeros(1, 1, 4, 4, dtype=tinygen.int64), scale_factor=2)
