"""Comparisons and logic (tinygen/ops/comparison.py): values against NumPy with broadcasting, boolean results that
never require grad, PyTorch's answers for ``x == None``, and the Python-bool helpers ``equal`` and ``allclose``."""
import operator

import numpy as np
import pytest

import tinygen

from helpers import host, random_tensor

OPERATORS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("compare", OPERATORS, ids=lambda f: f.__name__)
def test_comparisons_broadcast_like_numpy_and_give_booleans_without_a_graph(compare):
    a, b = random_tensor((3, 1), seed=1), random_tensor((4,), seed=2)
    b = tinygen.cat([b[:2], a[0].detach(), b[3:]])  # one tie
    for result, expected in ((compare(a, b), compare(host(a), host(b))), (compare(a, 0.5), compare(host(a), 0.5)),
                             (compare(0.5, a), compare(0.5, host(a)))):
        assert result.dtype == tinygen.bool_ and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(host(result), expected)


def test_logic_and_predicates():
    x = tinygen.tensor([[1.0, float("nan")], [float("inf"), -2.0]])
    positive = x > 0
    np.testing.assert_array_equal(host(~positive), [[False, True], [False, True]])
    np.testing.assert_array_equal(host(positive & (x < 5)), [[True, False], [False, False]])
    np.testing.assert_array_equal(host(positive | tinygen.isnan(x)), [[True, True], [True, False]])
    np.testing.assert_array_equal(host(tinygen.isfinite(x)), [[True, False], [False, True]])
    assert positive.any().item() and not positive.all().item()


def test_comparing_with_a_non_number_answers_as_python_does():
    x = tinygen.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711 (the operator itself is under test)
    with pytest.raises(TypeError, match="lt"):
        x < "text"


def test_equal_and_allclose_are_python_bools():
    a = tinygen.tensor([1.0, 2.0])
    assert tinygen.equal(a, tinygen.tensor([1.0, 2.0])) is True
    assert tinygen.equal(a, tinygen.tensor([[1.0, 2.0]])) is False  # another shape, even if it broadcasts
    assert tinygen.allclose(a, a + 1e-9) is True and tinygen.allclose(a, a + 1e-3) is False
