"""Check analytic gradients against central finite differences.

For ``y = fn(x)`` and a *random* upstream gradient v (never all ones: a plain sum can hide a wrong
gradient, e.g. batch norm's, whose input gradient sums to zero), reverse mode gives the vector-Jacobian
product  a = v^T J.  Finite differences give each of its entries independently:

    a_j  ~  < v, (fn(x + eps e_j) - fn(x - eps e_j)) / (2 eps) >

with an error of order eps^2 (truncation) + machine_eps / eps (rounding). In float64 with eps = 1e-6 that
is about 1e-10; in float32 it would be about 1e-1, which is why only float64 inputs are accepted.
See docs/testing.md for how to read a failure. For a backward written with plain arrays, see ``check_backward``.
"""
from tinygen import backend as backends
from tinygen.autograd import grad as autograd_grad
from tinygen.backend.dtypes import float64
from tinygen.random import Generator
from tinygen.tensor import Tensor
from tinygen.testing import diagnosis
from tinygen.testing.arrays import describe, first_non_finite, is_floating_array
from tinygen.testing.comparison import mismatch
from tinygen.testing.errors import GradcheckError
from tinygen.testing.labels import input_labels
from tinygen.testing.numerical import central_differences, check_settings, kink_note, one_sided_slopes

_host = backends.get_backend("cpu").xp  # numeric bookkeeping (indices, maxima) happens on the host


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _differentiable_outputs(outputs):
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.kind == "f"]


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


def _call(fn, inputs):
    outputs = _as_tuple(fn(*inputs))
    if not _differentiable_outputs(outputs):
        raise GradcheckError("gradcheck: fn returned no floating-point Tensor")
    return outputs


def _check_outputs(name, inputs, outputs, allow_low_precision):
    """What finite differences cannot work with, in fn's first outputs: a dtype below float64, a NaN or an Inf."""
    if not any(isinstance(x, Tensor) and x.requires_grad and x.numel() for x in inputs):
        return  # no entry to move: nothing here could spoil a finite difference
    for number, output in enumerate(_differentiable_outputs(outputs)):
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


def _upstream(outputs, generator):
    """Random N(0,1) upstream gradients, one per differentiable output."""
    return [o._wrap_like(generator.standard_normal(o.array.shape, o.dtype)) for o in _differentiable_outputs(outputs)]


def _scalar_objective(fn, inputs, upstream):
    """<v, fn(inputs)> as a Python float. Grad mode stays on: fn may itself call ``tinygen.grad`` (a penalty)."""
    outputs = _differentiable_outputs(_as_tuple(fn(*inputs)))
    return sum(float((o.array * v.array).sum()) for o, v in zip(outputs, upstream))


def _analytic(fn, inputs, upstream):
    """v^T J for every input that requires grad, as backend arrays (zeros where fn does not depend on it)."""
    outputs = _differentiable_outputs(_call(fn, inputs))
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    pairs = [(o, v) for o, v in zip(outputs, upstream) if o.requires_grad]
    grads = autograd_grad([o for o, _ in pairs], wrt, [v for _, v in pairs], allow_unused=True) if pairs else [None] * len(wrt)
    return [x.backend.xp.zeros(x.array.shape, dtype=x.dtype) if g is None else g.array for x, g in zip(wrt, grads)]


def _replace(inputs, position, array):
    """``inputs`` with the tensor at ``position`` holding ``array``: at every position it is passed at (``fn(a, a)``
    moves both arguments, as the analytic gradient, the derivative for the one tensor, sums both)."""
    original = inputs[position]
    moved = Tensor._make(array, original.backend, original.requires_grad)
    return [moved if x is original else x for x in inputs]


def _objective_along(fn, inputs, position, upstream):
    """``a -> <v, fn(inputs with a as the data of input position)>``, for the finite differences."""
    return lambda array: _scalar_objective(fn, _replace(inputs, position, array), upstream)


def _snapshot(inputs):
    return [x.backend.to_numpy(x.array).copy() if isinstance(x, Tensor) else None for x in inputs]


def _check_not_mutated(name, inputs, labels, snapshot):
    for x, label, before in zip(inputs, labels, snapshot):
        if before is None:
            continue
        after = x.backend.to_numpy(x.array)
        if not _host.array_equal(after, before, equal_nan=True):
            raise GradcheckError(f"{name}: fn modified {label} (shape {x.shape}) in place")


def _noncontiguous_copy(x):
    """The same values in a strided (non-contiguous) layout: every other element of a twice-as-wide array."""
    if x.ndim == 0 or x.numel() < 2:
        return x
    xp = x.backend.xp
    wide = xp.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
    wide[..., ::2] = x.array
    return Tensor._make(wide[..., ::2], x.backend, x.requires_grad)


def _compare(name, label, x, analytic, numeric, atol, rtol, objective, eps):
    report = mismatch(name, label, analytic, numeric, atol, rtol)
    if report is None:
        return
    worst, lines = report
    cause = diagnosis.value_cause(analytic, numeric, x.backend.to_numpy(x.array).astype(float64), atol, rtol)
    if cause:
        lines.append(f"likely cause: {cause}")
    note = kink_note(*one_sided_slopes(objective, x.array, worst, eps), atol, rtol)
    if note:
        lines.append(note)
    raise GradcheckError("\n  ".join(lines))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, check_noncontiguous=True,
              allow_low_precision=False, name="gradcheck", names=None):
    """Raise ``GradcheckError`` unless reverse mode agrees with finite differences for ``fn`` at ``inputs``.

    ``fn`` takes the tensors in ``inputs`` and returns a Tensor or a tuple of Tensors. Every input that
    requires grad is checked, element by element, for a random upstream gradient. The check also runs the
    analytic gradient on non-contiguous copies of the inputs and fails if ``fn`` mutates an input. Messages
    name the inputs by ``fn``'s parameter names (or ``names``). Returns ``True`` on success.
    """
    inputs = list(_as_tuple(inputs) if not isinstance(inputs, list) else inputs)
    labels = input_labels(name, fn, len(inputs), names)
    return _gradcheck(fn, inputs, labels, eps, atol, rtol, seed, check_noncontiguous, allow_low_precision, name)


def _gradcheck(fn, inputs, labels, eps, atol, rtol, seed, check_noncontiguous, allow_low_precision, name):
    eps, atol, rtol = check_settings(name, eps, atol, rtol)
    _check_inputs(name, inputs, labels, allow_low_precision)
    snapshot = _snapshot(inputs)
    device = next(x for x in inputs if isinstance(x, Tensor)).device
    generator = Generator(device, seed)
    outputs = _call(fn, inputs)
    _check_not_mutated(name, inputs, labels, snapshot)  # before any comparison: a mutation spoils them all
    _check_outputs(name, inputs, outputs, allow_low_precision)
    upstream = _upstream(outputs, generator)

    analytic = _analytic(fn, inputs, upstream)
    wrt_positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for position, gradient in zip(wrt_positions, analytic):
        x = inputs[position]
        objective = _objective_along(fn, inputs, position, upstream)
        numeric = central_differences(objective, x.array, eps)
        host_gradient = x.backend.to_numpy(gradient).astype(float64)
        _compare(name, labels[position], x, host_gradient, numeric, atol, rtol, objective, eps)

    if check_noncontiguous:
        copies = {id(x): _noncontiguous_copy(x) for x in inputs if isinstance(x, Tensor)}  # one per tensor, shared
        strided = [copies[id(x)] if isinstance(x, Tensor) else x for x in inputs]           # where fn gets it twice
        for position, expected, got in zip(wrt_positions, analytic, _analytic(fn, strided, upstream)):
            x = inputs[position]
            expected_host, got_host = x.backend.to_numpy(expected), x.backend.to_numpy(got)
            if not _host.allclose(got_host, expected_host, rtol=1e-7, atol=1e-10, equal_nan=True):
                raise GradcheckError(
                    f"{name}: the gradient for {labels[position]} changes when the inputs are non-contiguous "
                    f"(largest difference {_host.abs(got_host - expected_host).max():.3g}): the op depends on memory layout"
                )
    _check_not_mutated(name, inputs, labels, snapshot)
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, check_noncontiguous=True,
                  allow_low_precision=False, names=None):
    """Check second derivatives: gradcheck the map (inputs, v) -> v^T J(inputs) built with ``create_graph``.

    This differentiates the backward pass itself, w.r.t. the inputs and the upstream gradient v, which is
    what a gradient penalty (WGAN-GP) needs. Messages call v "the upstream gradient".
    """
    inputs = list(_as_tuple(inputs) if not isinstance(inputs, list) else inputs)
    labels = input_labels("gradgradcheck", fn, len(inputs), names)
    _check_inputs("gradgradcheck", inputs, labels, allow_low_precision)
    device = next(x for x in inputs if isinstance(x, Tensor)).device
    generator = Generator(device, seed + 1)
    outputs = [o for o in _differentiable_outputs(_call(fn, inputs)) if o.requires_grad]
    if not outputs:
        raise GradcheckError("gradgradcheck: no output of fn requires grad")
    upstream = [o._wrap_like(generator.standard_normal(o.array.shape, o.dtype)).requires_grad_() for o in outputs]
    n_inputs = len(inputs)

    def first_derivative(*arguments):
        xs, vs = list(arguments[:n_inputs]), list(arguments[n_inputs:])
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        ys = [o for o in _differentiable_outputs(_as_tuple(fn(*xs))) if o.requires_grad]
        grads = autograd_grad(ys, wrt, vs, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x * 0.0 for x, g in zip(wrt, grads))

    upstream_labels = (["the upstream gradient"] if len(upstream) == 1 else
                       [f"the upstream gradient of output {index}" for index in range(len(upstream))])
    return _gradcheck(first_derivative, inputs + upstream, labels + upstream_labels, eps, atol, rtol, seed,
                      check_noncontiguous, allow_low_precision, name="gradgradcheck")
