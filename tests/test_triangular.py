"""triu, tril and diagonal: values against NumPy and PyTorch, gradients against finite differences (first and
second order, random upstream gradients, non-contiguous inputs), batched inputs, bad arguments (probe: missing
from transformer scripts' causal masks)."""
import numpy as np
import pytest

import tinygen

from helpers import check_values_and_gradients, host, random_tensor

CALLS = {
    "triu": (lambda x: x.triu(), lambda a: np.triu(a)),
    "triu_1": (lambda x: tinygen.triu(x, 1), lambda a: np.triu(a, 1)),
    "tril": (lambda x: tinygen.tril(x), lambda a: np.tril(a)),
    "tril_minus_1": (lambda x: x.tril(diagonal=-1), lambda a: np.tril(a, -1)),
    "diagonal": (lambda x: x.diagonal(), lambda a: np.diagonal(a).copy()),
    "diagonal_offset_dims": (lambda x: tinygen.diagonal(x, 1, -1, 0), lambda a: np.diagonal(a, 1, -1, 0).copy()),
    "diagonal_below": (lambda x: x.diagonal(offset=-2, dim1=1, dim2=2), lambda a: np.diagonal(a, -2, 1, 2).copy()),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_gradients(name):
    function, reference = CALLS[name]
    x = random_tensor((2, 8, 5), seed=1)[:, ::2].detach().requires_grad_()  # (2, 4, 5), not contiguous
    check_values_and_gradients(function, reference, x)


def test_masks_dtypes_and_errors():
    causal = tinygen.tril(tinygen.ones(3, 3, dtype=tinygen.bool))
    assert causal.dtype == tinygen.bool and host(causal).tolist() == np.tril(np.ones((3, 3), bool)).tolist()
    assert tinygen.ones(2, 3, dtype=tinygen.int64).triu().dtype == tinygen.int64
    assert tinygen.ones(2, 3).diagonal(offset=5).shape == (0,)
    assert tinygen.arange(6).reshape(2, 3).diagonal(1).tolist() == [1, 5]
    with pytest.raises(ValueError, match=r"triu: expects a tensor of at least 2 dims .* got shape \(3,\)"):
        tinygen.ones(3).triu()
    with pytest.raises(TypeError, match="tril: diagonal must be an int, got float"):
        tinygen.ones(3, 3).tril(0.5)
    with pytest.raises(ValueError, match="diagonal: dim1 and dim2 must be different dims, got 1 and 1"):
        tinygen.ones(3, 3).diagonal(0, 1, -1)
    with pytest.raises(IndexError, match="diagonal: dim 2 is out of range"):
        tinygen.ones(3, 3).diagonal(0, 0, 2)


@pytest.mark.torch
def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).normal(size=(2, 3, 4))
    upstream = np.random.default_rng(3).normal(size=(2, 3, 4))
    for name, function in (("triu", lambda x: x.triu(1)), ("tril", lambda x: x.tril(-1))):
        ours, theirs = tinygen.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        function(ours).backward(tinygen.tensor(upstream))
        function(theirs).backward(torch.tensor(upstream))
        assert np.array_equal(host(function(ours)), function(theirs).detach().numpy()), name
        assert np.array_equal(host(ours.grad), theirs.grad.numpy()), name
    for offset, dim1, dim2 in ((0, 0, 1), (1, -1, 0), (-1, 2, 1), (3, 1, 2)):
        ours, theirs = tinygen.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, y_torch = ours.diagonal(offset, dim1, dim2), theirs.diagonal(offset, dim1, dim2)
        assert np.array_equal(host(y), y_torch.detach().numpy())
        g = np.random.default_rng(4).normal(size=tuple(y.shape))
        y.backward(tinygen.tensor(g))
        y_torch.backward(torch.tensor(g))
        assert np.array_equal(host(ours.grad), theirs.grad.numpy())
