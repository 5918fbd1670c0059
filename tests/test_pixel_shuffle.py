"""pixel_shuffle and pixel_unshuffle: PyTorch's channel order, each the other's inverse, gradients first and second
order on a non-contiguous input, and one-line errors."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor

# shape of the shuffle's input, factor
CASES = [((1, 4, 2, 3), 2), ((2, 18, 2, 1), 3), ((3, 2, 8, 2, 2), 2), ((4, 1, 1), 1)]


@pytest.mark.parametrize("shape, r", CASES)
def test_unshuffle_inverts_shuffle_and_the_gradients_check(shape, r):
    x = random_tensor(shape, seed=len(shape) + r)
    y = F.pixel_shuffle(x, r)
    *batch, channels, height, width = shape
    assert y.shape == (*batch, channels // (r * r), height * r, width * r)
    assert np.array_equal(host(F.pixel_unshuffle(y, r)), host(x))
    noncontiguous = random_tensor(shape[:-2] + shape[-1:] + shape[-2:-1], seed=1).transpose(-1, -2).detach()
    noncontiguous.requires_grad_(True)
    for function, inputs in ((lambda t: F.pixel_shuffle(t, r), [noncontiguous]),
                             (lambda t: F.pixel_unshuffle(t, r), [y.detach().requires_grad_(True)])):
        gradcheck(function, inputs)
        gradgradcheck(function, inputs)


@pytest.mark.torch
@pytest.mark.parametrize("shape, r", CASES)
def test_values_and_layers_match_torch(shape, r):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    x = random_tensor(shape, seed=2)
    expected = torch.nn.functional.pixel_shuffle(to_torch(x), r)
    assert_close(F.pixel_shuffle(x, r), expected.numpy(), rtol=0, atol=0)
    assert_close(nn.PixelUnshuffle(r)(F.pixel_shuffle(x, r)), torch.nn.PixelUnshuffle(r)(expected).numpy(), rtol=0,
                 atol=0)
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


@pytest.mark.parametrize("call, message", [
    (lambda: F.pixel_shuffle(tinygen.ones(1, 6, 2, 2), 2),
     r"pixel_shuffle: the channels \(6, dim -3 of input of shape \(1, 6, 2, 2\)\) must be divisible by "
     r"upscale_factor\^2 = 4"),
    (lambda: F.pixel_unshuffle(tinygen.ones(1, 1, 4, 3), 2),
     r"pixel_unshuffle: height and width \(4, 3 in input of shape \(1, 1, 4, 3\)\) must be divisible by "
     r"downscale_factor = 2"),
    (lambda: F.pixel_shuffle(tinygen.ones(4, 4), 2), r"pixel_shuffle: expected an input of shape \(\*, C, H, W\)"),
    (lambda: F.pixel_unshuffle(tinygen.ones(1, 4, 4), 0), "pixel_unshuffle: downscale_factor must be a positive"),
])
def test_bad_input_is_a_one_line_error_naming_the_op(call, message):
    with pytest.raises(ValueError, match=message):
        call()
