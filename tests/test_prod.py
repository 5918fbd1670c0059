"""prod (tinygen/ops/reduction.py): values against NumPy and PyTorch, gradients against finite differences (first and
second order, random upstream gradients, non-contiguous inputs) with and without zeros, int64 for integers."""
import numpy as np
import pytest

import tinygen
from tinygen.testing import gradcheck, gradgradcheck

from helpers import check_values_and_gradients, host, random_tensor

CALLS = {
    "all": (lambda x: x.prod(), lambda a: np.prod(a)),
    "dim_0": (lambda x: tinygen.prod(x, 0), lambda a: np.prod(a, axis=0)),
    "dim_last_keepdim": (lambda x: x.prod(-1, keepdim=True), lambda a: np.prod(a, axis=-1, keepdims=True)),
}

# rows with no zero, one zero, two zeros and three zeros: each case of the backward
WITH_ZEROS = [[1.5, -2.0, 0.5, 1.25], [0.0, -2.0, 0.5, 1.25], [1.5, 0.0, 0.5, 0.0], [0.0, 0.0, 1.5, 0.0]]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_gradients(name):
    function, reference = CALLS[name]
    x = random_tensor((3, 8, 4), seed=1)[:, ::2].detach().requires_grad_()  # (3, 4, 4), not contiguous
    check_values_and_gradients(function, reference, x, rtol=1e-12)


@pytest.mark.parametrize("dim", [0, 1])
def test_gradients_at_zeros_to_second_order(dim):
    """The product of the others is right with zeros, where g * prod / x is 0 / 0 (prod is linear in each entry,
    so the finite differences are exact across a zero)."""
    x = tinygen.tensor(WITH_ZEROS, dtype=tinygen.float64, requires_grad=True)
    gradcheck(lambda x: x.prod(dim), [x])
    gradgradcheck(lambda x: x.prod(dim), [x])
    row = tinygen.tensor(WITH_ZEROS[1], dtype=tinygen.float64, requires_grad=True)
    row.prod().backward()
    assert host(row.grad).tolist() == [-1.25, 0.0, 0.0, 0.0]  # -2 * 0.5 * 1.25 at the zero, 0 elsewhere


def test_dtypes_and_errors():
    assert tinygen.tensor([1, 2, 3], dtype=tinygen.int32).prod().dtype == tinygen.int64  # as PyTorch
    assert tinygen.tensor([[True, True], [True, False]]).prod(1).dtype == tinygen.int64
    assert host(tinygen.tensor([[True, True], [True, False]]).prod(1)).tolist() == [1, 0]
    assert tinygen.ones(2, 3).prod(0).dtype == tinygen.float32
    assert tinygen.ones(2, 0).prod(1).tolist() == [1.0, 1.0]  # the empty product
    assert tinygen.tensor(3.0).prod(0).shape == ()
    with pytest.raises(IndexError, match="prod: dim 2 is out of range for a tensor with 2 dimensions"):
        tinygen.ones(2, 3).prod(2)
    with pytest.raises(TypeError, match="prod: dim must be an int, got tuple"):
        tinygen.ones(2, 3).prod((0, 1))  # as PyTorch: one dim or all of them


def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.array(WITH_ZEROS) * np.random.default_rng(2).uniform(0.5, 2.0, size=(4, 4))
    upstream = np.random.default_rng(3).normal(size=4)
    for dim in (None, 0, 1):
        ours = tinygen.tensor(a, requires_grad=True)
        theirs = torch.tensor(a, requires_grad=True)
        results = [x.prod() if dim is None else x.prod(dim) for x in (ours, theirs)]
        assert np.allclose(host(results[0]), results[1].detach().numpy(), rtol=1e-12)
        weights = upstream[0] if dim is None else upstream
        (results[0] * tinygen.tensor(weights)).sum().backward()
        (results[1] * torch.tensor(weights)).sum().backward()
        assert np.allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-12, atol=0)
    assert torch.tensor([1, 2], dtype=torch.int32).prod().dtype == torch.int64
