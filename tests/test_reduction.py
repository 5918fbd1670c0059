"""Reductions: gradients (first and second order) over drawn shapes, dims and keepdim; values against NumPy;
tie handling of max/min; stable logsumexp; bad dims."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor


@st.composite
def tensor_and_dims(draw, min_dims=1):
    x = draw(tst.tensors(tst.shapes(min_dims=min_dims, max_dims=3, max_side=4), requires_grad=True))
    dims = draw(st.one_of(st.none(), st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim,
                                               unique_by=lambda d: d % x.ndim).map(tuple)))
    return x, dims, draw(st.booleans())


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k, unbiased=False), lambda a, d, k: a.var(axis=d, keepdims=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(d if d is not None else tuple(range(x.ndim)), keepdim=k),
                  lambda a, d, k: np.log(np.exp(a).sum(axis=d, keepdims=k))),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda a, d, k: a.max(axis=d, keepdims=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda a, d, k: a.min(axis=d, keepdims=k)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(case=tensor_and_dims())
def test_reduction_gradients_and_values(name, case):
    x, dims, keepdim = case
    function, reference = REDUCTIONS[name]
    gradcheck(lambda x: function(x, dims, keepdim), [x])
    gradgradcheck(lambda x: function(x, dims, keepdim), [x])
    assert_close(function(x, dims, keepdim), reference(host(x), dims, keepdim))


@given(case=tensor_and_dims())
def test_std_and_unbiased_var(case):
    x, dims, keepdim = case
    count = int(np.prod([x.shape[d] for d in (dims if dims is not None else range(x.ndim))]))
    if count < 2:
        return
    gradcheck(lambda x: x.std(dims, keepdim=keepdim), [x])
    assert_close(x.var(dims, keepdim=keepdim), host(x).var(axis=dims, keepdims=keepdim, ddof=1))


def test_max_with_dim_returns_values_and_indices_like_pytorch():
    x = random_tensor((3, 4), seed=1)
    values, indices = x.max(dim=1)
    assert_close(values, host(x).max(axis=1))
    assert host(indices).tolist() == host(x).argmax(axis=1).tolist()
    assert indices.dtype == tinygen.int64
    gradcheck(lambda x: x.max(dim=0, keepdim=True).values, [x])
    gradgradcheck(lambda x: x.min(dim=1).values, [x])


def test_max_gradient_goes_to_the_first_index_and_amax_splits_ties():
    x = tinygen.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max(dim=1).values.sum().backward()
    assert host(x.grad).tolist() == [[0.0, 1.0, 0.0]]
    x.grad = None
    x.amax().backward()
    assert host(x.grad).tolist() == [[0.0, 0.5, 0.5]]
    x.grad = None
    x.max().backward()  # a full reduction splits ties, as PyTorch does
    assert host(x.grad).tolist() == [[0.0, 0.5, 0.5]]


def test_logsumexp_is_stable_for_huge_and_minus_infinite_values():
    x = tinygen.tensor([[1e4, 1e4], [-np.inf, -np.inf], [-1e4, 0.0]], dtype=tinygen.float64, requires_grad=True)
    y = x.logsumexp(1)
    assert_close(y[[0, 2]], [1e4 + np.log(2.0), 0.0])
    assert host(y)[1] == -np.inf
    y[[0, 2]].sum().backward()
    assert np.all(np.isfinite(host(x.grad)))


def test_argmax_and_argmin():
    x = random_tensor((3, 5), seed=2)
    assert host(x.argmax()).item() == host(x).argmax()
    assert host(x.argmin(dim=0)).tolist() == host(x).argmin(axis=0).tolist()
    assert x.argmax(dim=1, keepdim=True).shape == (3, 1)


def test_mean_of_an_integer_tensor_is_float():
    assert tinygen.tensor([1, 2]).mean().dtype == tinygen.float32


def test_sum_over_no_elements_and_max_over_an_empty_dimension_error():
    x = tinygen.zeros(0, 3)
    assert host(x.sum(0)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"amax: cannot take the max over dimension 0 of size 0 \(input shape \(0, 3\)\)"):
        x.amax()
    with pytest.raises(ValueError, match="argmax: cannot take the max over dimension 0 of size 0"):
        x.argmax()
    assert x.amax(1).shape == (0,) and x.argmax(1).shape == (0,)  # only an empty slice has no max


def test_out_of_range_dim_is_a_clear_error():
    with pytest.raises(IndexError, match="sum: dim 2 is out of range for a tensor with 2 dimensions"):
        tinygen.ones(2, 3).sum(2)
    with pytest.raises(ValueError, match="repeats a dimension"):
        tinygen.ones(2, 3).sum((0, -2))
