"""Adaptive average pooling (F.adaptive_avg_pool2d / 1d, nn.AdaptiveAvgPool2d / 1d): values against a window-by-
window reference and PyTorch (sizes that divide, that do not, larger than the input, None), gradients against finite
differences to second order on a non-contiguous input (probe: missing from style-transfer and classifier scripts)."""
import math

import numpy as np
import pytest

import tinygen
import tinygen.nn as nn
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor

SIZES = [3, (2, 4), (None, 2), (7, 1), 1, (5, 6)]


def _windows(extent, size):
    return [(i * extent // size, math.ceil((i + 1) * extent / size)) for i in range(size)]


def _reference(a, size):
    size_h, size_w = size if isinstance(size, tuple) else (size, size)
    size_h, size_w = size_h or a.shape[-2], size_w or a.shape[-1]
    return np.array([[a[..., r0:r1, c0:c1].mean((-2, -1)) for c0, c1 in _windows(a.shape[-1], size_w)]
                     for r0, r1 in _windows(a.shape[-2], size_h)]).transpose(2, 3, 0, 1)


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_values_and_gradients(size):
    x = random_tensor((2, 3, 10, 6), seed=1)[:, :, ::2].detach().requires_grad_()  # (2, 3, 5, 6), not contiguous
    assert_close(F.adaptive_avg_pool2d(x, size), _reference(host(x), size), rtol=1e-12)
    gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])
    gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])


def test_layers_unbatched_1d_and_errors():
    x = random_tensor((3, 5, 6), seed=2)
    assert_close(nn.AdaptiveAvgPool2d((2, None))(x), _reference(host(x)[None], (2, None))[0], rtol=1e-12)
    assert nn.AdaptiveAvgPool2d(1)(tinygen.ones(4, 8, 7, 7)).shape == (4, 8, 1, 1)
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == "AdaptiveAvgPool2d(output_size=(2, None))"
    signal = random_tensor((2, 3, 8), seed=3)[..., ::2].detach().requires_grad_()  # (2, 3, 4), not contiguous
    assert_close(nn.AdaptiveAvgPool1d(3)(signal), _reference(host(signal)[..., None, :], (1, 3))[..., 0, :],
                 rtol=1e-12)
    gradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), [signal])
    gradgradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), [signal])
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expects a 4-D \(batched\) or 3-D input, got shape "
                                         r"\(5, 6\)"):
        F.adaptive_avg_pool2d(tinygen.ones(5, 6), 2)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: each output size must be a positive int or None, "
                                         "got 0"):
        F.adaptive_avg_pool2d(tinygen.ones(1, 5, 6), (0, 2))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be an int or a pair, got \(1, 2, 3\)"):
        F.adaptive_avg_pool2d(tinygen.ones(1, 5, 6), (1, 2, 3))


@pytest.mark.torch
@pytest.mark.parametrize("size", SIZES, ids=str)
def test_pytorch_agrees(size):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).normal(size=(2, 3, 5, 6))
    ours, theirs = tinygen.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, y_torch = nn.AdaptiveAvgPool2d(size)(ours), torch.nn.AdaptiveAvgPool2d(size)(theirs)
    assert_close(y, y_torch.detach().numpy(), rtol=1e-13, atol=1e-15)
    upstream = np.random.default_rng(5).normal(size=tuple(y.shape))
    y.backward(tinygen.tensor(upstream))
    y_torch.backward(torch.tensor(upstream))
    assert_close(ours.grad, theirs.grad.numpy(), rtol=1e-13, atol=1e-15)
    assert repr(nn.AdaptiveAvgPool2d(size)) == repr(torch.nn.AdaptiveAvgPool2d(size))
    signal = a[0]
    assert_close(F.adaptive_avg_pool1d(tinygen.tensor(signal), 4),
                 torch.nn.functional.adaptive_avg_pool1d(torch.tensor(signal), 4).numpy(), rtol=1e-13, atol=1e-15)
    assert repr(nn.AdaptiveAvgPool1d(4)) == repr(torch.nn.AdaptiveAvgPool1d(4))


def test_the_1d_layer_is_not_a_2d_layer():
    """As PyTorch's: code that finds a model's 2-D pooling layers by isinstance must not catch the 1-D one."""
    assert not isinstance(tinygen.nn.AdaptiveAvgPool1d(3), tinygen.nn.AdaptiveAvgPool2d)
