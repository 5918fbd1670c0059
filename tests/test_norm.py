"""tinygen.norm / Tensor.norm and F.normalize: gradients (first and second order, float64, random upstream gradients,
non-contiguous inputs through gradcheck), the zero vector, errors, and values and gradients against PyTorch."""
import math

import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor

ORDERS = [2, 1, 3, 1.5, math.inf, -math.inf, "fro"]
DIMS = [None, 1, (0, 2), -1]


@pytest.mark.parametrize("p", ORDERS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_gradient_matches_finite_differences(p, dim, keepdim):
    x = random_tensor((3, 4, 5), seed=1)  # distinct magnitudes: no ties at the inf-norms' maxima
    gradcheck(lambda t: tinygen.norm(t, p, dim, keepdim), [x])


@pytest.mark.parametrize("p", [2, 3, 1.5, "fro"])
@pytest.mark.parametrize("dim", [None, 1])
def test_second_derivative_matches_finite_differences(p, dim):
    x = random_tensor((3, 4), seed=2)
    gradgradcheck(lambda t: t.norm(p, dim=dim), [x])


@pytest.mark.parametrize("p", [1, math.inf])
def test_second_derivative_of_the_piecewise_linear_norms_is_zero(p):
    x = random_tensor((3, 4), seed=3)
    gradgradcheck(lambda t: t.norm(p, dim=1), [x])


def test_gradient_penalty_shape_of_use():
    """((||grad||_2 - 1)^2).mean() differentiated again: the WGAN-GP pattern."""
    x = random_tensor((4, 6), seed=4)
    weight = random_tensor((6, 3), seed=5)

    def penalty(x, weight):
        out = (x @ weight).tanh().sum()
        (gradient,) = tinygen.grad(out, x, create_graph=True)
        return ((gradient.norm(2, dim=1) - 1) ** 2).mean()

    gradcheck(penalty, [x, weight])


@pytest.mark.parametrize("p", [2, 3, 0.5, 1, math.inf])
def test_zero_vector_has_gradient_zero(p):
    x = tinygen.tensor([[0.0, 0.0], [3.0, -4.0]], dtype=tinygen.float64, requires_grad=True)
    (gradient,) = tinygen.grad(x.norm(p, dim=1).sum(), x)
    assert np.all(np.isfinite(host(gradient))) and np.all(host(gradient)[0] == 0)


def test_values_of_special_orders():
    x = tinygen.tensor([[3.0, -4.0, 0.0]], dtype=tinygen.float64)
    assert x.norm().item() == 5.0 and x.norm(1).item() == 7.0 and x.norm(0).item() == 2.0
    assert x.norm(math.inf).item() == 4.0 and x.norm(-math.inf).item() == 0.0
    assert x.norm(2, dim=1, keepdim=True).shape == (1, 1)


def test_ties_at_the_infinity_norm_share_the_gradient():
    x = tinygen.tensor([2.0, -2.0, 1.0], dtype=tinygen.float64, requires_grad=True)
    (gradient,) = tinygen.grad(x.norm(math.inf), x)
    assert_close(gradient, [0.5, -0.5, 0.0])


def test_errors_name_the_op_and_the_fix():
    with pytest.raises(ValueError, match="norm: p must be a number, inf, -inf or 'fro', got 'nuc'"):
        tinygen.ones(2, 2).norm("nuc")
    with pytest.raises(TypeError, match="norm: expected a floating-point input, got dtype int64"):
        tinygen.tensor([1, 2]).norm()
    assert tinygen.tensor([3, 4]).norm(dtype=tinygen.float64).item() == 5.0
    with pytest.raises(ValueError, match="empty slice"):
        tinygen.zeros(2, 0).norm(math.inf, dim=1)


@pytest.mark.torch
@pytest.mark.parametrize("p", ORDERS + [0.5])
@pytest.mark.parametrize("dim", DIMS)
def test_values_and_gradients_match_pytorch(p, dim):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(6).standard_normal((3, 4, 5))
    upstream_shape = torch.tensor(values).norm(p, dim=dim).shape
    upstream = np.random.default_rng(7).standard_normal(tuple(upstream_shape))
    ours = tinygen.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    y, y_torch = ours.norm(p, dim=dim), theirs.norm(p, dim=dim)
    (gradient,) = tinygen.grad(y, ours, tinygen.tensor(upstream))
    (gradient_torch,) = torch.autograd.grad(y_torch, theirs, torch.tensor(upstream))
    assert_close(y, y_torch.detach().numpy(), rtol=1e-12)
    assert_close(gradient, gradient_torch.numpy(), rtol=1e-10, atol=1e-12)


# --- F.normalize: x / max(||x||_p, eps) -----------------------------------------------------------------------

@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, -1), (3, (0, 2)), (2, None)])
def test_normalize_values_and_gradients(p, dim):
    x = random_tensor((3, 8, 5), seed=8)[:, ::2].detach().requires_grad_()  # (3, 4, 5), not contiguous
    a = host(x)
    assert_close(F.normalize(x, p, dim), a / np.sum(np.abs(a) ** p, axis=dim, keepdims=True) ** (1 / p), rtol=1e-12)
    gradcheck(lambda t: F.normalize(t, p, dim), [x])
    gradgradcheck(lambda t: F.normalize(t, p, dim), [x])


def test_normalize_keeps_a_zero_vector_and_the_dtype():
    x = tinygen.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert_close(F.normalize(x), np.array([[0.6, 0.8], [0.0, 0.0]], dtype=np.float32))  # dim=1: each row
    assert F.normalize(x).dtype == tinygen.float32 and F.normalize(x.double()).dtype == tinygen.float64
    with pytest.raises(TypeError, match="normalize: eps must be a real number, got str"):
        F.normalize(x, eps="small")
    with pytest.raises(IndexError, match="norm: dim 2 is out of range"):
        F.normalize(x, dim=2)


@pytest.mark.torch
def test_normalize_matches_pytorch_with_a_zero_vector():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(9).standard_normal((3, 4, 5))
    values[0, :, 1] = 0.0  # a zero vector along dim 1: divided by eps, its gradient 1 / eps
    upstream = np.random.default_rng(10).standard_normal((3, 4, 5))
    for p, dim in ((2.0, 1), (1.0, 1), (3, (0, 2)), (math.inf, 0)):
        ours = tinygen.tensor(values, requires_grad=True)
        theirs = torch.tensor(values, requires_grad=True)
        y, y_torch = F.normalize(ours, p, dim), torch.nn.functional.normalize(theirs, p, dim)
        (gradient,) = tinygen.grad(y, ours, tinygen.tensor(upstream))
        (gradient_torch,) = torch.autograd.grad(y_torch, theirs, torch.tensor(upstream))
        assert_close(y, y_torch.detach().numpy(), rtol=1e-12)
        assert_close(gradient, gradient_torch.numpy(), rtol=1e-10, atol=1e-12)
