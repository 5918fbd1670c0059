"""erf (tinygen/ops/special.py): float64 accuracy against Python's math.erf, special values, float32, the gradient
against finite differences (first and second order, random upstream gradients, a non-contiguous input), PyTorch."""
import math

import numpy as np
import pytest

import tinygen
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


def test_float64_accuracy_in_every_range():
    """Within 1e-15 relative of math.erf (itself within about an ulp) across the three ranges of the approximation,
    their borders (0.46875 and 4), the tiny and the saturated."""
    ranges = [np.linspace(-7.0, 7.0, 2801), np.linspace(0.4686, 0.4689, 31), np.linspace(3.999, 4.001, 21)]
    points = np.concatenate(ranges + [np.geomspace(1e-300, 0.5, 200), -np.geomspace(1e-10, 40.0, 200)])
    ours = host(tinygen.erf(tinygen.tensor(points, dtype=tinygen.float64)))
    expected = np.array([math.erf(value) for value in points])
    relative = np.abs(ours - expected) / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    assert relative.max() < 1e-15, (relative.max(), points[relative.argmax()])


def test_special_values_and_dtypes():
    values = tinygen.tensor([math.inf, -math.inf, 0.0, -0.0, 1e300, math.nan], dtype=tinygen.float64)
    result = host(values.erf())
    assert result[:5].tolist() == [1.0, -1.0, 0.0, -0.0, 1.0] and math.copysign(1, result[3]) == -1
    assert math.isnan(result[5])
    x = tinygen.linspace(-4, 4, 101)
    assert x.erf().dtype == tinygen.float32
    expected = np.array([math.erf(value) for value in host(x).astype(np.float64)])
    assert np.abs(host(x.erf()) - expected).max() < 1e-6
    assert tinygen.tensor([0, 1]).erf().dtype == tinygen.float32  # integers give the default float dtype


def test_gradients():
    x = random_tensor((4, 10), seed=14, low=-3.0, high=3.0)[:, ::2].detach().requires_grad_()  # not contiguous
    gradcheck(tinygen.erf, [x])
    gradgradcheck(tinygen.erf, [x])


@pytest.mark.torch
def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(15).normal(scale=3.0, size=1000)
    assert np.abs(host(tinygen.tensor(a).erf()) - torch.tensor(a).erf().numpy()).max() < 1e-15
