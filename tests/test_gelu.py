"""F.gelu and nn.GELU, exact (through erf) and by tanh: values against the formulas and PyTorch, gradients against
finite differences (first and second order, random upstream gradients, non-contiguous inputs), errors."""
import math

import numpy as np
import pytest

import tinygen
import tinygen.nn as nn
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


def exact(a):
    values = [0.5 * value * (1.0 + math.erf(value / math.sqrt(2.0))) for value in a.reshape(-1)]
    return np.array(values).reshape(a.shape)


def by_tanh(a):
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a ** 3)))


@pytest.mark.parametrize("approximate, reference", [("none", exact), ("tanh", by_tanh)])
def test_values_and_gradients(approximate, reference):
    x = random_tensor((3, 10), seed=16, low=-4.0, high=4.0)[:, ::2].detach().requires_grad_()  # not contiguous
    assert np.allclose(host(F.gelu(x, approximate=approximate)), reference(host(x)), rtol=1e-14, atol=1e-15)
    gradcheck(lambda t: F.gelu(t, approximate), [x])
    gradgradcheck(lambda t: F.gelu(t, approximate), [x])


def test_the_layer_dtypes_and_errors():
    layer = nn.GELU()
    assert repr(layer) == "GELU(approximate='none')" and repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    x = tinygen.tensor([-1.0, 0.0, 2.0])
    assert layer(x).dtype == tinygen.float32 and np.allclose(host(layer(x)), exact(host(x)), rtol=1e-6)
    assert F.gelu(x.double()).dtype == tinygen.float64
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(x, approximate="erf")


@pytest.mark.torch
def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(17).normal(scale=3.0, size=(4, 250))
    upstream = np.random.default_rng(18).normal(size=(4, 250))
    for approximate in ("none", "tanh"):
        ours, theirs = tinygen.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, y_torch = F.gelu(ours, approximate=approximate), torch.nn.functional.gelu(theirs, approximate=approximate)
        (gradient,) = tinygen.grad(y, ours, tinygen.tensor(upstream))
        (gradient_torch,) = torch.autograd.grad(y_torch, theirs, torch.tensor(upstream))
        assert np.abs(host(y) - y_torch.detach().numpy()).max() < 1e-14
        assert np.abs(host(gradient) - gradient_torch.numpy()).max() < 1e-14
        layer, torch_layer = nn.GELU(approximate), torch.nn.GELU(approximate)
        assert repr(layer) == repr(torch_layer)
        assert np.abs(host(layer(tinygen.tensor(a, dtype=tinygen.float32)))
                      - torch_layer(torch.tensor(a, dtype=torch.float32)).numpy()).max() < 1e-6
