"""What every grader shares: the failure it raises with its ladder of hints, inputs, and checks that compare the
student's answer with tinygen's own (computed by the grader, on its own copies of the inputs, before the
student's code runs) and say what is wrong, where, and how far off relative to the tolerance.

A grader (``grade(student, reference)`` in an exercise's ``exercise.py``) calls these checks case by case; the
first one that fails raises ``ExerciseFailure``. ``reference`` holds tinygen's own objects (or an instructor's
reference solution): the checks call them in ``reference_mode`` (see ``honesty``), the student's code outside it.
"""
import contextlib
import dataclasses

from tinygen import creation
from tinygen.autograd.api import grad
from tinygen.autograd.grad_mode import set_grad_enabled
from tinygen.backend import get_default_device
from tinygen.backend.dtypes import float32, float64
from tinygen.exercises.honesty import check_untouched, note_comparison, note_failure, reference_mode
from tinygen.ops.comparison import isfinite, isnan, logical_not
from tinygen.ops.elementwise import where
from tinygen.random import Generator
from tinygen.tensor import Tensor
from tinygen.testing.arrays import strided_copy


@dataclasses.dataclass(frozen=True)
class Hints:
    """The hints of one check, from the gentlest: ``what`` is wrong (shown with the failure, no formula), a
    ``direction`` and a worked ``step`` (``tinygen exercises hint``), and the ``answer`` (only on request)."""

    what: str
    direction: str = ""
    step: str = ""
    answer: str = ""

    def level(self, number):
        """Hint ``number`` (1 what, 2 direction, 3 step); "answer" for the answer."""
        levels = {1: self.what, 2: self.direction, 3: self.step, "answer": self.answer}
        return levels[number] or self.what


#: when a first derivative is right but cannot be differentiated again
SECOND_ORDER = Hints(
    what="your first derivative is right, but it cannot be differentiated again (the grader differentiates your "
         "backward itself, as a gradient penalty does)",
    direction="a backward that tinygen can differentiate is built from tinygen operations on Tensors; raw arrays "
              "(.array, or arrays kept from the forward) are constants to the engine",
    step="use the Tensors the op saved (self.saved_inputs, self.saved_output) and tensor operations on them (*, "
         "sum_to, matmul, exp ...); recompute from them what the forward computed on arrays",
    answer="replace every expression on raw arrays in backward by the same expression on Tensors",
)


#: when the student's code recurses into itself (through tinygen's own names, which lead to the student's code)
RECURSION = Hints(
    what="your implementation calls itself: while it is graded, tinygen's own functions and operators for this "
         "exercise run your code, so using them inside it goes round in a circle",
    direction="compute the answer from the inputs with other operations (the docstring lists what is given)",
    step="look at the line named in the message: the call on it leads back to the function you are writing",
)


#: when a backward with several inputs raises before returning its gradients (which one is not known yet)
CRASH = Hints(
    what="your backward raised an error before it returned its gradients: the message names your line",
    direction="on that line, compare the shape of each tensor with the shape the docstring says it has",
    step="print(t.shape) for each tensor on the failing line, in the failing case (the message gives its shapes)",
)


#: when a result is not a Tensor, or a backward does not return one gradient per input
RETURNS = Hints(
    what="what your code returns is not in the form tinygen takes: a Tensor for each result, and from a backward a "
         "tuple with one gradient per input, in the inputs' order",
    direction="a raw array (.array, xp.something) or a Python number is not a Tensor; a list is not a tuple",
    step="build results with tensor ops on the Tensors you are given; return (grad_a, grad_b), None for an input "
         "that needs no gradient",
    answer="return a tuple of Tensors, one per input",
)
#: when an op is right for contiguous tensors but not for tensors laid out with strides
STRIDED = Hints(
    what="your op is right for contiguous tensors but not for the same values laid out with strides (the engine "
         "passes such a g after a transpose or a slice, and inputs can be slices too)",
    direction="view() of a strided tensor may be impossible, and code on raw buffers (.array.ravel() written into, "
              "np.frombuffer, assumptions about .strides) sees another order of the elements",
    step="use reshape (which copies when it must) rather than view, and tensor or array operations that do not "
         "depend on the layout",
    answer="replace view(...) by reshape(...), and raw-buffer code by array operations",
)
#: when a function's output is wrong (its gradients may be right: a forward off by a constant)
FORWARD = Hints(
    what="the output of your function is wrong, before any gradient (a constant added or a factor missing changes "
         "the value but maybe not every gradient)",
    direction="compute the output for a small input by hand and compare it with yours",
    step="print your output and the formula's for the failing case's shapes",
)
#: when an op keeps what its backward needs outside the op
INTERLEAVED = Hints(
    what="your op keeps what its backward needs outside the op (a global, a class attribute): another forward of "
         "the same op before this one's backward changes this one's gradient, and a network has many of each op",
    direction="whatever backward needs from the forward belongs to the op itself, one per call: self.something",
    step="replace global variables and ClassName.attribute = ... in forward by self.attribute = ...",
    answer="store what forward computes for backward on self (or use save_inputs / save_output), and read it there",
)
#: when an output or a gradient has another dtype than tinygen's
DTYPE = Hints(
    what="a result of yours has another dtype than tinygen's: a float32 input gives a float32 output and float32 "
         "gradients (tinygen's engine refuses a gradient whose dtype is not its input's)",
    direction="something float64 promotes your float32 result: a mask or a constant made with an explicit float64 "
              "(.double(), dtype=float64), a NumPy float64 scalar (np.float64(0)), an array made without dtype=",
    step="write constants as Python numbers, make masks with .to(dtype=g.dtype) and arrays with dtype=x.dtype",
    answer="give every mask, constant and array you make the dtype of the tensor it meets (.to(dtype=g.dtype), "
           "dtype=x.dtype)",
)


class ExerciseFailure(Exception):
    """A student's answer is wrong: ``message`` says what, ``hints`` how to find out why, ``check`` names the
    check (hints are remembered per check). Raised ``from`` the student's exception, if any."""

    def __init__(self, message, hints=None, check=""):
        super().__init__(message)
        self.message, self.hints, self.check = message, hints, check
        note_failure()


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """|got - expected| <= rtol |expected| + atol * scale, scale the largest |expected| of the whole output: two
    algebraically equal formulas differ by rounding, relative to the size of the terms they add up."""

    rtol: float
    atol: float

    def bound(self, expected):
        size = where(isfinite(expected), expected.abs(), creation.zeros_like(expected))
        scale = float(size.amax()) if expected.numel() else 1.0
        return size * self.rtol + self.atol * (scale or 1.0)

    def __str__(self):
        return f"{self.rtol:g} x |expected| + {self.atol:g} x the largest |expected|"


FLOAT64 = Tolerance(rtol=1e-7, atol=1e-9)
FLOAT32 = Tolerance(rtol=1e-5, atol=1e-6)


def tolerance_for(tensor):
    return FLOAT32 if tensor.dtype == float32 else FLOAT64


# --- inputs -----------------------------------------------------------------------------------------------------

def random_tensor(shape, seed, low=-1.0, high=1.0, requires_grad=True, dtype=float64):
    """Uniform values in [low, high) on the default device (float64, for exact comparisons). They are drawn on the
    host, then moved: every device grades with the same numbers, so a submission gets the same verdict and message
    on a laptop and on a GPU (a GPU's own generator would draw others from the same seed)."""
    draws = creation.rand(shape, generator=Generator("cpu", seed), dtype=dtype, device="cpu")
    values = (draws * (high - low) + low).to(get_default_device())
    return values.requires_grad_() if requires_grad else values


def noncontiguous(x):
    """A leaf with ``x``'s values in a strided layout (every other element of a wider array)."""
    wide = creation.zeros(tuple(x.shape[:-1]) + (2 * x.shape[-1],), dtype=x.dtype, device=x.device)
    wide.array[..., ::2] = x.array
    return wide[..., ::2].detach().requires_grad_(x.requires_grad)


def duplicate(x):
    """An independent copy of ``x``: same values, layout and requires_grad (anything else is returned as is)."""
    if not isinstance(x, Tensor):
        return x
    copy = x.detach().clone()
    if x.ndim and not x.array.flags.c_contiguous:
        copy = noncontiguous(copy)
    return copy.requires_grad_(x.requires_grad)


def describe(names, tensors):
    """``"a (3, 1), b (1, 4)"``: the case being checked, for a message."""
    return ", ".join(f"{name} {tuple(t.shape)}" for name, t in zip(names, tensors))


@contextlib.contextmanager
def attempting(case, hints, check):
    """Turn an exception of the student's code inside the block into an ``ExerciseFailure`` of this check."""
    try:
        yield
    except (NotImplementedError, ExerciseFailure):
        raise
    except RecursionError as error:
        raise ExerciseFailure(
            f"{case}: your code calls itself without end (RecursionError). While grading, tinygen's own functions "
            "and operators for this exercise run YOUR code, so calling them from inside your implementation "
            "recurses", RECURSION, "recursion") from error
    except Exception as error:
        raise ExerciseFailure(f"{case}: {type(error).__name__}: {error}", hints, check) from error
    check_untouched()  # the student's code left NumPy, tinygen and the grader as they were


def expect(function, *inputs):
    """``function(*copies of inputs)`` with tinygen's own implementations in place: an expected value."""
    with reference_mode():
        return function(*[duplicate(x) for x in inputs])


# --- comparisons ------------------------------------------------------------------------------------------------

def compare(case, got, expected, what, hints, check, tolerance=None, variants=()):
    """``got`` must match ``expected`` (Tensors) in type, shape, dtype and, within ``tolerance``, every element
    (where ``expected`` is inf or nan, ``got`` must be the same).

    variants: ``[(value, note, hints)]``, known wrong answers: a mismatch that matches one is explained by its
    ``note`` and ``hints`` instead of ``hints``.
    """
    if not isinstance(got, Tensor):
        raise ExerciseFailure(f"{case}: {what} should be a Tensor, got {type(got).__name__}", RETURNS, "returns")
    note_comparison()
    with reference_mode():  # tinygen's own ops, NumPy's error state as before the student's file
        _compare(case, _plain(got), expected, what, hints, check, tolerance, variants)


def _plain(tensor):
    """``tensor`` as a plain Tensor of a plain array: a subclass of either (whose methods or ``__array_ufunc__``
    are the student's) takes no part in the comparison."""
    array = tensor.array
    if type(array) is not tensor.backend.xp.ndarray:
        array = tensor.backend.xp.asarray(array)  # the base class's view: no method of the subclass runs
    return tensor if type(tensor) is Tensor and array is tensor.array else Tensor._make(array, tensor.backend)


def _compare(case, got, expected, what, hints, check, tolerance, variants):
    if tuple(got.shape) != tuple(expected.shape):
        raise ExerciseFailure(f"{case}: {what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}",
                              hints, check)
    if got.dtype != expected.dtype:
        raise ExerciseFailure(f"{case}: {what} has dtype {got.dtype}, expected {expected.dtype}", DTYPE, "dtype")
    tolerance = tolerance or tolerance_for(expected)
    got, expected = got.detach(), expected.detach()
    if not got.numel():
        return
    bound = tolerance.bound(expected)
    wrong, excess = _mismatches(got, expected, bound)
    if not bool(wrong.any()):
        return
    for value, note, variant_hints in variants:
        if not bool(_mismatches(got, value.detach(), bound)[0].any()):
            raise ExerciseFailure(f"{case}: {what} is wrong: {note}", variant_hints, check)
    special = wrong & logical_not(isfinite(got) & isfinite(expected))
    index = _unravel(int((special if bool(special.any()) else excess).reshape(-1).argmax()), tuple(got.shape))
    expected_value, got_value = expected[index].item(), got[index].item()
    message = f"{case}: {what} is wrong at index {index}: expected {expected_value:.10g}, got {got_value:.10g}"
    if not bool(special.any()):
        off, allowed = abs(got_value - expected_value), bound[index].item()
        message += f"; off by {off:.3g}, {off / allowed:.3g} times the tolerance ({allowed:.3g} = {tolerance})"
    message += f"; {int(wrong.sum().item())} of {got.numel()} entries are wrong"
    raise ExerciseFailure(message, hints, check)


def _mismatches(got, expected, bound):
    """(where ``got`` is wrong, by how much it exceeds ``bound`` there): non-finite values must match exactly."""
    both_finite = isfinite(got) & isfinite(expected)
    excess = where(both_finite, (got - expected).abs() - bound, creation.zeros_like(got))
    same_special = (got == expected) | (isnan(got) & isnan(expected))
    return (excess > 0) | (logical_not(both_finite) & logical_not(same_special)), excess


def _same_values(after, original):
    """Whether ``after`` still holds ``original``'s values (NaN where it was NaN)."""
    after, original = after.detach(), original.detach()
    return bool(((after == original) | (isnan(after) & isnan(original))).all())


def check_unchanged(case, originals, used, names, function):
    """The student's ``function`` must leave its inputs as they were (``used`` against ``originals``)."""
    for name, original, after in zip(names, originals, used):
        if isinstance(original, Tensor) and not _same_values(after, original):
            raise ExerciseFailure(
                f"{case}: your {function} changed its input {name} in place (the caller's tensor is now different; "
                "the expected values were computed by the grader from its own copy of the original)",
                Hints(what=f"your {function} must not write into its input {name}",
                      direction="operations such as x *= ..., x[...] = ..., or out=x write into the caller's array",
                      step="work on new arrays (y = x * 2, not x *= 2), or copy first (x = x.copy())"),
                f"{function} changed {name}")


def check_backward_left_alone(case, tensors):
    """A backward must leave what it was given as it was: ``tensors`` is ``[(what, before, after)]`` (the op's
    inputs, its output, the upstream gradient g), each the caller's, which the engine passes on or keeps."""
    for what, before, after in tensors:
        if isinstance(before, Tensor) and not _same_values(after, before):
            raise ExerciseFailure(
                f"{case}: your backward changed {what} in place (the caller's tensor is now different): a backward "
                "returns new tensors and leaves its inputs, its output and g as they were",
                Hints(what=f"your backward must not write into {what}: the engine passes g on to other ops, and the "
                           "inputs and the output belong to the caller",
                      direction="x.array[...] = ..., x.array *= ..., g.array += ... or out= write into a tensor "
                                "that is not yours",
                      step="compute new tensors (g * mask, not g.array[mask] = 0), or copy first (g = g.clone())",
                      answer="replace each assignment into a given tensor's .array by an expression that makes a new "
                             "tensor"),
                f"backward changed {what.split()[-1]}")


def check_forward(case, student, reference, inputs, names, hints, check="forward", tolerance=None, variants=()):
    """Run ``student(*inputs)`` and ``reference(*inputs)`` on copies and compare the outputs; also that the
    student's forward left its inputs alone, gives the same output on inputs laid out with strides, and keeps
    tinygen's dtype on float32 copies of them (a float64 constant would pass in float64 alone). Returns the
    student's output."""
    expected = expect(reference, *inputs)
    used = [duplicate(x) for x in inputs]
    with attempting(case, hints, check):
        got = student(*used)
    check_unchanged(case, inputs, used, names, "forward")
    compare(case, got, expected, "the output", hints, check, tolerance, variants)
    if any(isinstance(x, Tensor) and x.ndim for x in inputs):
        strided_case = f"{case}, with the inputs laid out with strides"
        with attempting(strided_case, STRIDED, "strides"):
            output = student(*[strided(x) for x in inputs])
        compare(strided_case, output, expected, "the output", STRIDED, "strides", tolerance)
    if any(isinstance(x, Tensor) and x.dtype == float64 for x in inputs):
        float32_case, float32_inputs = f"{case}, in float32", [in_float32(x) for x in inputs]
        expected = expect(reference, *float32_inputs)
        with attempting(float32_case, DTYPE, "dtype"):
            output = student(*[duplicate(x) for x in float32_inputs])
        if isinstance(output, Tensor) and output.dtype != expected.dtype:
            raise ExerciseFailure(f"{float32_case}: the output has dtype {output.dtype}, expected {expected.dtype}",
                                  DTYPE, "dtype")
    return got


def upstream_for(output, seed):
    """A random upstream gradient dL/d(output) (never all ones: a plain sum hides errors)."""
    return random_tensor(tuple(output.shape), seed, requires_grad=False, dtype=output.dtype)


def check_op_backward(case, student, reference, inputs, names, hints, seed=0, second_order=True, variants=None,
                      symptoms=None):
    """Compare the backward of the student's op with tinygen's, input by input.

    student, reference: build the op's output from the inputs (``lambda a, b: Mul()(a, b)``). The student's
    node's ``backward`` is called directly with a random upstream gradient, so each gradient it returns is
    checked on its own: its presence, type, shape, then values. hints: ``{name: Hints}`` per input (and
    ``"shape " + name`` for a wrong shape). variants: ``{name: [(value, note, hints)]}`` known wrong answers,
    computed with the same upstream gradient (``upstream_for(output, seed)``). symptoms: ``{name: check(case,
    gradient)}``, checks of a property the gradient must have, run before its values are compared.
    """
    wrt = [i for i, x in enumerate(inputs) if x.requires_grad]
    with reference_mode():
        copies = [duplicate(x) for x in inputs]
        output = reference(*copies)
        upstream = upstream_for(output, seed)
        expected = grad(output, [copies[i] for i in wrt], upstream, allow_unused=True)
        expected_output = output.detach()
    used = [duplicate(x) for x in inputs]
    first = names[wrt[0]]
    alone = len(wrt) == 1
    with attempting(case, hints[first] if alone else CRASH, f"gradient of {first}" if alone else "backward"):
        output = student(*used)
        if not isinstance(output, Tensor) or output.grad_fn is None:
            raise ExerciseFailure(f"{case}: the op's output has no graph (grad_fn is None)", hints[first],
                                  f"gradient of {first}")
        check_unchanged(case, inputs, used, names, "forward")
        output_before, given = output.detach().clone(), duplicate(upstream)
        with set_grad_enabled(False):
            got = output.grad_fn.backward(given)
    check_backward_left_alone(case, [(f"its input {name}", x, after) for name, x, after in zip(names, inputs, used)]
                              + [("its output", output_before, output), ("the upstream gradient g", upstream, given)])
    if isinstance(got, list):
        raise ExerciseFailure(f"{case}: backward returned a list of {len(got)}; return a tuple, one gradient per "
                              "input (tinygen's engine takes a list for one gradient)", RETURNS, "returns")
    got = got if isinstance(got, tuple) else (got,)
    expected = [creation.zeros(tuple(inputs[i].shape), dtype=inputs[i].dtype) if gradient is None else gradient
                for i, gradient in zip(wrt, expected)]
    if len(got) != len(inputs):
        raise ExerciseFailure(f"{case}: backward returned {len(got)} gradient(s) for {len(inputs)} input(s) "
                              f"({', '.join(names)}): one per input, in order", RETURNS, "returns")
    for i, reference_gradient in zip(wrt, expected):
        name, check = names[i], f"gradient of {names[i]}"
        if got[i] is None:
            raise ExerciseFailure(f"{case}: backward returned None for dL/d{name}, but {name} requires a gradient",
                                  hints[name], check)
        if isinstance(got[i], Tensor) and tuple(got[i].shape) != tuple(inputs[i].shape):
            shape_hints = hints.get(f"shape {name}", hints[name])
            raise ExerciseFailure(f"{case}: dL/d{name} has shape {tuple(got[i].shape)}, but {name} has shape "
                                  f"{tuple(inputs[i].shape)}: each gradient has its own input's shape",
                                  shape_hints, f"shape of {name}")
        if name in (symptoms or {}):
            symptoms[name](case, got[i])
        compare(case, got[i], reference_gradient, f"dL/d{name}", hints[name], check,
                variants=(variants or {}).get(name, ()))
    check_strided(case, student, inputs, names, expected_output, upstream, dict(zip(wrt, expected)))
    check_interleaved(case, student, inputs, names, upstream, dict(zip(wrt, expected)), seed)
    check_float32(case, student, reference, inputs, names, seed)
    if second_order:
        check_second_order(case, student, reference, inputs, names, seed)


def strided(x):
    """A leaf with ``x``'s values laid out as a transpose's and a slice's are (``strided_copy``: axes in reverse
    memory order, every other element), for a Tensor with a dimension; anything else as is."""
    if not isinstance(x, Tensor) or not x.ndim:
        return x
    return Tensor._make(strided_copy(x.detach().array), x.backend).requires_grad_(x.requires_grad)


def check_strided(case, student, inputs, names, expected_output, upstream, expected):
    """The student's op again, on its inputs and the upstream gradient g laid out with strides (the engine passes
    such a g after a transpose or a slice): the same output and gradients (``expected``: {input index: dL/dinput})
    are expected."""
    if not any(isinstance(x, Tensor) and x.ndim for x in [*inputs, upstream]):
        return
    case = f"{case}, with the inputs and g laid out with strides"
    with attempting(case, STRIDED, "strides"):
        output = student(*[strided(x) for x in inputs])
        with set_grad_enabled(False):
            got = output.grad_fn.backward(strided(upstream))
    compare(case, output, expected_output, "the output", STRIDED, "strides")
    got = got if isinstance(got, tuple) else (got,)
    for i, gradient in expected.items():
        compare(case, got[i], gradient, f"dL/d{names[i]}", STRIDED, "strides")


def check_interleaved(case, student, inputs, names, upstream, expected, seed=0):
    """Two of the student's op, as a network has: a forward on the inputs, a forward on other values, then the
    first one's backward, which must give the first one's gradients (``expected``: {input index: dL/dinput})."""
    case = f"{case}, with another forward of the op before its backward"
    with attempting(case, INTERLEAVED, "interleaved"):
        output = student(*[duplicate(x) for x in inputs])
        student(*[_other_values(x, seed + 7919 + k) for k, x in enumerate(inputs)])
        with set_grad_enabled(False):
            got = output.grad_fn.backward(duplicate(upstream))
    got = got if isinstance(got, tuple) else (got,)
    for i, gradient in expected.items():
        compare(case, got[i], gradient, f"dL/d{names[i]}", INTERLEAVED, "interleaved")


def _other_values(x, seed):
    """A floating-point Tensor of ``x``'s shape, dtype and requires_grad with other values; anything else as is."""
    if not isinstance(x, Tensor) or x.dtype not in (float32, float64):
        return duplicate(x)
    return random_tensor(tuple(x.shape), seed, requires_grad=x.requires_grad, dtype=x.dtype)


def in_float32(x):
    """A float32 copy of a float64 Tensor ``x``, with its layout and requires_grad; anything else as is."""
    if not isinstance(x, Tensor) or x.dtype != float64:
        return x
    copy = x.detach().to(dtype=float32)
    if x.ndim and not x.array.flags.c_contiguous:
        copy = noncontiguous(copy)
    return copy.requires_grad_(x.requires_grad)


def check_float32(case, student, reference, inputs, names, seed=0):
    """The op on float32 copies of the float64 inputs: its output must have tinygen's dtype and each gradient its
    input's (the engine refuses another: a backward that promotes float32 to float64 stops float32 training).
    Only dtypes are compared; the values were compared in float64."""
    if not any(isinstance(x, Tensor) and x.dtype == float64 for x in inputs):
        return
    inputs, case = [in_float32(x) for x in inputs], f"{case}, in float32"
    with reference_mode():
        expected = reference(*[duplicate(x) for x in inputs])
    used = [duplicate(x) for x in inputs]
    with attempting(case, DTYPE, "dtype"):
        output = student(*used)
        if output.dtype != expected.dtype:
            raise ExerciseFailure(f"{case}: the output has dtype {output.dtype}, expected {expected.dtype}", DTYPE,
                                  "dtype")
        with set_grad_enabled(False):
            got = output.grad_fn.backward(upstream_for(expected, seed))
    got = got if isinstance(got, tuple) else (got,)
    for name, x, gradient in zip(names, used, got):
        if isinstance(x, Tensor) and x.requires_grad and isinstance(gradient, Tensor) and gradient.dtype != x.dtype:
            raise ExerciseFailure(f"{case}: dL/d{name} has dtype {gradient.dtype}, but {name} has dtype {x.dtype}: "
                                  "each gradient has its input's dtype", DTYPE, "dtype")


def check_gradients(case, student, reference, inputs, names, hints, seed=0, second_order=False):
    """Compare the output and d(output)/d(inputs), through the engine, of the student's function with tinygen's (for
    exercises whose answer is a function made of several ops), then as ``check_op_backward`` does on inputs and g
    laid out with strides and on float32 copies. hints: ``{name: Hints}`` per input. The output is compared too:
    a forward off by a constant has the right gradients."""
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with reference_mode():
        copies = [duplicate(x) for x in inputs]
        output = reference(*copies)
        upstream = upstream_for(output, seed)
        expected = grad(output, [copies[i] for i in wrt], upstream, allow_unused=True)
        expected_output = output.detach()
    used = [duplicate(x) for x in inputs]
    first = names[wrt[0]]
    with attempting(case, hints[first], f"gradient of {first}"):
        output = student(*used)
        if not isinstance(output, Tensor) or not output.requires_grad:
            raise ExerciseFailure(f"{case}: the result does not depend on {', '.join(names[i] for i in wrt)} in the "
                                  "graph (requires_grad is False)", hints[first], f"gradient of {first}")
        check_unchanged(case, inputs, used, names, "forward")
        given = duplicate(upstream).requires_grad_()  # so the engine passes it on as it is, not a private copy
        got = grad(output, [used[i] for i in wrt], given, allow_unused=True)
    check_backward_left_alone(case, [(f"its input {name}", x, after) for name, x, after in zip(names, inputs, used)]
                              + [("the upstream gradient g", upstream, given)])
    compare(case, output, expected_output, "the output", FORWARD, "forward")
    expected = {i: creation.zeros(tuple(inputs[i].shape), dtype=inputs[i].dtype) if theirs is None else theirs
                for i, theirs in zip(wrt, expected)}
    for i, mine in zip(wrt, got):
        mine = creation.zeros_like(expected[i]) if mine is None else mine
        compare(case, mine, expected[i], f"dL/d{names[i]}", hints[names[i]], f"gradient of {names[i]}")
    _check_function_layouts(case, student, inputs, names, wrt, expected_output, upstream, expected)
    _check_function_float32(case, student, reference, inputs, names, wrt, seed)
    if second_order:
        check_second_order(case, student, reference, inputs, names, seed)


def _gradients_through(student, inputs, wrt, upstream):
    """(the student's output on ``inputs``, its gradients with respect to ``inputs[wrt]`` for ``upstream``)."""
    output = student(*inputs)
    return output, grad(output, [inputs[i] for i in wrt], upstream.requires_grad_(), allow_unused=True)


def _check_function_layouts(case, student, inputs, names, wrt, expected_output, upstream, expected):
    """``check_strided`` for a function: the same output and gradients on inputs and g laid out with strides."""
    if not any(isinstance(x, Tensor) and x.ndim for x in [*inputs, upstream]):
        return
    case = f"{case}, with the inputs and g laid out with strides"
    with attempting(case, STRIDED, "strides"):
        output, got = _gradients_through(student, [strided(x) for x in inputs], wrt, strided(upstream))
    compare(case, output, expected_output, "the output", STRIDED, "strides")
    for i, mine in zip(wrt, got):
        mine = creation.zeros_like(expected[i]) if mine is None else mine
        compare(case, mine, expected[i], f"dL/d{names[i]}", STRIDED, "strides")


def _check_function_float32(case, student, reference, inputs, names, wrt, seed):
    """``check_float32`` for a function: on float32 copies of the float64 inputs, the output has tinygen's dtype and
    each gradient its input's."""
    if not any(isinstance(x, Tensor) and x.dtype == float64 for x in inputs):
        return
    inputs, case = [in_float32(x) for x in inputs], f"{case}, in float32"
    with reference_mode():
        expected = reference(*[duplicate(x) for x in inputs])
    with attempting(case, DTYPE, "dtype"):
        output, got = _gradients_through(student, [duplicate(x) for x in inputs], wrt, upstream_for(expected, seed))
    if output.dtype != expected.dtype:
        raise ExerciseFailure(f"{case}: the output has dtype {output.dtype}, expected {expected.dtype}", DTYPE, "dtype")
    for i, gradient in zip(wrt, got):
        if gradient is not None and gradient.dtype != inputs[i].dtype:
            raise ExerciseFailure(f"{case}: dL/d{names[i]} has dtype {gradient.dtype}, but {names[i]} has dtype "
                                  f"{inputs[i].dtype}: each gradient has its input's dtype", DTYPE, "dtype")


def check_second_order(case, student, reference, inputs, names, seed=0):
    """The gradient must itself be differentiable, with the right derivatives: compare d<w, dL/dinputs> with
    respect to the inputs and the upstream gradient, for random w. A reference whose gradient cannot be
    differentiated (an instructor's backward on raw arrays) is the grader's error, not the student's failure."""
    wrt = [i for i, x in enumerate(inputs) if x.requires_grad]
    case = f"{case}, second derivative"

    def second_derivatives(function, xs):
        output = function(*xs)
        upstream = upstream_for(output, seed).requires_grad_()
        firsts = grad(output, [xs[i] for i in wrt], upstream, create_graph=True, allow_unused=True)
        total = None
        for k, (i, first_derivative) in enumerate(zip(wrt, firsts)):
            if first_derivative is None or not first_derivative.requires_grad:
                problem = f"dL/d{names[i]} is not connected to the inputs in the graph, so it cannot be differentiated"
                if function is reference:
                    raise ValueError(f"{case}: the reference's {problem}: write its backward with tensor operations, "
                                     "or check it with second_order=False")
                raise ExerciseFailure(f"{case}: {problem}", SECOND_ORDER, "second derivative")
            term = (first_derivative * random_tensor(tuple(xs[i].shape), seed + 100 + k, requires_grad=False)).sum()
            total = term if total is None else total + term
        return grad(total, [xs[i] for i in wrt] + [upstream], allow_unused=True)

    with reference_mode():
        expected = second_derivatives(reference, [duplicate(x) for x in inputs])
    used = [duplicate(x) for x in inputs]
    with attempting(case, SECOND_ORDER, "second derivative"):
        got = second_derivatives(student, used)
    labels = [names[i] for i in wrt] + ["the upstream gradient"]
    for label, mine, theirs in zip(labels, got, expected):
        if theirs is None and mine is None:
            continue
        like = theirs if theirs is not None else mine
        zeros = creation.zeros(tuple(like.shape), dtype=like.dtype)
        compare(case, zeros if mine is None else mine, zeros if theirs is None else theirs,
                f"the derivative of <w, gradient> with respect to {label}", SECOND_ORDER, "second derivative")


def sums_to_zero(dims, what, hints, check):
    """A symptom check for ``check_op_backward``: the gradient summed over ``dims`` must vanish (batch norm's dL/dx
    per channel, log_softmax's along its dim), for any upstream gradient."""
    return lambda case, gradient: check_sums_to_zero(case, gradient, dims, what, hints, check)


def check_sums_to_zero(case, gradient, dims, what, hints, check):
    """``gradient`` summed over ``dims`` must vanish; else an ``ExerciseFailure`` saying ``what``."""
    if not isinstance(gradient, Tensor):
        return
    sums = gradient.detach().sum(dim=dims)
    scale = float(gradient.detach().abs().sum()) or 1.0
    if float(sums.abs().amax()) > 1e-9 * scale:
        shown = [round(v, 6) for v in sums.reshape(-1).tolist()[:6]]
        raise ExerciseFailure(f"{case}: {what} (sums {shown}) for a random upstream gradient", hints, check)


def _unravel(flat, shape):
    index = []
    for extent in reversed(shape):
        index.append(flat % extent)
        flat //= extent
    return tuple(reversed(index))
