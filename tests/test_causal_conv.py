"""CausalConv2d, PixelCNN's masked convolution: which pixels an output sees, gradients (first and second order,
input and weight) against finite differences, the masked weights, state, errors."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.nn.layers.causal_conv import causal_mask
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


def _layer(in_channels=2, out_channels=3, kernel_size=3, include_center=False, seed=0):
    tinygen.manual_seed(seed)
    return nn.CausalConv2d(in_channels, out_channels, kernel_size, include_center=include_center,
                           dtype=tinygen.float64)


def _before(position, other, include_center):
    """Whether pixel ``other`` comes before pixel ``position`` in raster order (or is it, with include_center)."""
    return other < position or (include_center and other == position)


#: (in, out) channels: one and one take the sum of shifted images, the others conv2d
CHANNELS = [(1, 1), (2, 3)]


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("include_center", [False, True])
@pytest.mark.parametrize("kernel_size", [3, 5])
def test_an_output_pixel_depends_on_exactly_the_pixels_before_it_in_its_window(kernel_size, include_center, channels):
    """The Jacobian, read off by moving one pixel of the first input channel at a time: output (r, c) changes
    with input (i, j) if and only if (i, j) is before (r, c) in raster order (or is (r, c) itself with
    include_center) and lies in the k x k window around it."""
    layer = _layer(*channels, kernel_size, include_center)
    with tinygen.no_grad():  # every weight the mask keeps away from 0, so "depends" is visible
        layer.weight.copy_(layer.mask * (1.0 + tinygen.rand(*layer.weight.shape, dtype=tinygen.float64)))
    height, width, reach = 6, 7, kernel_size // 2
    x = random_tensor((1, channels[0], height, width), requires_grad=False)
    base = host(layer(x))[0, -1]
    for i, j in np.ndindex(height, width):
        moved = host(x).copy()
        moved[0, 0, i, j] += 1.0
        changed = host(layer(tinygen.tensor(moved)))[0, -1] != base
        for r, c in np.ndindex(height, width):
            expected = _before((r, c), (i, j), include_center) and abs(i - r) <= reach and abs(j - c) <= reach
            assert changed[r, c] == expected, f"output {(r, c)} and input {(i, j)}"


def test_the_mask_of_a_first_layer_and_of_a_later_one():
    """Mask "A" (PixelCNN's first layer) hides the centre and what follows it; mask "B" shows the centre."""
    np.testing.assert_array_equal(host(causal_mask(5, include_center=False)), [
        [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(host(causal_mask(3, include_center=True)), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    assert host(causal_mask(1, include_center=False)).tolist() == [[0.0]]


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("include_center", [False, True])
def test_gradients_through_the_layer(include_center, channels):
    """The input's first and second derivatives by finite differences (non-contiguous copies too, a random
    upstream gradient); the output and the input's, weight's and bias's gradients are conv2d's with the masked
    weight (for one channel, the sum of shifted images agrees with it), and the weight's also by finite
    differences: 0 at every masked entry."""
    layer = _layer(*channels, 3, include_center)
    x = random_tensor((2, channels[0], 5, 4), seed=1)
    gradcheck(layer, [x])
    gradgradcheck(layer, [x])
    upstream = random_tensor(layer(x).shape, seed=2, requires_grad=False)
    inputs = [x, layer.weight, layer.bias]
    reference = F.conv2d(x, layer.weight * layer.mask, layer.bias, padding=1)
    np.testing.assert_allclose(host(layer(x)), host(reference), rtol=1e-13, atol=1e-14)
    got = tinygen.grad(layer(x), inputs, upstream)
    for gradient, want in zip(got, tinygen.grad(reference, inputs, upstream)):
        np.testing.assert_allclose(host(gradient), host(want), rtol=1e-13, atol=1e-14)
    got = got[1:]
    values, eps = host(layer.weight).copy(), 1e-6
    numeric = np.zeros_like(values)
    for index in np.ndindex(values.shape):
        for sign in (1, -1):
            shifted = values.copy()
            shifted[index] += sign * eps
            with tinygen.no_grad():
                layer.weight.copy_(tinygen.tensor(shifted))
            numeric[index] += sign * float((host(layer(x)) * host(upstream)).sum())
    numeric /= 2 * eps
    np.testing.assert_allclose(host(got[0]), numeric, rtol=1e-6, atol=1e-8)
    hidden = host(layer.mask) == 0
    assert hidden.any() and (host(got[0])[:, :, hidden] == 0).all()


def test_the_masked_weights_start_at_zero_and_training_keeps_them_there():
    """The weight shows the kernel that is applied: its masked entries are 0 at construction, after
    ``reset_parameters`` and after optimizer steps (they get no gradient)."""
    layer = nn.CausalConv2d(1, 4, 5)
    hidden = host(layer.mask) == 0
    assert (host(layer.weight)[:, :, hidden] == 0).all() and (host(layer.weight)[:, :, ~hidden] != 0).all()
    optimizer = tinygen.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        (layer(tinygen.randn(2, 1, 6, 6)) * tinygen.randn(2, 4, 6, 6)).sum().backward()
        optimizer.step()
    assert (host(layer.weight)[:, :, hidden] == 0).all()
    layer.reset_parameters()
    assert (host(layer.weight)[:, :, hidden] == 0).all()


def test_the_mask_is_not_saved_and_follows_the_dtype():
    layer = nn.CausalConv2d(1, 1, 3)
    assert set(layer.state_dict()) == {"weight", "bias"}
    fresh = nn.CausalConv2d(1, 1, 3)
    fresh.load_state_dict(layer.state_dict())
    x = tinygen.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(host(fresh(x)), host(layer(x)))
    assert layer.to(tinygen.float64).mask.dtype == tinygen.float64
    assert "include_center=False" in repr(layer) and "padding=(1, 1)" in repr(layer)


@pytest.mark.parametrize("channels", CHANNELS)
def test_an_unbatched_image_is_one_of_a_batch(channels):
    layer = _layer(*channels, 5)
    x = random_tensor((channels[0], 6, 5), requires_grad=False)
    np.testing.assert_array_equal(host(layer(x)), host(layer(x[None]))[0])


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("wrong, message", [
    ("channels", r"expects \d input channels, but the input of shape \(2, \d, 6, 6\) has \d"),
    ("dims", r"expected a 4-D input \(N, C, H, W\) or a 3-D unbatched one \(C, H, W\), got shape \(6, 6\)"),
    ("dtype", r"input, weight and bias must share one floating-point dtype, got input float32, weight float64"),
    ("device", r"expected all tensors on one device, got 'strict' and 'cpu'"),
])
def test_a_bad_input_is_a_one_line_error_naming_the_layer(channels, wrong, message):
    layer = _layer(*channels, 3).to("cpu")  # the CPU whatever the session's device, so that "strict" is another one
    x = {"channels": tinygen.zeros(2, channels[0] + 1, 6, 6, dtype=tinygen.float64, device="cpu"),
         "dims": tinygen.zeros(6, 6, dtype=tinygen.float64, device="cpu"),
         "dtype": tinygen.zeros(2, channels[0], 6, 6, device="cpu"),
         "device": tinygen.zeros(2, channels[0], 6, 6, dtype=tinygen.float64, device="strict")}[wrong]
    with pytest.raises((ValueError, TypeError, RuntimeError), match=r"^CausalConv2d\(.*\): .*" + message) as raised:
        layer(x)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("arguments, error, message", [
    ((1, 1, 4), ValueError, "CausalConv2d: kernel_size must be an odd positive int (the centre is the pixel being "
                            "predicted), got 4"),
    ((1, 1, (3, 3)), ValueError, "CausalConv2d: kernel_size must be an odd positive int"),
    ((1, 1, True), ValueError, "CausalConv2d: kernel_size must be an odd positive int"),
    ((1, 1, 3, "B"), TypeError, "CausalConv2d: include_center must be True or False, got 'B'"),
    ((0, 1, 3), ValueError, "CausalConv2d: in_channels must be a positive int, got 0"),
])
def test_bad_arguments_are_one_line_errors(arguments, error, message):
    with pytest.raises(error) as raised:
        nn.CausalConv2d(*arguments)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
