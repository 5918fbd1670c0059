"""F.interpolate(mode="bilinear"), align_corners both ways: gradients (first and second order, float64, random
upstream, non-contiguous through gradcheck), the matrices' rows, and values and gradients against PyTorch."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.ops.interpolation import interpolation_matrix
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, random_tensor

RESIZES = [dict(size=(7, 3)), dict(scale_factor=2), dict(scale_factor=1.5), dict(scale_factor=0.5),
           dict(size=(1, 1)), dict(scale_factor=(2, 0.75))]


@pytest.mark.parametrize("resize", RESIZES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_gradient_matches_finite_differences(resize, align_corners):
    x = random_tensor((2, 2, 4, 5), seed=1)
    gradcheck(lambda t: F.interpolate(t, mode="bilinear", align_corners=align_corners, **resize), [x])


@pytest.mark.parametrize("align_corners", [False, True])
def test_second_derivative_matches_finite_differences(align_corners):
    x = random_tensor((1, 2, 3, 4), seed=2)
    gradgradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear", align_corners=align_corners), [x])


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("sizes", [(7, 4), (3, 5), (1, 4), (4, 1), (4, 4)])
def test_each_output_row_mixes_two_neighbours_with_weights_summing_to_one(align_corners, sizes):
    output_size, input_size = sizes
    matrix = interpolation_matrix(np, output_size, input_size, align_corners, None, np.float64)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert ((matrix != 0).sum(axis=1) <= 2).all() and (matrix >= 0).all()


def test_align_corners_keeps_the_corner_pixels():
    x = random_tensor((1, 1, 3, 4), requires_grad=False)
    y = F.interpolate(x, size=(5, 9), mode="bilinear", align_corners=True)
    assert_close(y[..., 0, 0], x[..., 0, 0])
    assert_close(y[..., -1, -1], x[..., -1, -1])


def test_upsample_layer_passes_bilinear_through():
    x = random_tensor((1, 1, 2, 2), requires_grad=False)
    layer = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    assert_close(layer(x), F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


def test_float32_stays_float32():
    x = tinygen.randn(1, 1, 3, 3)
    assert F.interpolate(x, scale_factor=2, mode="bilinear").dtype == tinygen.float32


@pytest.mark.torch
@pytest.mark.parametrize("resize", RESIZES + [dict(size=(5, 5)), dict(scale_factor=1.7, recompute_scale_factor=True)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_values_and_gradients_match_pytorch(resize, align_corners):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    theirs = torch.tensor(values, requires_grad=True)
    y_torch = torch.nn.functional.interpolate(theirs, mode="bilinear", align_corners=align_corners, **resize)
    upstream = np.random.default_rng(4).standard_normal(tuple(y_torch.shape))
    ours = tinygen.tensor(values, requires_grad=True)
    y = F.interpolate(ours, mode="bilinear", align_corners=align_corners, **resize)
    (gradient,) = tinygen.grad(y, ours, tinygen.tensor(upstream))
    (gradient_torch,) = torch.autograd.grad(y_torch, theirs, torch.tensor(upstream))
    assert_close(y, y_torch.detach().numpy(), rtol=1e-12, atol=1e-13)
    assert_close(gradient, gradient_torch.numpy(), rtol=1e-12, atol=1e-13)
