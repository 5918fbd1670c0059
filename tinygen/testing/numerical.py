"""Finite differences: the numbers every gradient check compares with.

For a scalar function f of an array x, the central difference along element j is

    df/dx_j  ~  (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

with an error of order eps^2 (truncation) + machine_eps / eps (rounding): about 1e-10 in float64 with eps = 1e-6,
about 1e-1 in float32, which is why the checks take float64 inputs only. For an array-valued f and an upstream
gradient ``dout``, the checks differentiate the scalar ``<dout, f(x)> = sum(dout * f(x))``: its gradient is the
vector-Jacobian product dout^T J that a backward computes.
"""
import copy

import numpy  # host bookkeeping only: indices and results; f itself runs on the input's own backend

from tinygen.testing.arrays import (backend_of, check_array_inputs, describe, first_non_finite, is_floating_array,
                                    to_host)
from tinygen.testing.calls import call_user
from tinygen.testing.errors import GradcheckError
from tinygen.testing.labels import input_labels


def check_settings(who, eps, atol=0.0, rtol=0.0):
    """``eps`` must be a positive finite step; ``atol`` and ``rtol`` non-negative finite tolerances. Returns them
    as Python floats: a NumPy float32 step would keep ``x + eps`` in float32 (NumPy 2's promotion)."""
    for argument, value, least in (("eps", eps, "positive"), ("atol", atol, "non-negative"),
                                   ("rtol", rtol, "non-negative")):
        number = isinstance(value, (int, float, numpy.floating)) and not isinstance(value, bool)
        if not number or not numpy.isfinite(value) or value < 0 or (least == "positive" and value == 0):
            raise GradcheckError(f"{who}: {argument} must be a {least} finite number, got {value!r}")
    return float(eps), float(atol), float(rtol)


def fresh(value):
    """What one call of the user's function gets: a copy of an array, a deep copy of anything else (a settings
    dict), so that a function that changes an argument cannot change the next call's (the value itself where it
    cannot be copied)."""
    if backend_of(value) is not None:
        return value.copy()
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


#: how many times machine epsilon the user's forward may lose to rounding, beyond the inner product's own terms
ROUNDING_MARGIN = 1000
#: a step of fewer float64 spacings than this, at the input's value, measures mostly rounding
STEP_ULPS = 1e4


class NonFiniteOutput(GradcheckError):
    """The checked function returned NaN or Inf."""


def central_differences(objective, x, eps=1e-6, label=None):
    """d objective / dx for every element of ``x``, as a NumPy float64 array of x's shape.

    ``x`` is an array of any backend; ``objective(a)`` returns a float for an array ``a`` like ``x``. It is called
    twice per element, with a working copy of ``x`` that has that one element moved by +eps and by -eps. With
    ``label`` (what the messages call ``x``), an output of NaN or Inf at a moved point says which move made it.
    """
    work = x.copy()
    values = to_host(x)  # read on the host: one transfer, not one per element
    gradient = numpy.zeros(x.shape, dtype=numpy.float64)
    for index in numpy.ndindex(*x.shape):
        value = float(values[index])
        differences = []
        for moved in (value + eps, value - eps):
            work[index] = moved
            try:
                differences.append(objective(work))
            except NonFiniteOutput as error:
                if label is None:
                    raise
                raise GradcheckError(
                    f"{error} when {label} at index {index} was moved by eps from {value:.6g} to {moved:.6g}: is the "
                    "function defined that close (sqrt or log near 0)? Move the input further from the edge, or "
                    "pass a smaller eps"
                ) from None
        work[index] = value
        gradient[index] = (differences[0] - differences[1]) / (2 * eps)
    return gradient


def measured_noise(objective, x, numeric, eps, rounding):
    """How much of ``numeric`` (central differences of ``objective`` at ``x`` with step ``eps``) may be noise: the
    estimate ``rounding`` plus twice its largest change when the step is 10 eps. Rounding error shrinks tenfold
    with the longer step and a smooth function's truncation error stays far below a real gradient, so a real
    gradient stays put where noise (a forward whose large terms cancel, as batch norm's sum) does not."""
    again = central_differences(objective, x, 10 * eps)
    return rounding + 2 * float(numpy.abs(numeric - again).max(initial=0.0))


def rounding_noise(out, dout, eps):
    """How far rounding alone may move a central difference of <dout, out>: each value of that sum is good to
    about machine epsilon times the sum of its terms' sizes (times ``ROUNDING_MARGIN`` for the rounding inside the
    function), and a central difference divides the difference of two such values by 2 eps."""
    terms = float(numpy.abs(to_host(out) * to_host(dout)).sum())
    return ROUNDING_MARGIN * float(numpy.finfo(numpy.float64).eps) * terms / eps


def one_sided_slopes(objective, x, index, eps=1e-6):
    """The slopes of ``objective`` left and right of ``x[index]``: (f(x) - f(x - eps e)) / eps and
    (f(x + eps e) - f(x)) / eps. They differ where f has a kink there (relu at 0, a tie in a max)."""
    work = x.copy()
    value = float(to_host(x)[index])
    center = objective(work)
    work[index] = value + eps
    right = (objective(work) - center) / eps
    work[index] = value - eps
    left = (center - objective(work)) / eps
    return left, right


def step_note(value, eps):
    """A line for a failure message when ``eps`` is too small a step at ``value`` to measure anything but rounding:
    fewer than ``STEP_ULPS`` float64 spacings (|value| = 1e9 has spacings of 1.2e-7: eps = 1e-6 is 8 of them)."""
    spacings = eps / float(numpy.spacing(abs(value)))
    if spacings >= STEP_ULPS:
        return None
    return (f"note: at {value:.6g} a step of eps = {eps:g} is only {spacings:.3g} float64 spacings, so the finite "
            f"differences there are mostly rounding: pass a larger eps (e.g. eps={eps * abs(value):.3g}, relative to "
            "the input's size) or rescale the inputs")


def kink_note(left, right, atol, rtol):
    """A line for a failure message when the one-sided slopes at the worst element differ (else ``None``)."""
    if abs(left - right) <= 10 * (atol + rtol * max(abs(left), abs(right))):
        return None
    return (f"note: the one-sided slopes there differ (left {left:.6g}, right {right:.6g}): the function looks "
            "non-differentiable at this input (a kink such as relu or abs at 0, or a tie in max). This may not be a "
            "gradient bug: move the input away from the kink and check again")


def numerical_gradient(f, inputs, dout=None, eps=1e-6):
    """The finite-difference gradients of ``<dout, f(*inputs)>``, one per input.

    ``inputs`` is a list of arrays (NumPy or CuPy, float64) and other arguments passed along unchanged (integer
    labels, a dict of settings), or a single array. ``f`` returns an array or a number, or ``(out, cache)`` like
    a layer's forward (the cache is ignored). ``dout`` defaults to ones, so for a scalar ``f`` the result is
    plainly its gradient. Returns a list with, per input, an array of its shape on its device (``None`` for an
    input that is not a floating-point array); a single array for a single array. The inputs are not modified.
    """
    __tracebackhide__ = True  # pytest: show the caller's line and the message, not the checker's insides
    try:
        return _numerical_gradient(f, inputs, dout, eps)
    except GradcheckError as error:
        raise GradcheckError(str(error)) from None


def _numerical_gradient(f, inputs, dout, eps):
    eps = check_settings("numerical_gradient", eps)[0]
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    labels = input_labels("numerical_gradient", f, len(inputs))
    backend = check_array_inputs("numerical_gradient", inputs, labels)
    base = [x.copy() if is_floating_array(x) else x for x in inputs]
    out = output_of("numerical_gradient", "f", call_user("numerical_gradient", "f", f, *base), backend)
    dout = backend.xp.ones(out.shape, dtype=numpy.float64) if dout is None else dout
    check_upstream("numerical_gradient", dout, out, backend)
    gradients = []
    for position, x in enumerate(inputs):
        if not is_floating_array(x):
            gradients.append(None)
            continue
        objective = inner_product_with("numerical_gradient", "f", f, base, position, dout, backend)
        gradients.append(backend.asarray(central_differences(objective, base[position], eps, labels[position])))
    return gradients[0] if single else gradients


def inner_product_with(who, what, f, inputs, position, dout, backend):
    """``a -> <dout, f(inputs with a at position)>`` as a Python float, for ``central_differences``."""
    def objective(array):
        arguments = [array if index == position else value if backend_of(value) is not None else fresh(value)
                     for index, value in enumerate(inputs)]  # a settings dict copied; arrays are checked unchanged
        out = output_of(who, what, call_user(who, what, f, *arguments), backend)
        if out.shape != dout.shape:
            raise GradcheckError(f"{who}: {what}'s output changed shape from {dout.shape} to {out.shape} when "
                                 "one input element moved by eps")
        return float((out * dout).sum())
    return objective


def output_of(who, what, result, backend):
    """The output array of a forward's result (``out`` or ``(out, cache)``), checked: an array of the inputs'
    backend (a number becomes a 0-d array), floating-point, finite."""
    if isinstance(result, tuple):
        if len(result) != 2:
            raise GradcheckError(f"{who}: {what} returned a tuple of {len(result)} values; expected out or "
                                 "(out, cache)")
        result = result[0]
    if isinstance(result, numpy.generic) and result.dtype.kind in "iuf":
        result = backend.xp.asarray(result)  # a NumPy scalar keeps its dtype: a float32 loss is low precision
    elif isinstance(result, (int, float)) and not isinstance(result, bool):
        result = backend.xp.asarray(result, dtype=numpy.float64)
    if backend_of(result) is None:
        missing = " (a missing return statement?)" if result is None else ""
        raise GradcheckError(f"{who}: {what} returned {describe(result)} as its output{missing}; expected an array")
    if backend_of(result) is not backend:
        raise GradcheckError(f"{who}: {what} returned {describe(result)}, but its inputs are on another device; "
                             "compute with the inputs' array module")
    if result.dtype.kind != "f":
        raise GradcheckError(f"{who}: {what} returned an array of dtype {result.dtype}; only a floating-point "
                             "output has a gradient")
    if result.dtype != numpy.float64:
        raise GradcheckError(
            f"{who}: {what} returned {result.dtype} for float64 inputs: somewhere it computes in low precision (an "
            "astype, or a float32 constant), which makes finite differences meaningless; keep float64 throughout"
        )
    host = to_host(result)
    if not numpy.isfinite(host).all():
        index = first_non_finite(host)
        raise NonFiniteOutput(f"{who}: {what} returned {host[index]} at index {index} of its output "
                              f"(shape {tuple(result.shape)})")
    return result


def check_upstream(who, dout, out, backend):
    """A given upstream gradient must be a float64 array of the output's shape, on the output's device."""
    if backend_of(dout) is not backend:
        raise GradcheckError(f"{who}: dout is {describe(dout)}; expected an array like the output, on its device")
    if dout.shape != out.shape or dout.dtype != numpy.float64:
        raise GradcheckError(f"{who}: dout has shape {tuple(dout.shape)} and dtype {dout.dtype}; expected the "
                             f"output's shape {tuple(out.shape)} and float64")
