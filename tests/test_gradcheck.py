"""The checker itself: it must reject wrong gradients with a message a student can act on, refuse low
precision, notice kinks, mutated inputs and layout-dependent ops, and accept correct ones."""
import pytest

import tinygen
from tinygen.autograd import Function
from tinygen.testing import GradcheckError, gradcheck, gradgradcheck

from helpers import random_tensor


class WrongMul(Function):
    """z = a * b with the gradients of a and b swapped: right for a == b, wrong otherwise."""

    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.saved_inputs
        return g * a, g * b


class StandardizeWithoutVarianceTerm(Function):
    """y = (x - mean x) / std x, whose backward forgets the term that flows through std:
    right:  dL/dx = (g - mean g - y mean(g y)) / std;   here: (g - mean g) / std.
    With an all-ones g both are exactly 0 (mean g = 1, mean y = 0), so a check of y.sum() cannot see it."""

    def forward(self, x):
        self.std = x.std()
        return (x - x.mean()) / self.std

    def backward(self, g):
        return (g - g.mean()) / float(self.std)


def standardize(x):
    return (x - x.mean()) / ((x - x.mean()) ** 2).mean().sqrt()


def test_wrong_backward_is_rejected_naming_input_index_and_values():
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    with pytest.raises(GradcheckError) as failure:
        gradcheck(lambda a, b: WrongMul()(a, b), [a, b])
    message = str(failure.value)
    assert "gradient mismatch for input 0 'a' (shape (2, 3)) at index (" in message
    assert "analytic" in message and "numeric" in message and "tolerance" in message


class WrongSecondFactor(Function):
    """z = a * b whose gradient for b is g * a * 2: input 0 is right, only input 1 is wrong."""

    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.saved_inputs
        return g * b, g * a * 2


def test_a_wrong_gradient_on_the_second_input_only_is_rejected():
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 1 'b' \(shape \(2, 3\)\)"):
        gradcheck(lambda a, b: WrongSecondFactor()(a, b), [a, b])
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 1 'b'"):  # after an input without grad
        gradcheck(lambda c, b: WrongSecondFactor()(c, b), [random_tensor((2, 3), seed=3, requires_grad=False), b])


def test_a_random_upstream_gradient_catches_what_a_sum_would_hide():
    x = random_tensor((5,), seed=3)
    (wrong,) = tinygen.grad(StandardizeWithoutVarianceTerm()(x).sum(), [x])
    (right,) = tinygen.grad(standardize(x).sum(), [x])
    assert abs(wrong).max().item() < 1e-12 and abs(right).max().item() < 1e-12  # all-ones: indistinguishable
    gradcheck(standardize, [x])
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0"):
        gradcheck(lambda x: StandardizeWithoutVarianceTerm()(x), [x])


def test_wrong_second_derivative_is_rejected():
    class FirstOrderOnly(Function):
        """y = x^2 whose backward uses a constant copy of x: right first derivative, zero second derivative."""

        save_inputs = True

        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.saved_inputs
            return 2.0 * g * x.detach()

    x = random_tensor((3,), seed=4)
    gradcheck(lambda x: FirstOrderOnly()(x), [x])
    with pytest.raises(GradcheckError, match="gradgradcheck: gradient mismatch for input 0"):
        gradgradcheck(lambda x: FirstOrderOnly()(x), [x])


def test_float32_inputs_are_refused():
    x = random_tensor((3,), seed=5, dtype=tinygen.float32)
    with pytest.raises(GradcheckError, match="input 0 'x' has dtype float32; finite differences are meaningless"):
        gradcheck(tinygen.tanh, [x])


def test_a_failure_at_a_kink_is_explained():
    x = tinygen.tensor([0.0, 1.0], dtype=tinygen.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="one-sided slopes there differ .* non-differentiable"):
        gradcheck(tinygen.relu, [x])


def test_mutating_an_input_is_reported():
    def clears_the_last_entry(x):  # which the output does not depend on: every gradient agrees
        y = x[:2] * 2
        x.array[-1] = 0.0
        return y

    x = random_tensor((3,), seed=6)
    with pytest.raises(GradcheckError, match=r"^gradcheck: fn modified input 0 'x' \(shape \(3,\)\) in place$"):
        gradcheck(clears_the_last_entry, [x], check_noncontiguous=False)


def test_an_op_that_depends_on_memory_layout_is_reported():
    class LayoutDependent(Function):
        """Reads the flat memory buffer instead of the logical order: right only for contiguous input."""

        def forward(self, x):
            self.flat = x.reshape(-1) if x.flags.c_contiguous else x.T.reshape(-1)
            return x * 1.0

        def backward(self, g):
            return g * tinygen.Tensor._make(self.flat.reshape(g.shape), g.backend)

    x = random_tensor((2, 3), seed=7)
    with pytest.raises(GradcheckError, match="non-contiguous"):
        gradcheck(lambda x: LayoutDependent()(x), [x], atol=1e9)


def test_nothing_to_check_is_an_error():
    with pytest.raises(GradcheckError, match="no input requires grad"):
        gradcheck(tinygen.tanh, [random_tensor((2,), requires_grad=False)])


def test_numpy_arrays_get_a_message_that_says_what_to_pass_instead():
    import numpy as np

    x = np.random.default_rng(0).standard_normal(3)
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(GradcheckError) as failure:
            check(tinygen.tanh, [x])
        name = check.__name__
        assert str(failure.value) == (
            f"{name}: input 0 'x' is a numpy.ndarray, not a Tensor: {name} differentiates tinygen code, so pass "
            "tensors with requires_grad=True, e.g. tinygen.tensor(x, dtype=tinygen.float64, requires_grad=True); for "
            "a forward/backward pair written with plain arrays, use tinygen.testing.check_backward"
        )


def test_tensors_that_do_not_require_grad_get_told_how_to():
    with pytest.raises(GradcheckError, match="no input requires grad, so there is nothing to check; make the tensors "
                                             "to check with requires_grad=True"):
        gradcheck(tinygen.tanh, [random_tensor((2,), requires_grad=False)])


def test_inputs_are_named_by_the_functions_parameters_or_by_names():
    def product(first, second):
        return WrongMul()(first, second)

    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 0 'first' \(shape \(2, 3\)\)"):
        gradcheck(product, [a, b])
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 0 'a' \(shape \(2, 3\)\)"):
        gradcheck(lambda *xs: WrongMul()(*xs), [a, b], names=["a", "b"])
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 0 \(shape \(2, 3\)\)"):
        gradcheck(lambda *xs: WrongMul()(*xs), [a, b])


def test_gradgradcheck_names_the_upstream_gradient_as_such():
    class WrongInUpstream(Function):
        """y = x^2 whose backward returns x g + x g.detach(): the right value 2 g x, and the right derivative with
        respect to x, but half the derivative with respect to g (one term treats g as a constant)."""

        save_inputs = True

        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.saved_inputs
            return x * g + x * g.detach()

    x = random_tensor((3,), seed=4)
    gradcheck(lambda x: WrongInUpstream()(x), [x])
    with pytest.raises(GradcheckError,
                       match=r"gradgradcheck: gradient mismatch for the upstream gradient \(shape \(3,\)\)"):
        gradgradcheck(lambda x: WrongInUpstream()(x), [x])


def test_a_failure_in_gradcheck_names_a_likely_cause_too():
    class DoubledSquare(Function):
        """y = x^2 with a backward twice too large."""

        save_inputs = True

        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.saved_inputs
            return 4.0 * g * x

    x = random_tensor((3,), seed=8)
    with pytest.raises(GradcheckError,
                       match="likely cause: the analytic gradient is 2 times the numeric one everywhere"):
        gradcheck(lambda x: DoubledSquare()(x), [x])


def _double(values, requires_grad=True):
    return tinygen.tensor(values, dtype=tinygen.float64, requires_grad=requires_grad)


def test_a_tensor_passed_twice_is_one_input_and_a_planted_bug_fails():
    """PyTorch's gradcheck passes fn(a, a); the analytic side sums both uses, so the numeric side moves both."""
    a = _double([1.0, 2.0, 3.0])
    assert gradcheck(lambda x, y: x * y + y.exp(), [a, a]) and gradgradcheck(lambda x, y: x * y * y, [a, a])
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0 'x'"):
        gradcheck(lambda x, y: x * y.detach(), [a, a])


@pytest.mark.parametrize("fn, inputs, message", [
    (lambda x: x.float() * x.float(), [[1.1, 2.3]], r"fn returned float32 for float64 inputs"),
    (lambda x: x * x, [[float("nan"), 1.0]], r"input 0 'x' holds nan at index \(0,\): finite differences need"),
    (lambda x: x / 0.0, [[1.0, 2.0]], r"fn returned inf at index \(0,\) of output 0 \(shape \(2,\)\)"),
])
def test_what_finite_differences_cannot_check_is_named_not_reported_as_a_mismatch(fn, inputs, message):
    with pytest.raises(GradcheckError, match=message):
        gradcheck(fn, [_double(values) for values in inputs])


def test_a_mutated_input_is_reported_before_any_comparison():
    def scaled(x, m):
        m.mul_(2.0)
        return x * m

    with pytest.raises(GradcheckError, match=r"^gradcheck: fn modified input 1 'm' \(shape \(2,\)\) in place$"):
        gradcheck(scaled, [_double([1.0, 2.0]), _double([3.0, 4.0], requires_grad=False)])


@pytest.mark.parametrize("setting, message", [
    (dict(eps=0), "eps must be a positive finite number, got 0"), (dict(eps=float("nan")), "eps must be"),
    (dict(atol=-1), "atol must be a non-negative finite number, got -1"), (dict(rtol="0.1"), "rtol must be"),
])
def test_settings_out_of_range_are_refused_by_name(setting, message):
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(GradcheckError, match=message):
            check(lambda x: x * x, [_double([1.0, 2.0])], **setting)


def test_a_constant_input_may_hold_infinities():
    """Only the inputs that finite differences move must be finite: a -inf mask before a softmax is fine."""
    mask = tinygen.tensor([0.0, float("-inf"), 0.0], dtype=tinygen.float64)
    assert gradcheck(lambda x, m: (x + m).softmax(dim=0), [_double([0.5, 1.0, -1.0]), mask])
