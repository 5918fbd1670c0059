"""Check analytic gradients against central finite differences.

For ``y = fn(x)`` and a *random* upstream gradient v (never all ones: a plain sum can hide a wrong
gradient, e.g. batch norm's, whose input gradient sums to zero), reverse mode gives the vector-Jacobian
product  a = v^T J.  Finite differences give each of its entries independently:

    a_j  ~  < v, (fn(x + eps e_j) - fn(x - eps e_j)) / (2 eps) >

with an error of order eps^2 (truncation) + machine_eps / eps (rounding). In float64 with eps = 1e-6 that
is about 1e-10; in float32 it would be about 1e-1, which is why only float64 inputs are accepted.
See docs/testing.md for how to read a failure. For a backward written with plain arrays, see ``check_backward``.

The signatures are PyTorch's (``torch.autograd.gradcheck``, ``gradgradcheck``), with tinygen's own settings after
them; ``gradcheck``'s docstring (and docs/testing.md) says what each PyTorch setting does here.
"""
import math
import numbers
from dataclasses import dataclass

from tinygen import backend as backends
from tinygen.autograd import grad as autograd_grad
from tinygen.backend.dtypes import float64
from tinygen.random import Generator
from tinygen.tensor import Tensor
from tinygen.testing import diagnosis
from tinygen.testing.arrays import describe, first_non_finite, is_floating_array, strided_copy
from tinygen.testing.calls import user_site
from tinygen.testing.comparison import is_small, mismatch
from tinygen.testing.errors import GradcheckError
from tinygen.testing.labels import input_labels
from tinygen.testing.numerical import (central_differences, check_settings, kink_note, measured_noise,
                                       one_sided_slopes, rounding_noise, step_note)

_host = backends.get_backend("cpu").xp  # numeric bookkeeping (indices, maxima) happens on the host

#: PyTorch settings that tinygen cannot honour with any value but their default: (setting, default, why)
_FIXED = {
    "check_batched_grad": (False, "tinygen has no vmap, so batched gradients cannot be computed"),
    "check_batched_forward_grad": (False, "tinygen has no forward-mode AD"),
    "check_forward_ad": (False, "tinygen has no forward-mode AD; reverse mode is what it checks"),
    "check_fwd_over_rev": (False, "tinygen has no forward-mode AD; reverse over reverse is what it checks"),
    "check_backward_ad": (True, "reverse mode is all tinygen has to check, so there would be nothing left"),
    "check_rev_over_rev": (True, "reverse over reverse is all tinygen has to check, so there would be nothing left"),
}


@dataclass(frozen=True)
class _Settings:
    """What one check runs with, after ``_settings`` has checked it."""

    eps: float
    atol: float
    rtol: float
    nondet_tol: float
    seed: int
    check_noncontiguous: bool
    allow_low_precision: bool


def _settings(name, eps, atol, rtol, nondet_tol, seed, check_noncontiguous, allow_low_precision, pytorch):
    """The checked settings; one clear line for a bad one, or for a PyTorch setting tinygen cannot honour."""
    eps, atol, rtol = check_settings(name, eps, atol, rtol)
    if isinstance(nondet_tol, bool) or not isinstance(nondet_tol, numbers.Real) or not 0 <= nondet_tol < math.inf:
        raise GradcheckError(f"{name}: nondet_tol must be a non-negative finite number, got {nondet_tol!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise GradcheckError(f"{name}: seed must be a non-negative integer, got {seed!r}")
    for setting, value in pytorch.items():
        default, why = _FIXED[setting]
        if bool(value) != default:
            raise GradcheckError(f"{name}: {setting}={value!r} is not supported: {why}")
    return _Settings(eps, atol, rtol, float(nondet_tol), seed, check_noncontiguous, allow_low_precision)


def _verdict(raise_exception, check):
    """``check()``; with ``raise_exception=False`` (PyTorch's setting), ``False`` instead of its GradcheckError."""
    if raise_exception:
        return check()
    try:
        return check()
    except GradcheckError:
        return False


def _as_tuple(value):
    """fn's outputs (or the inputs) as a tuple: a tuple or list as it is, anything else as its one entry."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _run(name, what, call):
    """``call()``; an exception it raises becomes a one-line GradcheckError that says what raised it (``what``), its
    type, message and the user's line, chained to it so that the full traceback stays available."""
    try:
        return call()
    except GradcheckError:
        raise  # already one line (a check inside a check: gradgradcheck's first derivative)
    except (Exception, SystemExit) as error:  # sys.exit() in fn is a bug to report, not the check's end
        message = " ".join(str(error).split())
        site = user_site(error)
        raise GradcheckError(f"{name}: {what} raised {type(error).__name__}: {message}"
                             + (f" ({site})" if site else "")) from error


def _shown(value):
    """What fn returned, for a message: ``None``, ``a float``, ``an int64 Tensor``, ``a list of a float, None``."""
    if isinstance(value, Tensor):
        return _with_article(f"{value.dtype} Tensor")
    if isinstance(value, (tuple, list)):
        if not value:
            return f"an empty {type(value).__name__}"
        shown = ", ".join(_shown(entry) for entry in value[:4])
        return f"a {type(value).__name__} of {shown}{', ...' if len(value) > 4 else ''}"
    shown = describe(value)
    return _with_article(shown[2:]) if shown.startswith("a ") else shown


def _with_article(noun):
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _checked_positions(name, returned):
    """The positions of fn's outputs that the check differentiates: as PyTorch, the floating-point Tensors that
    require grad (an output fn detached on purpose, or one computed under no_grad, is left out of both sides).
    Where none requires grad, all floating-point Tensors: their finite differences must then be zero."""
    outputs = _as_tuple(returned)
    floating = [number for number, o in enumerate(outputs) if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if not floating:
        raise GradcheckError(f"{name}: fn returned no floating-point Tensor: it returned {_shown(returned)}; return "
                             "a Tensor, or a tuple or list of Tensors, of a floating-point dtype")
    return [number for number in floating if outputs[number].requires_grad] or floating


def _check_inputs(name, inputs, labels, allow_low_precision):
    for x, label in zip(inputs, labels):
        if is_floating_array(x):
            raise GradcheckError(
                f"{name}: {label} is {describe(x)}, not a Tensor: {name} differentiates tinygen code, so pass tensors "
                f"with requires_grad=True, e.g. tinygen.tensor(x, dtype=tinygen.float64, requires_grad=True); for a "
                "forward/backward pair written with plain arrays, use tinygen.testing.check_backward"
            )
        if not isinstance(x, Tensor):
            continue
        if x.requires_grad and x.dtype != float64 and not allow_low_precision:
            raise GradcheckError(
                f"{name}: {label} has dtype {x.dtype}; finite differences are meaningless below float64 "
                f"(float32 rounding ~1e-7 / eps 1e-6 = errors of order 0.1). Pass float64 inputs, e.g. x.double()"
            )
        if x.requires_grad:  # only what finite differences move must be finite (a constant -inf mask is fine)
            host = x.backend.to_numpy(x.array)
            if not _host.isfinite(host).all():
                index = first_non_finite(host)
                raise GradcheckError(f"{name}: {label} holds {host[index]} at index {index}: finite differences "
                                     "need finite inputs")
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise GradcheckError(f"{name}: no input requires grad, so there is nothing to check; make the tensors to "
                             "check with requires_grad=True")


def _check_outputs(name, inputs, outputs, positions, allow_low_precision):
    """What finite differences cannot work with, in fn's checked outputs: a dtype below float64, a NaN or an Inf."""
    if not any(isinstance(x, Tensor) and x.requires_grad and x.numel() for x in inputs):
        return  # no entry to move: nothing here could spoil a finite difference
    for number in positions:
        output = outputs[number]
        if output.dtype != float64 and not allow_low_precision:
            raise GradcheckError(
                f"{name}: fn returned {output.dtype} for float64 inputs: somewhere it computes in low precision (a "
                ".float(), or a float32 tensor it makes), which makes finite differences meaningless; keep float64 "
                "throughout"
            )
        host = output.backend.to_numpy(output.array)
        if not _host.isfinite(host).all():
            index = first_non_finite(host)
            raise GradcheckError(f"{name}: fn returned {host[index]} at index {index} of output {number} (shape "
                                 f"{tuple(output.shape)}): finite differences need finite outputs")


def _check_deterministic(name, fn, inputs, outputs, positions, nondet_tol):
    """Finite differences compare fn at nearby points, so fn must give the same outputs at the same point (up to
    ``nondet_tol``, PyTorch's tolerance for nondeterminism, and rounding): a random fn (dropout) is named as such
    rather than reported as a gradient mismatch."""
    again = _as_tuple(_run(name, "fn", lambda: fn(*inputs)))
    for number in positions:
        first = outputs[number]
        second = again[number] if number < len(again) else None
        if not isinstance(second, Tensor) or second.shape != first.shape:
            raise GradcheckError(f"{name}: fn returned {_shown(first)} of shape {tuple(first.shape)} as output "
                                 f"{number}, then {_shown(second)} when called again with the same inputs; finite "
                                 "differences need the same function at every call")
        a, b = first.backend.to_numpy(first.array), second.backend.to_numpy(second.array)
        difference = _host.abs(a - b)
        if (difference > nondet_tol + 1e-12 + 1e-10 * _host.abs(a)).any():
            raise GradcheckError(
                f"{name}: fn gave a different output {number} when called again with the same inputs (largest "
                f"difference {difference.max():.3g}, nondet_tol {nondet_tol:g}): it is not deterministic, so finite "
                "differences cannot check it; seed its randomness inside fn, or use a fixed mask"
            )


def _upstream(outputs, positions, generator):
    """Random N(0,1) upstream gradients, one per checked output."""
    checked = [outputs[number] for number in positions]
    return [o._wrap_like(generator.standard_normal(o.array.shape, o.dtype)) for o in checked]


def _scalar_objective(name, what, fn, inputs, positions, upstream):
    """<v, fn(inputs)> over the checked outputs, as a Python float. Grad mode stays on: fn may itself call
    ``tinygen.grad`` (a penalty)."""
    outputs = _as_tuple(_run(name, what, lambda: fn(*inputs)))
    return sum(float((outputs[number].array * v.array).sum()) for number, v in zip(positions, upstream))


def _analytic(name, what, inputs, outputs, positions, upstream):
    """v^T J for every input that requires grad, by reverse mode from fn's ``outputs``, as backend arrays (zeros where
    fn does not depend on it). ``what`` names the backward in a message if it raises."""
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    pairs = [(outputs[number], v) for number, v in zip(positions, upstream) if outputs[number].requires_grad]
    grads = [None] * len(wrt)
    if pairs:
        grads = _run(name, what, lambda: autograd_grad([o for o, _ in pairs], wrt, [v for _, v in pairs],
                                                       allow_unused=True))
    return [x.backend.xp.zeros(x.array.shape, dtype=x.dtype) if g is None else g.array for x, g in zip(wrt, grads)]


def _replace(inputs, position, array):
    """``inputs`` with the tensor at ``position`` holding ``array``: at every position it is passed at (``fn(a, a)``
    moves both arguments, as the analytic gradient, the derivative for the one tensor, sums both)."""
    original = inputs[position]
    moved = Tensor._make(array, original.backend, original.requires_grad)
    return [moved if x is original else x for x in inputs]


def _objective_along(name, label, fn, inputs, position, positions, upstream):
    """``a -> <v, fn(inputs with a as the data of input position)>``, for the finite differences."""
    what = f"fn, at a finite-difference step of {label},"
    return lambda array: _scalar_objective(name, what, fn, _replace(inputs, position, array), positions, upstream)


def _snapshot(inputs):
    return [x.backend.to_numpy(x.array).copy() if isinstance(x, Tensor) else None for x in inputs]


def _check_not_mutated(name, who, inputs, labels, snapshot):
    """``who`` (fn, or the backward of its graph) must leave the inputs as they were: a change spoils every
    comparison after it, so it is reported before them."""
    for x, label, before in zip(inputs, labels, snapshot):
        if before is None:
            continue
        after = x.backend.to_numpy(x.array)
        if not _host.array_equal(after, before, equal_nan=True):
            raise GradcheckError(f"{name}: {who} modified {label} (shape {x.shape}) in place")


def _noncontiguous_copy(x):
    """The same values laid out otherwise (``strided_copy``): axes in reverse memory order, as ``x.T``'s, each
    every other element of a wider buffer, as ``x[:, ::2]``'s."""
    if x.ndim == 0 or x.numel() < 2:
        return x
    return Tensor._make(strided_copy(x.array), x.backend, x.requires_grad)


def _compare(name, label, x, analytic, numeric, settings, objective, detached, rounding):
    """Raise the report of a mismatch, with its likely cause: ``detached`` (no output of fn requires grad, so the
    analytic gradient is zero by construction) is one the numbers alone cannot tell from a backward left a stub.
    ``rounding``: the estimate of the finite differences' rounding (``None`` in low precision), from which a
    gradient below atol gets its noise, to be compared relative to its size."""
    atol, rtol = settings.atol, settings.rtol
    noise = (measured_noise(objective, x.array, numeric, settings.eps, rounding)
             if rounding is not None and is_small(analytic, numeric, atol) else None)
    report = mismatch(name, label, analytic, numeric, atol, rtol, noise)
    if report is None:
        return
    worst, lines = report
    cause = ("no output of fn requires grad (fn detaches them, or computes them under no_grad), so the analytic "
             "gradient is zero where the outputs do depend on the inputs" if detached else
             diagnosis.value_cause(analytic, numeric, x.backend.to_numpy(x.array).astype(float64), atol, rtol))
    if cause:
        lines.append(f"likely cause: {cause}")
    note = step_note(float(x.backend.to_numpy(x.array)[worst]), settings.eps) or kink_note(
        *one_sided_slopes(objective, x.array, worst, settings.eps), atol, rtol)
    if note:
        lines.append(note)
    raise GradcheckError("\n  ".join(lines))


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None, seed=0, check_noncontiguous=True, allow_low_precision=False, name="gradcheck", names=None):
    """Raise ``GradcheckError`` unless reverse mode agrees with finite differences for ``fn`` at ``inputs``.

    ``fn`` takes the tensors in ``inputs`` and returns a Tensor or a tuple or list of Tensors; as in PyTorch, the
    outputs that do not require grad are left out (if none does, their finite differences must be zero). Every
    input that requires grad is checked, element by element, for a random upstream gradient. Before comparing,
    the check fails if ``fn`` raises, changes an input in place, gives other outputs when called again (a random
    fn, beyond ``nondet_tol``) or its backward changes an input; after, it runs the analytic gradient on
    non-contiguous copies of the inputs. Messages name the inputs by ``fn``'s parameter names (forward's, for a
    Function's ``apply``), or ``names``. Returns ``True`` on success.

    PyTorch's settings: ``raise_exception=False`` returns ``False`` instead of raising for any failure found once fn
    has run (an exception fn raises included; PyTorch lets that one through); settings and inputs the check cannot
    use are raised whatever its value. ``nondet_tol`` bounds the difference between two calls of fn. Accepted, and
    the same whatever their value: ``check_undefined_grad`` (tinygen's engine never hands a backward an undefined
    gradient), ``check_grad_dtypes`` (the engine always refuses a gradient of the wrong dtype or shape),
    ``fast_mode`` (tinygen runs its one check, which compares every entry), ``masked`` (there are no sparse
    tensors). Only their defaults, else an error that says why: ``check_batched_grad`` and
    ``check_batched_forward_grad`` (no vmap), ``check_forward_ad`` (no forward-mode AD), ``check_backward_ad``.
    tinygen's own: ``seed`` (of the upstream gradient), ``check_noncontiguous``, ``allow_low_precision``, ``name``
    (in messages) and ``names`` (of the inputs).
    """
    inputs = list(_as_tuple(inputs))
    labels = input_labels(name, fn, len(inputs), names)
    settings = _settings(name, eps, atol, rtol, nondet_tol, seed, check_noncontiguous, allow_low_precision,
                         dict(check_batched_grad=check_batched_grad,
                              check_batched_forward_grad=check_batched_forward_grad,
                              check_forward_ad=check_forward_ad, check_backward_ad=check_backward_ad))
    _check_inputs(name, inputs, labels, allow_low_precision)
    return _verdict(raise_exception, lambda: _gradcheck(fn, inputs, labels, settings, name))


def _gradcheck(fn, inputs, labels, settings, name):
    snapshot = _snapshot(inputs)
    device = next(x for x in inputs if isinstance(x, Tensor)).device
    generator = Generator(device, settings.seed)
    returned = _run(name, "fn", lambda: fn(*inputs))
    positions, outputs = _checked_positions(name, returned), _as_tuple(returned)
    _check_not_mutated(name, "fn", inputs, labels, snapshot)  # before any comparison: a mutation spoils them all
    _check_outputs(name, inputs, outputs, positions, settings.allow_low_precision)
    _check_deterministic(name, fn, inputs, outputs, positions, settings.nondet_tol)
    upstream = _upstream(outputs, positions, generator)
    detached = not any(outputs[number].requires_grad for number in positions)
    rounding = None if settings.allow_low_precision else sum(
        rounding_noise(outputs[number].array, v.array, settings.eps) for number, v in zip(positions, upstream))

    analytic = _analytic(name, "the analytic backward", inputs, outputs, positions, upstream)
    _check_not_mutated(name, "the backward of fn's graph", inputs, labels, snapshot)
    wrt_positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for position, gradient in zip(wrt_positions, analytic):
        x = inputs[position]
        objective = _objective_along(name, labels[position], fn, inputs, position, positions, upstream)
        numeric = central_differences(objective, x.array, settings.eps)
        host_gradient = x.backend.to_numpy(gradient).astype(float64)
        _compare(name, labels[position], x, host_gradient, numeric, settings, objective, detached, rounding)

    if settings.check_noncontiguous:
        copies = {id(x): _noncontiguous_copy(x) for x in inputs if isinstance(x, Tensor)}  # one per tensor, shared
        strided = [copies[id(x)] if isinstance(x, Tensor) else x for x in inputs]           # where fn gets it twice
        where = "on non-contiguous copies of the inputs,"
        strided_outputs = _as_tuple(_run(name, f"fn, {where}", lambda: fn(*strided)))
        strided_analytic = _analytic(name, f"the analytic backward, {where}", strided, strided_outputs, positions,
                                     upstream)
        for position, expected, got in zip(wrt_positions, analytic, strided_analytic):
            x = inputs[position]
            expected_host, got_host = x.backend.to_numpy(expected), x.backend.to_numpy(got)
            if not _host.allclose(got_host, expected_host, rtol=1e-7, atol=1e-10, equal_nan=True):
                raise GradcheckError(
                    f"{name}: the gradient for {labels[position]} changes when the inputs are non-contiguous (largest "
                    f"difference {_host.abs(got_host - expected_host).max():.3g}): the op depends on memory layout"
                )
    _check_not_mutated(name, "fn", inputs, labels, snapshot)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False, seed=0, check_noncontiguous=True, allow_low_precision=False, names=None):
    """Check second derivatives: gradcheck the map (inputs, v) -> v^T J(inputs) built with ``create_graph``.

    This differentiates the backward pass itself, w.r.t. the inputs and the upstream gradient v, which is
    what a gradient penalty (WGAN-GP) needs. v is ``grad_outputs`` (a Tensor, or a tuple or list with one per
    output of fn that requires grad; one that does not require grad is held constant), else drawn at random
    (requiring grad). Messages call v "the upstream gradient". PyTorch's settings are gradcheck's;
    ``gen_non_contig_grad_outputs`` is accepted whatever its value (``check_noncontiguous`` already runs every
    input, v included, non-contiguous), ``check_fwd_over_rev`` only False (no forward-mode AD), and
    ``check_rev_over_rev`` only True.
    """
    name = "gradgradcheck"
    inputs = list(_as_tuple(inputs))
    labels = input_labels(name, fn, len(inputs), names)
    settings = _settings(name, eps, atol, rtol, nondet_tol, seed, check_noncontiguous, allow_low_precision,
                         dict(check_batched_grad=check_batched_grad, check_fwd_over_rev=check_fwd_over_rev,
                              check_rev_over_rev=check_rev_over_rev))
    given = None if grad_outputs is None else list(_as_tuple(grad_outputs))
    if given is not None:
        for number, v in enumerate(given):
            if not isinstance(v, Tensor):
                raise GradcheckError(f"{name}: grad_outputs holds {describe(v)} at position {number}; give one Tensor "
                                     "per output of fn that requires grad")
        _check_inputs(name, inputs + given, labels + _upstream_labels(len(given)), allow_low_precision)
    else:
        _check_inputs(name, inputs, labels, allow_low_precision)
    return _verdict(raise_exception, lambda: _gradgradcheck(fn, inputs, given, labels, settings, name))


def _upstream_labels(count):
    return ["the upstream gradient"] if count == 1 else [f"the upstream gradient of output {n}" for n in range(count)]


def _gradgradcheck(fn, inputs, given, labels, settings, name):
    returned = _run(name, "fn", lambda: fn(*inputs))
    outputs = _as_tuple(returned)
    positions = [number for number in _checked_positions(name, returned) if outputs[number].requires_grad]
    if not positions:
        raise GradcheckError(f"{name}: no output of fn requires grad")
    if given is None:
        generator = Generator(next(x for x in inputs if isinstance(x, Tensor)).device, settings.seed + 1)
        upstream = [outputs[number]._wrap_like(generator.standard_normal(outputs[number].array.shape,
                                                                         outputs[number].dtype)).requires_grad_()
                    for number in positions]
    else:
        upstream = _checked_grad_outputs(name, given, outputs, positions)
    n_inputs = len(inputs)

    def first_derivative(*arguments):
        xs, vs = list(arguments[:n_inputs]), list(arguments[n_inputs:])
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        results = _as_tuple(fn(*xs))
        grads = _run(name, "the first backward (v^T J, with create_graph=True)",
                     lambda: autograd_grad([results[number] for number in positions], wrt, vs, create_graph=True,
                                           allow_unused=True))
        return tuple(g if g is not None else x * 0.0 for x, g in zip(wrt, grads))

    return _gradcheck(first_derivative, inputs + upstream, labels + _upstream_labels(len(upstream)), settings, name)


def _checked_grad_outputs(name, given, outputs, positions):
    """The given upstream gradients, once they fit fn's outputs that require grad: one each, of its shape."""
    if len(given) != len(positions):
        raise GradcheckError(f"{name}: grad_outputs has {len(given)} Tensor(s), but fn has {len(positions)} "
                             f"output(s) that require grad (at positions {positions}); give one per such output")
    for v, number in zip(given, positions):
        if v.shape != outputs[number].shape:
            raise GradcheckError(f"{name}: grad_outputs has shape {tuple(v.shape)} for output {number} of fn, whose "
                                 f"shape is {tuple(outputs[number].shape)}")
    return given
