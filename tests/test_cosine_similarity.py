"""F.cosine_similarity: values against PyTorch (broadcast shapes, near-zero and zero vectors), gradients against
finite differences to second order on non-contiguous inputs (probe: missing from ranking and retrieval scripts)."""
import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor


def test_values_and_gradients():
    x1 = random_tensor((3, 10, 2), seed=1)[:, ::2].detach().requires_grad_()  # (3, 5, 2), not contiguous
    x2 = random_tensor((5, 1), seed=2)
    function = lambda a, b: F.cosine_similarity(a, b, dim=1)  # noqa: E731
    a, b = host(x1), np.broadcast_to(host(x2), (3, 5, 2))
    expected = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert_close(function(x1, x2), expected, rtol=1e-12)
    gradcheck(function, [x1, x2])
    gradgradcheck(function, [x1, x2])


def test_small_and_zero_vectors():
    tiny = tinygen.tensor([[1e-9, 2e-9, 0.0], [0.0, 0.0, 0.0]], dtype=tinygen.float64, requires_grad=True)
    other = tinygen.tensor([[0.5, -1.0, 2.0]], dtype=tinygen.float64, requires_grad=True)
    y = F.cosine_similarity(tiny, other)
    assert_close(y, [(0.5e-9 - 2e-9) / (1e-8 * np.sqrt(5.25)), 0.0], rtol=1e-12)
    small = random_tensor((2, 3), seed=4, low=-0.3, high=0.3)  # norms below eps = 1: the norm is the constant eps
    gradcheck(lambda a, b: F.cosine_similarity(a, b, eps=1.0), [small, other])
    gradgradcheck(lambda a, b: F.cosine_similarity(a, b, eps=1.0), [small, other])
    y.sum().backward()
    assert np.isfinite(host(tiny.grad)).all() and np.isfinite(host(other.grad)).all()
    assert F.cosine_similarity(tinygen.ones(3, dtype=tinygen.int64), tinygen.ones(3), dim=0).dtype == tinygen.float32
    with pytest.raises(IndexError, match="cosine_similarity: dim 1 is out of range"):
        F.cosine_similarity(tinygen.ones(3), tinygen.ones(3))
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 3\) and \(4, 3\) cannot be broadcast"):
        F.cosine_similarity(tinygen.ones(2, 3), tinygen.ones(4, 3))


@pytest.mark.torch
def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    cases = [((4, 1, 5), (3, 5), -1), ((2, 6), (2, 6), 1), ((6,), (6,), 0)]
    for shape1, shape2, dim in cases:
        a, b = rng.normal(size=shape1), rng.normal(size=shape2)
        ours = [tinygen.tensor(v, requires_grad=True) for v in (a, b)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (a, b)]
        y, y_torch = F.cosine_similarity(*ours, dim=dim), torch.nn.functional.cosine_similarity(*theirs, dim=dim)
        assert_close(y, y_torch.detach().numpy(), rtol=1e-13, atol=1e-15)
        g = rng.normal(size=tuple(y.shape))
        y.backward(tinygen.tensor(g))
        y_torch.backward(torch.tensor(g))
        for mine, reference in zip(ours, theirs):
            assert_close(mine.grad, reference.grad.numpy(), rtol=1e-12, atol=1e-15)
    # near-zero and zero vectors: the same values (each norm clamped at eps), in float32 too
    tiny = np.array([[1e-9, 2e-9, 0.0], [0.0, 0.0, 0.0], [3e-5, 0.0, 1e-5]])
    for dtype in ("float32", "float64"):
        y = F.cosine_similarity(tinygen.tensor(tiny, dtype=dtype), tinygen.tensor([[0.5, -1.0, 2.0]], dtype=dtype))
        y_torch = torch.nn.functional.cosine_similarity(torch.tensor(tiny, dtype=getattr(torch, dtype)),
                                                        torch.tensor([[0.5, -1.0, 2.0]], dtype=getattr(torch, dtype)))
        assert_close(y, y_torch.numpy(), rtol=1e-6 if dtype == "float32" else 1e-13, atol=1e-12)
