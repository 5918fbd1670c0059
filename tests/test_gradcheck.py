"""The checker itself: it must reject wrong gradients with a message a student can act on, refuse low
precision, notice kinks, mutated inputs and layout-dependent ops, and accept correct ones."""
import numpy as np
import pytest

import tinygen
from tinygen.autograd import Function
from tinygen.testing import GradcheckError, gradcheck, gradgradcheck

from helpers import host, random_tensor


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


class FirstOrderOnly(Function):
    """y = x^2 whose backward uses a constant copy of x: right first derivative, zero second derivative."""

    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.saved_inputs
        return 2.0 * g * x.detach()


def test_wrong_second_derivative_is_rejected():
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


# --- PyTorch's calls (torch.autograd.gradcheck is tinygen.testing.gradcheck) ------------------------------------


def test_the_signatures_begin_with_pytorchs():
    """Every parameter of torch.autograd.gradcheck and gradgradcheck, in order, of the same kind and default (the
    first is tinygen's ``fn``, PyTorch's ``func``: both are passed by position)."""
    torch = pytest.importorskip("torch")
    import inspect

    for ours, theirs in ((gradcheck, torch.autograd.gradcheck), (gradgradcheck, torch.autograd.gradgradcheck)):
        expected = [(p.name, p.kind, p.default) for p in inspect.signature(theirs).parameters.values()]
        got = [(p.name, p.kind, p.default) for p in inspect.signature(ours).parameters.values()]
        assert got[1:len(expected)] == expected[1:] and got[0][1] == expected[0][1]


def test_eps_is_keyword_only_and_grad_outputs_is_gradgradchecks_third_argument():
    x = _double([1.0, 2.0])
    with pytest.raises(TypeError):
        gradcheck(lambda x: x * x, [x], 1e-6)
    assert gradgradcheck(lambda x: x * x, (x,), (_double([0.5, -1.0]),), eps=1e-6)


class WrongInUpstream(Function):
    """y = x^2 whose backward is right in value and in x, but half right in g (one term holds g constant)."""

    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.saved_inputs
        return x * g + x * g.detach()


def test_given_grad_outputs_are_the_upstream_gradient_and_keep_their_requires_grad():
    """As PyTorch: the given v is used (a zero v hides a wrong second derivative in x, a random one does not) and one
    that does not require grad is held constant (so a wrong derivative in v is not looked at)."""
    x = random_tensor((3,), seed=4)
    zero = _double([0.0, 0.0, 0.0], requires_grad=False)
    assert gradgradcheck(lambda x: FirstOrderOnly()(x), [x], zero)
    with pytest.raises(GradcheckError, match="gradgradcheck: gradient mismatch for input 0 'x'"):
        gradgradcheck(lambda x: FirstOrderOnly()(x), [x], [_double([1.0, -0.5, 2.0], requires_grad=False)])
    v = _double([1.0, -0.5, 2.0], requires_grad=False)
    assert gradgradcheck(lambda x: WrongInUpstream()(x), [x], v)
    with pytest.raises(GradcheckError, match="gradient mismatch for the upstream gradient"):
        gradgradcheck(lambda x: WrongInUpstream()(x), [x], v.detach().requires_grad_())


@pytest.mark.parametrize("grad_outputs, message", [
    ([_double([1.0, 2.0])] * 2, r"grad_outputs has 2 Tensor\(s\), but fn has 1 output\(s\) that require grad"),
    (_double([1.0, 2.0, 3.0]), r"grad_outputs has shape \(3,\) for output 0 of fn, whose shape is \(2,\)"),
    ([[1.0, 2.0]], r"grad_outputs holds a list at position 0; give one Tensor per output"),
])
def test_grad_outputs_that_do_not_fit_the_outputs_are_refused(grad_outputs, message):
    with pytest.raises(GradcheckError, match=message):
        gradgradcheck(lambda x: x * x, [_double([1.0, 2.0])], grad_outputs)


def test_raise_exception_false_returns_false_for_a_failure_and_raises_for_bad_arguments():
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    assert gradcheck(lambda a, b: a * b, [a, b], raise_exception=False) is True
    assert gradcheck(lambda a, b: WrongMul()(a, b), [a, b], raise_exception=False) is False
    assert gradgradcheck(lambda x: FirstOrderOnly()(x), [a], raise_exception=False) is False
    assert gradcheck(lambda a, b: a.sum(dim=5) * b, [a, b], raise_exception=False) is False  # fn raises
    with pytest.raises(GradcheckError, match="eps must be a positive finite number"):
        gradcheck(lambda a, b: a * b, [a, b], eps=0, raise_exception=False)
    with pytest.raises(GradcheckError, match="no input requires grad"):
        gradcheck(tinygen.tanh, [a.detach()], raise_exception=False)


@pytest.mark.parametrize("check, setting, why", [
    (gradcheck, dict(check_forward_ad=True), "tinygen has no forward-mode AD; reverse mode is what it checks"),
    (gradcheck, dict(check_batched_forward_grad=True), "tinygen has no forward-mode AD"),
    (gradcheck, dict(check_batched_grad=True), "tinygen has no vmap, so batched gradients cannot be computed"),
    (gradcheck, dict(check_backward_ad=False), "reverse mode is all tinygen has to check"),
    (gradgradcheck, dict(check_fwd_over_rev=True), "tinygen has no forward-mode AD; reverse over reverse"),
    (gradgradcheck, dict(check_rev_over_rev=False), "reverse over reverse is all tinygen has to check"),
    (gradgradcheck, dict(check_batched_grad=True), "tinygen has no vmap"),
])
def test_pytorch_settings_tinygen_cannot_honour_are_refused_in_one_line(check, setting, why):
    (argument, value), = setting.items()
    with pytest.raises(GradcheckError) as failure:
        check(lambda x: x * x, [_double([1.0, 2.0])], **setting)
    message = str(failure.value)
    assert message.startswith(f"{check.__name__}: {argument}={value!r} is not supported: {why}")
    assert "\n" not in message


@pytest.mark.parametrize("setting", [
    dict(fast_mode=True), dict(check_undefined_grad=False), dict(check_grad_dtypes=True), dict(masked=True),
    dict(nondet_tol=1e-8),
])
def test_pytorch_settings_tinygen_honours_or_need_nothing_still_catch_a_planted_bug(setting):
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    assert gradcheck(lambda a, b: a * b, [a, b], **setting)
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0 'a'"):
        gradcheck(lambda a, b: WrongMul()(a, b), [a, b], **setting)
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0 'x'"):
        gradgradcheck(lambda x: FirstOrderOnly()(x), [a], gen_non_contig_grad_outputs=True, **setting)


@pytest.mark.parametrize("setting, message", [
    (dict(nondet_tol=-1.0), "nondet_tol must be a non-negative finite number, got -1.0"),
    (dict(nondet_tol=float("inf")), "nondet_tol must be"),
    (dict(seed=-1), "seed must be a non-negative integer, got -1"),
])
def test_nondet_tol_and_seed_out_of_range_are_refused_by_name(setting, message):
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(GradcheckError, match=message):
            check(lambda x: x * x, [_double([1.0, 2.0])], **setting)


# --- fn's outputs ---------------------------------------------------------------------------------------------


def test_outputs_that_do_not_require_grad_are_left_out_of_both_sides_as_in_pytorch():
    x = _double([1.0, 2.0, 3.0])
    assert gradcheck(lambda p: (p * 2, p.detach() * 3), [x])
    assert gradgradcheck(lambda p: (p * p, p.detach() * 3), [x])
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0 'a'"):
        gradcheck(lambda a, b: (a.detach() * 3, WrongMul()(a, b)), [a, b])


def test_a_list_of_outputs_is_checked_as_a_tuple_is():
    x = _double([1.0, 2.0, 3.0])
    assert gradcheck(lambda p: [p * 2, p * 3], [x])
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0 'a'"):
        gradcheck(lambda a, b: [a * 2, WrongMul()(a, b)], [a, b])


def test_an_fn_whose_outputs_are_all_detached_fails_and_says_so():
    """As PyTorch: with no output requiring grad, the finite differences must be zero, and here they are not."""
    with pytest.raises(GradcheckError, match="likely cause: no output of fn requires grad \\(fn detaches them"):
        gradcheck(lambda p: p.detach() * 3, [_double([1.0, 2.0, 3.0])])


@pytest.mark.parametrize("returned, shown", [
    (1.0, "a float"), (None, "None"), ([1.0, 2], "a list of a float, an int"), ((), "an empty tuple"),
])
def test_an_fn_that_returns_no_floating_point_tensor_is_told_what_it_returned(returned, shown):
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(GradcheckError) as failure:
            check(lambda p: returned, [_double([1.0, 2.0])])
        assert str(failure.value) == (f"{check.__name__}: fn returned no floating-point Tensor: it returned {shown}; "
                                      "return a Tensor, or a tuple or list of Tensors, of a floating-point dtype")


# --- what fn and its backward do besides computing ------------------------------------------------------------


class ScalesItsSavedInput(Function):
    """y = x^2 whose backward scales its saved input in place (right value, as it reads x before)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        gradient = 2.0 * grad_output * x
        x.array[...] = 1.5 * x.array
        return gradient


def test_a_backward_that_changes_its_saved_input_is_named_before_any_comparison():
    with pytest.raises(GradcheckError,
                       match=r"^gradcheck: the backward of fn's graph modified input 0 'x' \(shape \(3,\)\) in place$"):
        gradcheck(ScalesItsSavedInput.apply, [_double([1.0, 2.0, 3.0])])


class WrongShapeGradient(Function):
    """z = a * b whose backward returns a summed gradient for a: the engine refuses it."""

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.sum(), grad_output


def test_an_exception_in_fn_or_its_backward_becomes_one_line_naming_the_phase_and_keeps_its_cause():
    def refuses(x):
        raise ValueError("no\nthanks")

    with pytest.raises(GradcheckError) as failure:
        gradcheck(refuses, [_double([1.0, 2.0])])
    assert str(failure.value).startswith("gradcheck: fn raised ValueError: no thanks (at ")
    assert "in refuses: raise ValueError" in str(failure.value)
    assert isinstance(failure.value.__cause__, ValueError)

    with pytest.raises(GradcheckError) as failure:
        gradcheck(WrongShapeGradient.apply, [_double([1.0, 2.0]), _double([3.0, 4.0])])
    assert str(failure.value).startswith("gradcheck: the analytic backward raised RuntimeError: "
                                         "WrongShapeGradient.backward returned a gradient of shape ()")
    assert isinstance(failure.value.__cause__, RuntimeError)


def test_an_exception_at_a_finite_difference_step_names_the_input_moved():
    x = _double([1.0, 2.0])
    start = host(x).copy()

    def only_at_the_start(x):
        if not np.array_equal(host(x), start):
            raise ArithmeticError("moved")
        return x * 2

    with pytest.raises(GradcheckError, match=r"^gradcheck: fn, at a finite-difference step of input 0 'x', raised "
                                             r"ArithmeticError: moved \(at "):
        gradcheck(only_at_the_start, [x])
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: fn, at a finite-difference step of input 0 'x', "):
        gradgradcheck(only_at_the_start, [x])


def test_a_random_fn_is_named_as_such_not_reported_as_a_mismatch():
    x = random_tensor((64,), seed=9)  # two calls draw the same dropout mask with probability 2**-64, not 1/16
    with pytest.raises(GradcheckError, match=r"^gradcheck: fn gave a different output 0 when called again with the "
                                             r"same inputs \(largest difference .*\): it is not deterministic"):
        gradcheck(lambda p: tinygen.nn.functional.dropout(p, 0.5, training=True), [x])


def test_an_fn_whose_output_changes_shape_between_calls_is_named_as_such():
    calls = []

    def shrinks(p):
        calls.append(p)
        return p[:len(p) - len(calls) + 1] * 2

    with pytest.raises(GradcheckError, match=r"^gradcheck: fn returned a float64 Tensor of shape \(3,\) as output 0, "
                                             r"then a float64 Tensor when called again with the same inputs"):
        gradcheck(shrinks, [_double([1.0, 2.0, 3.0])])


def test_nondet_tol_allows_that_much_difference_between_two_calls_of_fn():
    x = random_tensor((4,), seed=9)

    def slightly_noisy(p):
        return p * 2 + tinygen.randn(4, dtype=tinygen.float64) * 1e-9

    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(slightly_noisy, [x], atol=1e-2)
    assert gradcheck(slightly_noisy, [x], atol=1e-2, nondet_tol=1e-7)
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(slightly_noisy, [x], atol=1e-2, nondet_tol=1e-11)


def test_the_inputs_of_a_pytorch_style_function_are_named_by_its_forward():
    class Swapped(Function):
        @staticmethod
        def forward(ctx, first, second):
            ctx.save_for_backward(first, second)
            return first * second

        @staticmethod
        def backward(ctx, grad_output):
            first, second = ctx.saved_tensors
            return grad_output * first, grad_output * second

    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 3), seed=2)
    with pytest.raises(GradcheckError, match=r"gradient mismatch for input 0 'first' \(shape \(2, 3\)\)"):
        gradcheck(Swapped.apply, [a, b])


def test_gradients_smaller_than_atol_are_compared_relative_to_their_size():
    """atol alone passed any gradient below it: a wrong sign on a function scaled by 1e-6."""
    class TinyScale(Function):
        def __init__(self, sign):
            self.sign = sign

        def forward(self, x):
            return x * 1e-6

        def backward(self, g):
            return g * (self.sign * 1e-6)

    x = random_tensor((3, 4), seed=11)
    with pytest.raises(GradcheckError, match=r"the gradient is small \(largest entry .* < atol 1e-05\), so it is "
                                             r"compared relative to its own size(.|\n)*wrong sign everywhere"):
        gradcheck(lambda x: TinyScale(-1.0)(x), [x])
    assert gradcheck(lambda x: TinyScale(1.0)(x), [x])
    assert gradcheck(lambda x: TinyScale(-1.0)(x), [x], atol=1e-3)  # an atol raised by the caller applies alone


def test_a_backward_right_only_for_c_ordered_arrays_is_caught_on_the_reversed_layout():
    """``zeros_like`` keeps a transposed layout, and ``reshape(-1)`` of it copies, so the write is lost. The strided
    copies were every other element of a C-ordered buffer, where zeros_like is C-ordered: the bug passed."""
    class SquareWritingThroughAReshape(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            dx = g.backend.xp.zeros_like(self.x)
            dx.reshape(-1)[:] = (2 * self.x * g.array).reshape(-1)
            return g._wrap_like(dx)

    with pytest.raises(GradcheckError, match="changes when the inputs are non-contiguous"):
        gradcheck(lambda x: SquareWritingThroughAReshape()(x), [random_tensor((3, 4), seed=12)])
