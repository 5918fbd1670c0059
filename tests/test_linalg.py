"""matmul: gradients (first and second order) for every NumPy case (1-D, 2-D, batched, broadcast batch),
values against NumPy, and shape errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(tst.shapes(max_dims=2, max_side=3))
    other_batch = draw(tst.broadcastable_shapes(batch, max_dims=2))
    left = draw(st.sampled_from([(k,), (n, k), batch + (n, k)]))
    right = draw(st.sampled_from([(k,), (k, m), other_batch + (k, m)]))
    return left, right


@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_gradients_and_values(shapes, data):
    a = data.draw(tst.tensors(shapes[0], requires_grad=True))
    b = data.draw(tst.tensors(shapes[1], requires_grad=True))
    gradcheck(tinygen.matmul, [a, b])
    gradgradcheck(tinygen.matmul, [a, b])
    assert_close(a @ b, host(a) @ host(b))


@pytest.mark.parametrize("left, right", [((2, 3), (3, 4)), ((3, 3), (3, 3)), ((2, 3, 4), (2, 4, 4)),
                                         ((2, 1, 3, 4), (3, 4, 2)), ((3,), (3, 2))])
def test_matmul_gradients_for_fixed_shapes(left, right):
    """The drawn cases above, made certain: non-square, square (where a transposed gradient has the right shape),
    batched square, broadcast batch, 1-D."""
    a, b = random_tensor(left, seed=1), random_tensor(right, seed=2)
    gradcheck(tinygen.matmul, [a, b])
    gradgradcheck(tinygen.matmul, [a, b])


@pytest.mark.parametrize("left, right", [
    ((4, 1), (1, 3)), ((2, 3, 1), (1, 5)), ((2, 1, 3, 1), (3, 1, 2)), ((1,), (1, 3)),
])
def test_an_inner_size_of_one_is_the_outer_product(left, right):
    """k = 1 runs as a broadcast product a[i] b[j] (no BLAS call): NumPy's matmul values, and its first and second
    derivatives against finite differences, also on a strided (non-contiguous) right operand."""
    a, b = random_tensor(left, seed=1), random_tensor(right, seed=2)
    np.testing.assert_array_equal((a @ b).detach().numpy(), host(a) @ host(b))
    gradcheck(tinygen.matmul, [a, b])
    gradgradcheck(tinygen.matmul, [a, b])
    if len(right) >= 2:
        columns = random_tensor(right[:-1] + (2 * right[-1],), seed=3)[..., ::2].detach().requires_grad_()
        assert not columns.is_contiguous()
        np.testing.assert_array_equal((a @ columns).detach().numpy(), host(a) @ host(columns))
        gradcheck(tinygen.matmul, [a, columns])


def test_batched_times_matrix_sums_the_weight_gradient_over_the_batch():
    a = tinygen.tensor(np.random.default_rng(0).normal(size=(5, 2, 3)), requires_grad=True)
    w = tinygen.tensor(np.random.default_rng(1).normal(size=(3, 4)), requires_grad=True)
    upstream = tinygen.tensor(np.random.default_rng(2).normal(size=(5, 2, 4)))
    (a @ w).backward(upstream)
    assert_close(w.grad, np.einsum("bnk,bnm->km", host(a), host(upstream)))


def test_shape_errors_name_the_inner_sizes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 6\) do not fit: the inner sizes 4 and 5 differ"):
        tinygen.ones(3, 4) @ tinygen.ones(5, 6)
    with pytest.raises(ValueError, match="matmul: both operands need at least one dimension"):
        tinygen.ones(3) @ tinygen.tensor(2.0)
    with pytest.raises(ValueError, match="matmul \\(batch dimensions\\): shapes"):
        tinygen.ones(2, 3, 4) @ tinygen.ones(3, 4, 5)
