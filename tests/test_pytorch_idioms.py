"""A third probe with PyTorch scripts (a conditional GAN, a VAE with buffers, a training loop with a Dataset, tensor
idioms): what it found, each against PyTorch's answer (skipped without PyTorch) and without it."""
import numpy as np
import pytest

import tinygen
import tinygen.nn as nn
import tinygen.optim as optim

from helpers import host


# --- & | ^ ~ are bitwise on integer tensors (they were logical: tensor([1, 2, 3]) & 1 gave all True) ----------
def test_bitwise_operators_on_integer_tensors_are_bitwise():
    i = tinygen.tensor([1, 2, 3, -4])
    np.testing.assert_array_equal(host(i & 1), [1, 0, 1, 0])
    np.testing.assert_array_equal(host(i | 4), [5, 6, 7, -4])
    np.testing.assert_array_equal(host(i ^ 1), [0, 3, 2, -3])
    np.testing.assert_array_equal(host(~i), [-2, -3, -4, 3])
    np.testing.assert_array_equal(host(6 & i), [0, 2, 2, 4])
    for result in (i & 1, i | 4, i ^ 1, ~i, 6 & i):
        assert result.dtype == tinygen.int64 and not result.requires_grad
    assert (tinygen.tensor([1, 2], dtype=tinygen.int32) & tinygen.tensor([3, 3])).dtype == tinygen.int64


def test_bitwise_operators_on_bool_tensors_stay_logical():
    a, b = tinygen.tensor([True, True, False]), tinygen.tensor([True, False, False])
    np.testing.assert_array_equal(host(a & b), [True, False, False])
    np.testing.assert_array_equal(host(a | b), [True, True, False])
    np.testing.assert_array_equal(host(a ^ b), [False, True, False])
    np.testing.assert_array_equal(host(~a), [False, False, True])
    np.testing.assert_array_equal(host(True ^ a), [False, False, True])
    assert (a & b).dtype == tinygen.bool_


@pytest.mark.parametrize("apply", [lambda x: x & 1, lambda x: x | (x > 0), lambda x: 1 ^ x, lambda x: ~x],
                         ids=["and", "or", "rxor", "invert"])
def test_bitwise_operators_refuse_float_tensors(apply):
    with pytest.raises(TypeError, match="bitwise ops take bool or integer tensors, got float32"):
        apply(tinygen.tensor([0.5, 2.0]))


def test_bitwise_operators_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([[5, -3, 0], [7, 12, -1]])
    for op in (lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a & b):
        ours = op(tinygen.tensor(values), tinygen.tensor(values[::-1].copy()))
        theirs = op(torch.tensor(values), torch.tensor(values[::-1].copy()))
        np.testing.assert_array_equal(host(ours), theirs.numpy())


# --- an integer raised to an integer power stays an integer (2 ** arange(3) was float32) ----------------------
def test_integer_powers_of_integer_tensors_are_integers():
    i = tinygen.tensor([1, 2, 3])
    for result, expected in ((2 ** i, [2, 4, 8]), (i ** i, [1, 4, 27]), (i ** tinygen.tensor(2), [1, 4, 9])):
        assert result.dtype == tinygen.int64
        np.testing.assert_array_equal(host(result), expected)
    assert (2.0 ** i).dtype == tinygen.float32 and (i ** tinygen.tensor([0.5])).dtype == tinygen.float32
    with pytest.raises(RuntimeError, match="integers to negative integer powers are not allowed"):
        2 ** (-i)


def test_integer_powers_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([0, 1, 2, 5])
    for op in (lambda a: 3 ** a, lambda a: a ** a, lambda a: a ** 2, lambda a: 2.5 ** a, lambda a: a ** 0.5):
        ours, theirs = op(tinygen.tensor(values)), op(torch.tensor(values))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-6)
