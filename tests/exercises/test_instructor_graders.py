"""The checks of ``tinygen.exercises.grading`` that an instructor's grade() is built from fail planted bugs on their
own: a grader that calls one check cannot be passed by a wrong forward, a float64 leak or a view that needs a
contiguous input."""
import pytest

from tinygen.backend.dtypes import float64
from tinygen.exercises.grading import ExerciseFailure, Hints, check_forward, check_gradients, random_tensor


def linear(x, w, b):
    return x @ w.transpose(-1, -2) + b


HINTS = {name: Hints(what=f"dL/d{name} has wrong values") for name in "xwb"}


def _check(student):
    x, w, b = random_tensor((4, 3), 0), random_tensor((5, 3), 1), random_tensor((5,), 2)
    check_gradients("linear of x (4, 3)", student, linear, [x, w, b], ["x", "w", "b"], HINTS)


def test_check_gradients_passes_an_answer_written_another_way():
    _check(lambda x, w, b: (x.unsqueeze(-2) * w).sum(dim=-1) + b)


@pytest.mark.parametrize("student, message", [
    (lambda x, w, b: linear(x, w, b) + 1.0, "linear of x (4, 3): the output is wrong at index"),
    (lambda x, w, b: linear(x, w, b).double(), "linear of x (4, 3), in float32: the output has dtype float64, "
                                               "expected float32"),
    (lambda x, w, b: (x.view(-1) * 1).view(*x.shape) @ w.transpose(-1, -2) + b,
     "linear of x (4, 3), with the inputs and g laid out with strides: RuntimeError: view"),
])
def test_check_gradients_fails_a_wrong_forward_a_dtype_leak_and_a_view_of_a_strided_input(student, message):
    """Before, check_gradients compared only the gradients, in float64 and on contiguous inputs: a forward off by
    a constant (whose gradients are right), a float64 result and x.view(-1) on a strided x all passed."""
    with pytest.raises(ExerciseFailure) as failure:
        _check(student)
    assert failure.value.message.startswith(message)


def softplus(x):
    return (x.exp() + 1.0).log()


@pytest.mark.parametrize("student, message", [
    (lambda x: (x.exp() + 1.0).log() + 1e-3, "softplus of x (2, 3): the output is wrong at index"),
    (lambda x: softplus(x).to(dtype=float64),
     "softplus of x (2, 3), in float32: the output has dtype float64, expected float32"),
    (lambda x: softplus(x.view(-1)).view(*x.shape), "softplus of x (2, 3), with the inputs laid out with strides: "
                                                    "RuntimeError: view"),
])
def test_check_forward_fails_a_dtype_leak_and_a_view_of_a_strided_input(student, message):
    """Before, check_forward compared the output in float64 on a contiguous input only: a result made float64 (a
    float64 constant or mask) and x.view(-1) on a strided x passed."""
    check_forward("softplus of x (2, 3)", lambda x: x.abs() + (-x.abs()).exp().log1p() + (x - x.abs()) / 2, softplus,
                  [random_tensor((2, 3), 0)], ["x"], HINTS["x"])  # written another way: passes
    with pytest.raises(ExerciseFailure) as failure:
        check_forward("softplus of x (2, 3)", student, softplus, [random_tensor((2, 3), 0)], ["x"], HINTS["x"])
    assert failure.value.message.startswith(message)
