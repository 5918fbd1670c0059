"""conv2d and conv_transpose2d: gradients (first and second order), values against plain loops and PyTorch,
output sizes, and errors."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.autograd.function import DeviceMismatchError
from tinygen.nn import functional as F
from tinygen.ops.conv import conv2d_reference, conv_transpose2d_reference
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import random_tensor


# --- drawn geometries -------------------------------------------------------------------------------------

def _pairs(values):
    return st.tuples(values, values)


@st.composite
def conv_cases(draw, transposed=False):
    """A small convolution: shapes, stride (1-3), padding (0-2), dilation (1-2), output padding, bias or not."""
    kernel = draw(_pairs(st.integers(1, 4)))
    stride = draw(_pairs(st.integers(1, 3)))
    padding = draw(_pairs(st.integers(0, 2)))
    dilation = draw(_pairs(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = []
    for k, s, p, d, extra in zip(kernel, stride, padding, dilation, output_padding):
        if transposed:  # smallest input whose output size (H-1)s - 2p + d(k-1) + extra + 1 is positive
            smallest = max(1, -((d * (k - 1) + extra - 2 * p) // s) + 1)
        else:  # the padded input must hold one dilated window
            smallest = max(1, d * (k - 1) + 1 - 2 * p)
        size.append(draw(st.integers(smallest, smallest + 3)))
    batch, in_channels, out_channels = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    weight_shape = (in_channels, out_channels) if transposed else (out_channels, in_channels)
    case = dict(
        input_shape=(batch, in_channels) + tuple(size),
        weight_shape=weight_shape + kernel,
        bias=draw(st.booleans()),
        stride=_maybe_int(draw, stride),
        padding=_maybe_int(draw, padding),
        dilation=_maybe_int(draw, dilation),
    )
    if transposed:
        case["output_padding"] = _maybe_int(draw, output_padding)
    return case


def _maybe_int(draw, pair):
    """Pass equal pairs as an int half the time (both spellings are accepted)."""
    return pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair


def _options(case):
    return {key: case[key] for key in ("stride", "padding", "dilation", "output_padding") if key in case}


def _operands(draw, case, transposed):
    x = draw(tst.tensors(case["input_shape"], requires_grad=True))
    weight = draw(tst.tensors(case["weight_shape"], requires_grad=True))
    bias_size = case["weight_shape"][1 if transposed else 0]
    bias = draw(tst.tensors((bias_size,), requires_grad=True)) if case["bias"] else None
    return [t for t in (x, weight, bias) if t is not None]


def _as_function(function, case):
    options = _options(case)
    return lambda x, weight, bias=None: function(x, weight, bias, **options)


# --- gradients ---------------------------------------------------------------------------------------------

@given(st.data())
def test_conv2d_gradients(data):
    case = data.draw(conv_cases())
    operands = _operands(data.draw, case, transposed=False)
    gradcheck(_as_function(F.conv2d, case), operands)
    gradgradcheck(_as_function(F.conv2d, case), operands)


@given(st.data())
def test_conv_transpose2d_gradients(data):
    case = data.draw(conv_cases(transposed=True))
    operands = _operands(data.draw, case, transposed=True)
    gradcheck(_as_function(F.conv_transpose2d, case), operands)
    gradgradcheck(_as_function(F.conv_transpose2d, case), operands)


def test_conv2d_gradients_for_a_fixed_case():
    """The drawn cases above, made certain: non-square kernel, stride, padding, dilation and a bias."""
    x, weight = random_tensor((2, 2, 5, 6), seed=1), random_tensor((3, 2, 3, 2), seed=2)
    bias = random_tensor((3,), seed=3)
    options = dict(stride=(2, 1), padding=1, dilation=(1, 2))
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), [x, weight, bias])
    gradgradcheck(lambda x, w: F.conv2d(x, w, **options), [x, weight])


@pytest.mark.parametrize("options", [
    dict(stride=1, dilation=2, output_padding=1),
    dict(stride=(2, 1), dilation=3, padding=1, output_padding=(2, 1)),
])
def test_conv_transpose2d_gradients_with_output_padding_at_least_the_stride(options):
    """output_padding >= stride (allowed by a larger dilation): conv2d's output size formula applied to g's size
    does not give the input size back, so the backward must take the input's size as it was."""
    x, weight = random_tensor((2, 2, 3, 4), seed=1), random_tensor((2, 3, 2, 3), seed=2)
    bias = random_tensor((3,), seed=3)
    gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **options), [x, weight, bias])
    gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, **options), [x, weight])


def test_gradients_on_a_transposed_view_and_a_batch_of_one():
    """A permuted (non-contiguous) input and weight, batch 1, odd sizes."""
    x = tinygen.randn(1, 5, 2, 7, dtype=tinygen.float64).permute(0, 2, 1, 3).detach().requires_grad_()
    weight = tinygen.randn(3, 2, 2, 3, dtype=tinygen.float64).transpose(2, 3).detach().requires_grad_()
    weight_t = tinygen.randn(2, 3, 3, 2, dtype=tinygen.float64).transpose(2, 3).detach().requires_grad_()
    assert not (x.is_contiguous() or weight.is_contiguous() or weight_t.is_contiguous())
    gradgradcheck(lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1), [x, weight])
    gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1), [x, weight_t])


def test_gradient_penalty_through_a_critic():
    """What WGAN-GP does: d/dtheta of ||d critic(x) / dx||^2, through a conv and a transposed conv."""
    x = tinygen.randn(2, 1, 6, 6, dtype=tinygen.float64, requires_grad=True)
    w1 = tinygen.randn(3, 1, 3, 3, dtype=tinygen.float64, requires_grad=True)
    w2 = tinygen.randn(3, 2, 2, 2, dtype=tinygen.float64, requires_grad=True)

    def penalty(x, w1, w2):
        with tinygen.enable_grad():
            hidden = F.leaky_relu(F.conv2d(x, w1, stride=2, padding=1), 0.2)
            score = F.conv_transpose2d(hidden, w2, stride=2).sum()
            (slope,) = tinygen.grad(score, x, create_graph=True)
        return (slope * slope).sum()

    gradcheck(penalty, [x, w1, w2])


# --- values ------------------------------------------------------------------------------------------------

def naive_conv2d(x, weight, bias, stride, padding, dilation):
    """Plain loops over every output pixel (the definition, for checking)."""
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = stride, padding, dilation
    batch, _, height, width = x.shape
    out_channels, in_channels, k_h, k_w = weight.shape
    padded = np.pad(x, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))
    out_h = (height + 2 * p_h - d_h * (k_h - 1) - 1) // s_h + 1
    out_w = (width + 2 * p_w - d_w * (k_w - 1) - 1) // s_w + 1
    y = np.zeros((batch, out_channels, out_h, out_w))
    for n in range(batch):
        for o in range(out_channels):
            for i in range(out_h):
                for j in range(out_w):
                    for c in range(in_channels):
                        for a in range(k_h):
                            for b in range(k_w):
                                y[n, o, i, j] += weight[o, c, a, b] * padded[n, c, i * s_h + a * d_h, j * s_w + b * d_w]
    return y if bias is None else y + bias[:, None, None]


def naive_conv_transpose2d(x, weight, bias, stride, padding, output_padding, dilation):
    """Plain loops: every input pixel adds its weighted kernel onto the output (the definition, for checking)."""
    (s_h, s_w), (p_h, p_w), (d_h, d_w), (e_h, e_w) = stride, padding, dilation, output_padding
    batch, in_channels, height, width = x.shape
    _, out_channels, k_h, k_w = weight.shape
    out_h = (height - 1) * s_h - 2 * p_h + d_h * (k_h - 1) + e_h + 1
    out_w = (width - 1) * s_w - 2 * p_w + d_w * (k_w - 1) + e_w + 1
    padded = np.zeros((batch, out_channels, out_h + 2 * p_h, out_w + 2 * p_w))
    for n in range(batch):
        for c in range(in_channels):
            for i in range(height):
                for j in range(width):
                    for o in range(out_channels):
                        for a in range(k_h):
                            for b in range(k_w):
                                padded[n, o, i * s_h + a * d_h, j * s_w + b * d_w] += x[n, c, i, j] * weight[c, o, a, b]
    y = padded[:, :, p_h:p_h + out_h, p_w:p_w + out_w]
    return y if bias is None else y + bias[:, None, None]


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _host_operands(case, transposed, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["input_shape"])
    weight = rng.standard_normal(case["weight_shape"])
    bias = rng.standard_normal(case["weight_shape"][1 if transposed else 0]) if case["bias"] else None
    return x, weight, bias


def _device(array):
    return None if array is None else tinygen.tensor(array)


@given(conv_cases(), st.integers(0, 2**16))
def test_conv2d_matches_plain_loops(case, seed):
    x, weight, bias = _host_operands(case, False, seed)
    y = F.conv2d(_device(x), _device(weight), _device(bias), **_options(case))
    geometry = [_pair(case[key]) for key in ("stride", "padding", "dilation")]
    np.testing.assert_allclose(y.numpy(), naive_conv2d(x, weight, bias, *geometry), rtol=1e-10, atol=1e-12)


@given(conv_cases(transposed=True), st.integers(0, 2**16))
def test_conv_transpose2d_matches_plain_loops(case, seed):
    x, weight, bias = _host_operands(case, True, seed)
    y = F.conv_transpose2d(_device(x), _device(weight), _device(bias), **_options(case))
    geometry = [_pair(case[key]) for key in ("stride", "padding", "output_padding", "dilation")]
    np.testing.assert_allclose(y.numpy(), naive_conv_transpose2d(x, weight, bias, *geometry), rtol=1e-10, atol=1e-12)


# --- the fast path against the references -------------------------------------------------------------------

def assert_same_derivatives(fast, reference, operands, seed):
    """Equal values, equal gradients for a random upstream, and equal second derivatives (the gradient of the
    gradients' dot product with random directions): the fast ops' backward and double backward against autograd
    through the reference. An unused input's second derivative (None) counts as zeros."""
    rng = np.random.default_rng(seed)

    def random_like(tensor):
        return tinygen.tensor(rng.standard_normal(tensor.shape))

    def values(tensor, like):
        return np.zeros(like.shape) if tensor is None else tensor.detach().numpy()

    ours, theirs = fast(*operands), reference(*operands)
    np.testing.assert_allclose(values(ours, ours), values(theirs, theirs), rtol=1e-10, atol=1e-12)
    upstream = random_like(ours)
    first = [tinygen.grad(y, operands, upstream, create_graph=True) for y in (ours, theirs)]
    directions = [random_like(operand) for operand in operands]
    second = [tinygen.grad(sum((g * v).sum() for g, v in zip(grads, directions)), operands, allow_unused=True)
              for grads in first]
    for derivatives in (first, second):
        for a, b, operand in zip(*derivatives, operands):
            np.testing.assert_allclose(values(a, operand), values(b, operand), rtol=1e-10, atol=1e-12)


@given(st.data())
def test_conv2d_matches_its_reference(data):
    """im2col on a channels-last copy and one matrix product, against the formula one kernel offset at a time."""
    case = data.draw(conv_cases())
    operands = _operands(data.draw, case, transposed=False)
    assert_same_derivatives(_as_function(F.conv2d, case), _as_function(conv2d_reference, case), operands,
                            data.draw(st.integers(0, 2**16)))


@given(st.data())
def test_conv_transpose2d_matches_its_reference(data):
    """col2im, or the phases of a kernel that is a multiple of the stride, against a plain convolution of
    the zero-spread input with the flipped kernel."""
    case = data.draw(conv_cases(transposed=True))
    operands = _operands(data.draw, case, transposed=True)
    assert_same_derivatives(_as_function(F.conv_transpose2d, case), _as_function(conv_transpose2d_reference, case),
                            operands, data.draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("kernel, stride, padding", [
    ((4, 4), (2, 2), (1, 1)), ((2, 3), (2, 3), (0, 2)), ((6, 4), (3, 2), (3, 0)), ((4, 2), (1, 2), (2, 1)),
])
@pytest.mark.parametrize("size", [(3, 4), (5, 7), (8, 8)])
def test_the_phases_of_a_transposed_convolution_agree_with_col2im(kernel, stride, padding, size):
    """``correlate_adjoint_by_phases`` (the fast path for a kernel that is a multiple of the stride) against
    ``correlate_adjoint_by_windows`` (the readable one), whatever the channel counts that choose between them."""
    from tinygen.backend import get_backend
    from tinygen.ops.im2col import (WindowGeometry, correlate_adjoint_by_phases, correlate_adjoint_by_windows,
                                    phase_taps)

    backend, rng = get_backend("cpu"), np.random.default_rng(0)
    geometry = WindowGeometry(kernel, stride, padding, (1, 1))
    assert phase_taps(geometry) == tuple(k // s for k, s in zip(kernel, stride))
    windows = geometry.output_size(size)
    y, weight = rng.standard_normal((3, 5) + windows), rng.standard_normal((5, 2) + kernel)
    np.testing.assert_allclose(correlate_adjoint_by_phases(backend, y, weight, geometry, size),
                               correlate_adjoint_by_windows(backend, y, weight, geometry, size), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("out_channels", [1, 6])
def test_blocks_of_one_image_give_what_one_block_gives(monkeypatch, transposed, out_channels):
    """Every product runs a block of images at a time; blocks of one image give the one block's values and first
    and second derivatives (the weight gradient sums its blocks in another order: to rounding)."""
    from tinygen.ops import im2col

    x = random_tensor((5, 3, 9, 8), seed=1)
    weight = random_tensor((3, out_channels, 4, 4) if transposed else (out_channels, 3, 4, 4), seed=2)
    function = F.conv_transpose2d if transposed else F.conv2d

    def derivatives():
        x.grad = weight.grad = None
        y = function(x, weight, stride=2, padding=1)
        upstream = random_tensor(y.shape, seed=3, requires_grad=False)
        grad_x, grad_weight = tinygen.autograd.grad(y, [x, weight], upstream, create_graph=True)
        ((grad_x * grad_x).sum() + (grad_weight * grad_weight).sum()).backward()
        return [t.detach().numpy() for t in (y, grad_x, grad_weight, x.grad, weight.grad)]

    whole = derivatives()
    monkeypatch.setattr(im2col, "BLOCK_BYTES", 1)
    assert len(im2col.image_blocks(5, 100, 8)) == 5
    for one_block, blocks in zip(whole, derivatives()):
        np.testing.assert_allclose(blocks, one_block, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("wide", [3, 9])  # 3 <= s*s*2 channels: the phases path; 9 > 8: col2im's
def test_gradients_through_the_phases_and_the_blocks_on_permuted_operands(monkeypatch, wide):
    """DCGAN's geometry (k 4, s 2, p 1) in float64 against finite differences, first and second order, with blocks
    of one image and non-contiguous operands: conv2d's input gradient and conv_transpose2d's forward both run
    ``correlate_adjoint`` with ``wide`` channels in and 2 out."""
    from tinygen.ops import im2col

    monkeypatch.setattr(im2col, "BLOCK_BYTES", 1)

    def permuted(*shape):  # channels-last in memory, NCHW to look at
        return tinygen.randn(*shape, dtype=tinygen.float64).permute(0, 3, 1, 2).detach().requires_grad_()

    x, y, weight = permuted(2, 6, 6, 2), permuted(2, 3, 3, wide), permuted(wide, 4, 4, 2)
    assert not (x.is_contiguous() or y.is_contiguous() or weight.is_contiguous())
    for function, operands in ((F.conv2d, [x, weight]), (F.conv_transpose2d, [y, weight])):
        gradcheck(lambda a, w: function(a, w, stride=2, padding=1), operands)
        gradgradcheck(lambda a, w: function(a, w, stride=2, padding=1), operands)


@pytest.mark.parametrize("function, reference, input_shape, weight_shape", [
    (F.conv2d, conv2d_reference, (3, 1, 6, 5), (4, 1, 4, 4)),  # a single channel in: the product per image
    (F.conv_transpose2d, conv_transpose2d_reference, (3, 5, 3, 4), (5, 1, 4, 4)),  # one out (5 > 2*2*1: col2im)
])
def test_single_channel_windows_agree_with_the_formula(monkeypatch, function, reference, input_shape, weight_shape):
    """One-channel images take their own products (the NCHW output, or y's rows, read per image): values against
    the formula, and first and second derivatives against finite differences in float64, on transposed operands
    and in blocks of one image (DCGAN's first and last layers, k 4, s 2, p 1)."""
    from tinygen.ops import im2col

    monkeypatch.setattr(im2col, "BLOCK_BYTES", 1)

    def transposed(*shape):  # rows and columns swapped in memory
        swapped = shape[:-2] + shape[:-3:-1]
        return tinygen.randn(*swapped, dtype=tinygen.float64).transpose(-2, -1).detach().requires_grad_()

    x, weight = transposed(*input_shape), transposed(*weight_shape)
    assert not (x.is_contiguous() or weight.is_contiguous())
    np.testing.assert_allclose(function(x, weight, stride=2, padding=1).detach().numpy(),
                               reference(x, weight, stride=2, padding=1).detach().numpy(), rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, w: function(a, w, stride=2, padding=1), [x, weight])
    gradgradcheck(lambda a, w: function(a, w, stride=2, padding=1), [x, weight])


@pytest.mark.parametrize("function", [F.conv2d, F.conv_transpose2d])
def test_an_empty_batch_gives_an_empty_output_and_a_zero_weight_gradient(function):
    x = tinygen.randn(0, 3, 8, 8, requires_grad=True)
    weight = tinygen.randn(3, 3, 4, 4, requires_grad=True)
    y = function(x, weight, stride=2, padding=1)
    assert y.shape[0] == 0
    y.sum().backward()
    assert x.grad.shape == x.shape and not weight.grad.numpy().any()


@pytest.mark.parametrize(
    "input_size, kernel, stride, padding, dilation, expected",
    [(28, 4, 2, 1, 1, 14), (14, 4, 2, 1, 1, 7), (7, 3, 1, 0, 1, 5), (9, 3, 2, 0, 2, 3), (5, 5, 1, 0, 1, 1), (6, 1, 3, 2, 1, 4)],
)
def test_conv2d_output_size(input_size, kernel, stride, padding, dilation, expected):
    x = tinygen.zeros(1, 1, input_size, input_size + 1)
    y = F.conv2d(x, tinygen.zeros(2, 1, kernel, kernel), stride=stride, padding=padding, dilation=dilation)
    expected_width = (input_size + 1 + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    assert y.shape == (1, 2, expected, expected_width)


@pytest.mark.parametrize(
    "input_size, kernel, stride, padding, output_padding, dilation, expected",
    [(7, 4, 2, 1, 0, 1, 14), (14, 4, 2, 1, 0, 1, 28), (4, 3, 2, 1, 1, 1, 8), (3, 3, 1, 0, 1, 2, 8), (1, 1, 1, 0, 0, 1, 1)],
)
def test_conv_transpose2d_output_size(input_size, kernel, stride, padding, output_padding, dilation, expected):
    x = tinygen.zeros(2, 3, input_size, input_size)
    weight = tinygen.zeros(3, 5, kernel, kernel)
    y = F.conv_transpose2d(x, weight, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    assert y.shape == (2, 5, expected, expected)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv_transpose2d(y, w), x> = <y, conv2d(x, w)> for every x and y of matching sizes."""
    x, y = tinygen.randn(2, 3, 10, 9, dtype=tinygen.float64), tinygen.randn(2, 4, 4, 5, dtype=tinygen.float64)
    weight = tinygen.randn(4, 3, 3, 2, dtype=tinygen.float64)
    options = dict(stride=2, padding=1, dilation=(2, 1))
    left = (F.conv_transpose2d(y, weight, output_padding=1, **options) * x).sum().item()
    right = (F.conv2d(x, weight, **options) * y).sum().item()
    assert left == pytest.approx(right, rel=1e-12)


def test_float32_stays_float32():
    x = tinygen.randn(2, 3, 8, 8, requires_grad=True)
    weight = tinygen.randn(4, 3, 3, 3, requires_grad=True)
    bias = tinygen.randn(4, requires_grad=True)
    y = F.conv2d(x, weight, bias, stride=2, padding=1)
    z = F.conv_transpose2d(y, weight, bias=tinygen.randn(3), stride=2, padding=1, output_padding=1)
    z.backward(tinygen.randn(*z.shape))
    assert y.dtype == z.dtype == tinygen.float32
    assert x.grad.dtype == weight.grad.dtype == bias.grad.dtype == tinygen.float32


def test_unbatched_input_matches_a_batch_of_one():
    x = tinygen.randn(3, 7, 6)
    weight, weight_t = tinygen.randn(4, 3, 3, 3), tinygen.randn(3, 2, 3, 3)
    y = F.conv2d(x, weight, padding=1)
    assert y.shape == (4, 7, 6)
    np.testing.assert_allclose(y.numpy(), F.conv2d(x.unsqueeze(0), weight, padding=1)[0].numpy())
    z = F.conv_transpose2d(x, weight_t, stride=2)
    np.testing.assert_allclose(z.numpy(), F.conv_transpose2d(x.unsqueeze(0), weight_t, stride=2)[0].numpy())


def test_string_padding():
    x, weight = tinygen.randn(1, 2, 7, 6), tinygen.randn(3, 2, 4, 3)
    assert F.conv2d(x, weight, padding="same").shape == (1, 3, 7, 6)
    assert F.conv2d(x, weight, padding="valid").shape == F.conv2d(x, weight).shape


def test_weight_gradient_notices_an_input_changed_in_place():
    x = tinygen.randn(1, 1, 5, 5)
    weight = tinygen.randn(1, 1, 3, 3, requires_grad=True)
    y = F.conv2d(x, weight)
    x += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


# --- PyTorch as the oracle ---------------------------------------------------------------------------------

@pytest.mark.torch
@given(st.data())
def test_conv2d_matches_torch(data):
    torch = pytest.importorskip("torch")
    case = data.draw(conv_cases())
    _compare_with_torch(torch, F.conv2d, torch.nn.functional.conv2d, case, data.draw(st.integers(0, 2**16)), False)


@pytest.mark.torch
@given(st.data())
def test_conv_transpose2d_matches_torch(data):
    torch = pytest.importorskip("torch")
    case = data.draw(conv_cases(transposed=True))
    seed = data.draw(st.integers(0, 2**16))
    _compare_with_torch(torch, F.conv_transpose2d, torch.nn.functional.conv_transpose2d, case, seed, True)


def _compare_with_torch(torch, ours, theirs, case, seed, transposed):
    """Values and all gradients, in float32, for a random upstream gradient."""
    arrays = [a.astype(np.float32) for a in _host_operands(case, transposed, seed) if a is not None]
    mine = [tinygen.tensor(a, requires_grad=True) for a in arrays]
    reference = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_reference = ours(*mine, **_options(case)), theirs(*reference, **_options(case))
    upstream = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(np.float32)
    y.backward(tinygen.tensor(upstream))
    y_reference.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.detach().numpy(), y_reference.detach().numpy(), rtol=1e-4, atol=1e-4)
    for tensor, tensor_reference in zip(mine, reference):
        np.testing.assert_allclose(tensor.grad.numpy(), tensor_reference.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.torch
def test_string_padding_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, weight = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2, 4, 3))
    for padding, dilation in (("same", 1), ("same", (2, 1)), ("valid", 1)):
        y = F.conv2d(tinygen.tensor(x), tinygen.tensor(weight), padding=padding, dilation=dilation)
        expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(weight), padding=padding, dilation=dilation)
        np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_gradient_penalty_matches_torch():
    """Second derivatives through conv2d: the WGAN-GP penalty's gradient w.r.t. the critic's weights."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(shape) for shape in ((3, 2, 8, 8), (4, 2, 4, 4), (4,), (1, 4, 4, 4))]

    def penalty_gradients(library, conv2d, grad, tensors):
        x, weight, bias, head = tensors
        score = (conv2d(conv2d(x, weight, bias, stride=2, padding=1).tanh(), head)).sum()
        (slope,) = grad(score, x, create_graph=True)
        return grad(((slope * slope).sum(dim=(1, 2, 3)).sqrt() - 1).pow(2).mean(), [weight, bias, head])

    mine = penalty_gradients(tinygen, F.conv2d, tinygen.grad, [tinygen.tensor(a, requires_grad=True) for a in arrays])
    theirs = penalty_gradients(torch, torch.nn.functional.conv2d, torch.autograd.grad,
                               [torch.tensor(a, requires_grad=True) for a in arrays])
    for got, expected in zip(mine, theirs):
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-9, atol=1e-12)


# --- errors ------------------------------------------------------------------------------------------------

def test_wrong_channel_count_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"conv2d: .*\(4, 3, 3, 3\).*3 input channels.*\(2, 1, 8, 8\)"):
        F.conv2d(tinygen.zeros(2, 1, 8, 8), tinygen.zeros(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: .*\(3, 4, 3, 3\).*3 input channels.*\(2, 4, 8, 8\)"):
        F.conv_transpose2d(tinygen.zeros(2, 4, 8, 8), tinygen.zeros(3, 4, 3, 3))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"conv2d: the kernel \(5, 5\).*larger than the padded input \(4, 6\)"):
        F.conv2d(tinygen.zeros(1, 1, 4, 4), tinygen.zeros(1, 1, 5, 5), padding=(0, 1))
    with pytest.raises(ValueError, match=r"dilated span \(5, 3\)"):
        F.conv2d(tinygen.zeros(1, 1, 4, 4), tinygen.zeros(1, 1, 3, 2), dilation=2)


def test_non_positive_transposed_output_size():
    with pytest.raises(ValueError, match=r"conv_transpose2d: the output size \(-2, -2\) is not positive"):
        F.conv_transpose2d(tinygen.zeros(1, 1, 1, 1), tinygen.zeros(1, 1, 2, 2), padding=2)


@pytest.mark.parametrize("shape", [(8, 8), (1, 1, 1, 8, 8)])
def test_wrong_input_dims(shape):
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D input \(N, C, H, W\).*" + re.escape(str(shape))):
        F.conv2d(tinygen.zeros(*shape), tinygen.zeros(1, 1, 3, 3))


def test_wrong_weight_dims():
    expected = r"conv_transpose2d: expected a 4-D weight \(C_in, C_out, kH, kW\), got shape \(1, 3, 3\)"
    with pytest.raises(ValueError, match=expected):
        F.conv_transpose2d(tinygen.zeros(1, 1, 4, 4), tinygen.zeros(1, 3, 3))


def test_wrong_bias_shape():
    with pytest.raises(ValueError, match=r"conv2d: expected a bias of shape \(4,\).*got \(3,\)"):
        F.conv2d(tinygen.zeros(1, 2, 5, 5), tinygen.zeros(4, 2, 3, 3), tinygen.zeros(3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected a bias of shape \(5,\).*got \(1, 5\)"):
        F.conv_transpose2d(tinygen.zeros(1, 2, 5, 5), tinygen.zeros(2, 5, 3, 3), tinygen.zeros(1, 5))


def test_mixed_dtypes():
    with pytest.raises(TypeError, match="conv2d: input, weight and bias must share one floating-point dtype, got "
                                        "input float32, weight float64"):
        F.conv2d(tinygen.zeros(1, 1, 4, 4), tinygen.zeros(1, 1, 3, 3, dtype=tinygen.float64))


def test_mixed_devices():
    other = "cpu" if tinygen.get_default_device() != "cpu" else "strict"
    with pytest.raises(DeviceMismatchError, match="expected all tensors on one device"):
        F.conv2d(tinygen.zeros(1, 1, 4, 4), tinygen.zeros(1, 1, 3, 3, device=other))


@pytest.mark.parametrize(
    "options, pattern",
    [
        (dict(stride=0), "conv2d: stride must be positive, got 0"),
        (dict(stride=(1, -2)), r"conv2d: stride must be positive, got \(1, -2\)"),
        (dict(dilation=0), "conv2d: dilation must be positive, got 0"),
        (dict(padding=-1), "conv2d: padding must be non-negative, got -1"),
        (dict(padding=(1, 2, 3)), r"conv2d: padding must be an int or a pair of ints, got \(1, 2, 3\)"),
        (dict(stride=1.5), "conv2d: stride must be an int or a pair of ints, got 1.5"),
        (dict(padding="full"), "conv2d: padding must be an int, a pair, 'valid' or 'same', got 'full'"),
        (dict(padding="same", stride=2), "conv2d: padding='same' needs stride 1, got stride 2"),
        (dict(groups=2), "conv2d: groups=2 is not supported"),
    ],
)
def test_bad_conv2d_arguments(options, pattern):
    error = NotImplementedError if "groups" in options else (TypeError if "int or a pair" in pattern else ValueError)
    with pytest.raises(error, match=pattern):
        F.conv2d(tinygen.zeros(1, 2, 6, 6), tinygen.zeros(2, 2, 3, 3), **options)


@pytest.mark.parametrize(
    "options, pattern",
    [
        (dict(stride=2, output_padding=2),
         r"output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the dilation \(1, 1\)"),
        (dict(output_padding=(0, 1)), r"output_padding \(0, 1\) must be smaller than the stride \(1, 1\)"),
        (dict(output_padding=-1), "conv_transpose2d: output_padding must be non-negative, got -1"),
        (dict(padding=-1), "conv_transpose2d: padding must be non-negative, got -1"),
        (dict(stride=0), "conv_transpose2d: stride must be positive, got 0"),
    ],
)
def test_bad_conv_transpose2d_arguments(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        F.conv_transpose2d(tinygen.zeros(1, 2, 4, 4), tinygen.zeros(2, 3, 3, 3), **options)


def test_output_padding_below_the_dilation_is_allowed():
    """output_padding 1 with stride 1 (allowed by the dilation 2): the values of the plain loops, not just the shape."""
    rng = np.random.default_rng(7)
    x, weight = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 1, 3, 3))
    y = F.conv_transpose2d(tinygen.tensor(x), tinygen.tensor(weight), output_padding=1, dilation=2)
    assert y.shape == (1, 1, 9, 9)
    expected = naive_conv_transpose2d(x, weight, None, (1, 1), (0, 0), (1, 1), (2, 2))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_non_tensor_operands():
    with pytest.raises(TypeError, match="conv2d: expected weight to be a Tensor, got list"):
        F.conv2d(tinygen.zeros(1, 1, 4, 4), [[1.0]])
