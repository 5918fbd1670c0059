"""What every grader shares: the failure it raises, random inputs, and checks that turn a wrong answer into
a message a student can act on (which case, which input, the worst element, expected vs got) plus a hint.
"""
from tinygen import creation
from tinygen.backend.dtypes import float64
from tinygen.ops.comparison import isfinite, logical_not
from tinygen.random import Generator
from tinygen.testing import GradcheckError, gradcheck, gradgradcheck

#: said when a first derivative is right but the second is not
SECOND_ORDER_HINT = (
    "the first derivative is right but it cannot be differentiated again: write backward with tinygen tensor "
    "ops on Tensors (g * y, sum_to, matmul ...), not on raw arrays (.data) or values saved as arrays in forward"
)
#: said when the engine refuses a gradient because its shape is wrong
SHAPE_HINT = "each gradient must have exactly the shape of its input"


class ExerciseFailure(Exception):
    """A student's implementation gave a wrong answer: ``message`` says what, ``hint`` what to look at.
    Raised ``from`` the exception the student's code raised, if any (the workspace names its line)."""

    def __init__(self, message, hint=""):
        super().__init__(message)
        self.message, self.hint = message, hint


def random_tensor(shape, seed, low=-1.0, high=1.0, requires_grad=True, dtype=float64):
    """Uniform values in [low, high) on the default device (float64, as gradient checks need)."""
    draws = creation.rand(shape, generator=Generator(None, seed), dtype=dtype)
    values = draws * (high - low) + low
    return values.requires_grad_() if requires_grad else values


def describe(tensors):
    """``"shapes (3, 1), (1, 4)"``: the case being checked, for a failure message."""
    return "shapes " + ", ".join(str(tuple(t.shape)) for t in tensors)


def check_gradients(case, fn, inputs, hint, second_order=True, atol=1e-5, rtol=1e-3):
    """gradcheck ``fn`` at ``inputs`` (and gradgradcheck it when ``second_order``); on failure raise
    ``ExerciseFailure`` naming ``case``, with ``hint`` (after the shape hint when the engine refused a shape)."""
    try:
        gradcheck(fn, inputs, atol=atol, rtol=rtol)
    except NotImplementedError:
        raise
    except Exception as error:  # a wrong value, a gradient the engine refused, or the student's code raised
        wrong_shape = "returned a gradient of shape" in str(error)
        raise ExerciseFailure(f"{case}: {_explain(error)}", f"{SHAPE_HINT}; {hint}" if wrong_shape else hint) from error
    if not second_order:
        return
    try:
        gradgradcheck(fn, inputs, atol=atol, rtol=rtol)
    except NotImplementedError:
        raise
    except Exception as error:
        raise ExerciseFailure(f"{case}, second derivative: {_explain(error)}", SECOND_ORDER_HINT) from error


def _explain(error):
    return str(error) if isinstance(error, GradcheckError) else f"{type(error).__name__}: {error}"


def check_close(case, got, expected, hint, rtol=1e-6, atol=1e-9):
    """``got`` must equal ``expected`` (Tensors) in shape and, within the tolerance, in every element."""
    if tuple(got.shape) != tuple(expected.shape):
        raise ExerciseFailure(f"{case}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}", hint)
    if got.dtype != expected.dtype:
        raise ExerciseFailure(f"{case}: expected dtype {expected.dtype}, got {got.dtype}", hint)
    got, expected = got.detach(), expected.detach()
    if not got.numel():
        return
    finite = bool(isfinite(got).all())
    excess = (got - expected).abs() - (expected.abs() * rtol + atol)
    if finite and float(excess.amax()) <= 0:
        return
    flat = int((excess if finite else logical_not(isfinite(got))).reshape(-1).argmax())
    index = _unravel(flat, tuple(got.shape))
    raise ExerciseFailure(
        f"{case}: wrong value at index {index}: expected {expected[index].item():.10g}, got {got[index].item():.10g}"
        f" (tolerance {atol} + {rtol} * |expected|)",
        hint,
    )


def _unravel(flat, shape):
    index = []
    for extent in reversed(shape):
        index.append(flat % extent)
        flat //= extent
    return tuple(reversed(index))
