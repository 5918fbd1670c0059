"""sort, argsort and topk (tinygen/ops/sorting.py): values and indices against NumPy and PyTorch (distinct values:
tinygen's sort is stable, PyTorch's default one may order ties otherwise), gradients against finite differences
(first and second order, random upstream gradients, non-contiguous inputs), stable ties, NaN, errors."""
import numpy as np
import pytest

import tinygen

from helpers import check_values_and_gradients, host, random_tensor

CALLS = {  # function, its values by NumPy
    "sort_last": (lambda x: x.sort().values, lambda a: np.sort(a, axis=-1)),
    "sort_0_descending": (lambda x: tinygen.sort(x, 0, descending=True)[0], lambda a: -np.sort(-a, axis=0)),
    "topk_3": (lambda x: x.topk(3).values, lambda a: -np.sort(-a, axis=-1)[..., :3]),
    "topk_2_smallest_dim_1": (lambda x: tinygen.topk(x, 2, dim=1, largest=False)[0],
                              lambda a: np.sort(a, axis=1)[:, :2]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_gradients(name):
    function, reference = CALLS[name]
    x = random_tensor((3, 8, 5), seed=11)[:, ::2].detach().requires_grad_()  # (3, 4, 5), not contiguous
    check_values_and_gradients(function, reference, x)


def test_indices_pick_the_values_and_the_gradient_goes_to_them():
    x = tinygen.tensor([[0.5, -1.0, 2.0, 0.25], [3.0, 1.0, -2.0, 0.0]], dtype=tinygen.float64, requires_grad=True)
    values, indices = x.sort(dim=1, descending=True)
    assert host(indices).tolist() == [[2, 0, 3, 1], [0, 1, 3, 2]] and indices.dtype == tinygen.int64
    assert np.array_equal(host(x.gather(1, indices)), host(values))
    assert host(x.argsort(dim=1, descending=True)).tolist() == host(indices).tolist()
    top = x.topk(2, dim=1)
    assert host(top.indices).tolist() == [[2, 0], [0, 1]] and not top.indices.requires_grad
    (top.values * tinygen.tensor([[1.0, 10.0], [100.0, 1000.0]], dtype=tinygen.float64)).sum().backward()
    assert host(x.grad).tolist() == [[10.0, 0.0, 1.0, 0.0], [100.0, 1000.0, 0.0, 0.0]]


def test_ties_keep_their_order_both_ways_and_nan_is_largest():
    x = tinygen.tensor([2.0, 1.0, 2.0, float("nan"), 1.0])
    assert host(x.sort().indices).tolist() == [1, 4, 0, 2, 3]
    assert host(x.sort(descending=True).indices).tolist() == [3, 0, 2, 1, 4]
    assert host(tinygen.tensor([True, False, True]).sort(descending=True).indices).tolist() == [0, 2, 1]
    assert tinygen.tensor([3, 1, 2], dtype=tinygen.int32).sort().values.dtype == tinygen.int32


def test_0d_and_empty_inputs_and_errors():
    scalar = tinygen.tensor(3.0)
    assert scalar.sort().values.shape == () and host(scalar.topk(1).indices).tolist() == 0
    assert scalar.argsort().shape == () and tinygen.ones(2, 0).sort().values.shape == (2, 0)
    assert tinygen.ones(2, 3).topk(0).values.shape == (2, 0)
    with pytest.raises(ValueError, match=r"topk: k must be an int in \[0, 3\] \(the size of dimension 1\), got 4"):
        tinygen.ones(2, 3).topk(4)
    with pytest.raises(ValueError, match="topk: k must be an int in"):
        tinygen.ones(2, 3).topk(-1)
    with pytest.raises(IndexError, match="sort: dim 2 is out of range for a tensor with 2 dimensions"):
        tinygen.ones(2, 3).sort(2)
    with pytest.raises(TypeError, match="argsort: expected input to be a Tensor, got list"):
        tinygen.argsort([3, 1, 2])


def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(12).normal(size=(3, 4, 5))
    upstream = np.random.default_rng(13).normal(size=(3, 4, 5))
    for dim, descending in ((-1, False), (0, True), (1, False)):
        ours, theirs = tinygen.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        mine, reference = ours.sort(dim, descending), theirs.sort(dim, descending)
        assert np.array_equal(host(mine.indices), reference.indices.numpy())
        assert np.array_equal(host(mine.values), reference.values.detach().numpy())
        assert np.array_equal(host(ours.argsort(dim, descending)), theirs.argsort(dim, descending).numpy())
        (mine.values * tinygen.tensor(upstream)).sum().backward()
        (reference.values * torch.tensor(upstream)).sum().backward()
        assert np.array_equal(host(ours.grad), theirs.grad.numpy())
    for k, dim, largest in ((3, -1, True), (2, 0, False), (4, 1, True)):
        mine, reference = tinygen.tensor(a).topk(k, dim, largest), torch.tensor(a).topk(k, dim, largest)
        assert np.array_equal(host(mine.indices), reference.indices.numpy())
        assert np.array_equal(host(mine.values), reference.values.numpy())
    ties = [2.0, 1.0, 2.0, float("nan"), 1.0]
    for descending in (False, True):
        mine, reference = tinygen.tensor(ties).sort(descending=descending), torch.tensor(ties).sort(
            descending=descending, stable=True)
        assert host(mine.indices).tolist() == reference.indices.tolist()
