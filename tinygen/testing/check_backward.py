"""``check_backward``: check a backward written by hand with plain arrays (NumPy or CuPy) against finite differences.

    out, cache = affine_forward(x, w, b)          # forward(*inputs) -> out, or (out, cache)
    dx, dw, db = affine_backward(dout, cache)     # backward(dout, cache) -> one gradient per input

    check_backward(affine_forward, affine_backward, [x, w, b])

The checks, in order, each with its own message: the inputs (float64 arrays of one library, finite); forward (an
array, float64 and finite, the same for the same inputs, inputs left unchanged); backward (one gradient per input,
each an array of its input's shape with finite values; inputs and dout left unchanged; ``None`` only for an input
forward does not depend on, or one named in ``constants``); then each gradient against central differences of
<dout, forward(...)>, with the likely cause of a mismatch where the numbers show one (``tinygen.testing.diagnosis``);
last, forward and backward again on inputs laid out otherwise in memory (transposed and strided views, as slicing
and ``.T`` give), which must give the same output and gradients. Forward and backward only ever see copies of the
inputs.
"""
import numpy  # host bookkeeping on copies; the user's arrays keep their own backend

from tinygen.testing import diagnosis
from tinygen.testing.arrays import (backend_of, check_array_inputs, describe, first_non_finite, is_floating_array,
                                    strided_copy, to_host)
from tinygen.testing.calls import call_user
from tinygen.testing.comparison import agree, is_small, mismatch
from tinygen.testing.errors import GradcheckError
from tinygen.testing.labels import counted, input_labels, parameter_names
from tinygen.testing.numerical import (central_differences, check_settings, check_upstream, fresh,
                                       inner_product_with, kink_note, measured_noise, one_sided_slopes, output_of,
                                       rounding_noise, step_note)

WHO = "check_backward"


def check_backward(forward, backward, inputs, *, dout=None, names=None, constants=(), eps=1e-6, atol=1e-5,
                   rtol=1e-3, seed=0):
    """Raise ``GradcheckError`` unless ``backward`` computes the gradients of ``forward`` at ``inputs``.

    ``forward(*inputs)`` returns ``out`` or ``(out, cache)``; ``backward(dout, cache)`` (``backward(dout)`` when
    forward returns no cache) returns one gradient or a tuple with one per input (trailing inputs that are not
    floating-point arrays, such as integer labels or a dict of settings, may be left out). ``None`` stands for an
    input forward does not depend on, or one listed in ``constants`` (names or positions of float inputs that take
    no gradient: a noise sample, a mask); a ``None`` for any other input fails, as an unfinished
    ``dx, dw, db = None, None, None`` would. ``inputs``: float64 NumPy or CuPy arrays, and any other arguments.
    ``dout`` is drawn at random (entries of random sign, 0.5 to 1.5 in size) unless given; ``names`` replaces the
    input names read from forward's signature. A gradient passes where |analytic - numeric| <= atol + rtol *
    |numeric| (and, for a gradient whose entries are all below atol, within rtol of its own size). Returns ``True``.
    """
    __tracebackhide__ = True  # pytest: show the caller's line and the message, not the checker's insides
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    try:
        eps, atol, rtol = check_settings(WHO, eps, atol, rtol)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise GradcheckError(f"{WHO}: seed must be a non-negative integer, got {seed!r}")
        _BackwardCheck(forward, backward, inputs, names, constants, eps, atol, rtol).run(dout, seed)
    except GradcheckError as error:
        raise GradcheckError(str(error)) from None
    return True


class _BackwardCheck:
    """One run of ``check_backward``: the user's two functions, the inputs, and what the steps have found."""

    def __init__(self, forward, backward, inputs, names, constants, eps, atol, rtol):
        self.forward, self.backward, self.inputs = forward, backward, inputs
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.labels = input_labels(WHO, forward, len(inputs), names)
        self.names = list(names) if names is not None else parameter_names(forward, len(inputs))
        self.backend = check_array_inputs(WHO, inputs, self.labels)
        self.constants = _constant_positions(constants, self.names, inputs, self.labels)
        self.originals = [to_host(x).copy() if backend_of(x) is not None else None for x in inputs]
        self.base = _copies(inputs)  # the point the finite differences are taken at

    def run(self, dout, seed):
        copies = _copies(self.inputs)
        result = call_user(WHO, "forward", self.forward, *copies)
        self.out = output_of(WHO, "forward", result, self.backend)
        _check_unchanged("forward", copies, self.originals, self.labels)
        self._check_deterministic()

        self.dout = _random_upstream(self.out, self.backend, seed) if dout is None else dout
        check_upstream(WHO, self.dout, self.out, self.backend)
        self.rounding = rounding_noise(self.out, self.dout, self.eps)
        gradients = self._gradients(self._call_backward(result, copies, check_unchanged=True))
        self._check_nones(gradients)
        numerics, failures = {}, []
        for position, gradient in enumerate(gradients):
            if gradient is not None:
                numeric = self._numeric(position)
                noise = self._noise(position, numeric) if is_small(gradient, numeric, self.atol) else None
                numerics[position] = numeric, noise
                report = mismatch(WHO, self.labels[position], gradient, numeric, self.atol, self.rtol, noise)
                if report is not None:
                    failures.append((position, gradient, numeric, report))
        if failures:
            raise GradcheckError(self._failure_message(failures))
        self._check_other_layouts(numerics)

    def _noise(self, position, numeric):
        return measured_noise(self._objective(position), self.base[position], numeric, self.eps, self.rounding)

    def _call_backward(self, result, copies, check_unchanged):
        """backward(dout, cache) (or backward(dout)) on a copy of dout; with ``check_unchanged``, the inputs and
        dout must come out of it as they went in."""
        dout_copy = self.dout.copy()
        cache = (result[1],) if isinstance(result, tuple) else ()
        called_as = ("backward(dout, cache), as forward returned (out, cache)" if cache else
                     "backward(dout), as forward returned no cache")
        returned = call_user(WHO, "backward", self.backward, dout_copy, *cache, called_as=called_as)
        if check_unchanged:
            _check_unchanged("backward", copies + [dout_copy], self.originals + [to_host(self.dout)],
                             self.labels + ["dout"])
        return returned

    def _objective(self, position):
        return inner_product_with(WHO, "forward", self.forward, self.base, position, self.dout, self.backend)

    def _numeric(self, position):
        """The finite-difference gradient of <dout, forward(inputs)> for one input (a host float64 array)."""
        return central_differences(self._objective(position), self.base[position], self.eps, self.labels[position])

    def _check_nones(self, gradients):
        """A ``None`` is a zero gradient: right for an input forward does not depend on (or a declared constant),
        wrong for any other, as an unfinished ``dx, dw, db = None, None, None`` leaves it."""
        for position, (x, gradient) in enumerate(zip(self.inputs, gradients)):
            if gradient is not None or not is_floating_array(x) or position in self.constants:
                continue
            numeric = self._numeric(position)
            if numpy.abs(numeric).max(initial=0.0) <= self._noise(position, numeric):
                continue
            index = tuple(int(i) for i in numpy.unravel_index(int(numpy.abs(numeric).argmax()), numeric.shape))
            raise GradcheckError(
                f"{WHO}: backward returned None for {self.labels[position]}, but forward depends on it (numeric "
                f"gradient {numeric[index]:.6g} at index {index}): return its gradient, or, if it takes none (a noise "
                f"sample, a mask), list it in constants=[{self._name_or_position(position)!r}]"
            )

    def _name_or_position(self, position):
        """What to write in ``constants=[...]`` for an input: its name where it has one, else its position."""
        return self.names[position] or position

    def _check_other_layouts(self, numerics):
        """Forward and backward again on inputs laid out otherwise in memory (``strided_copy``): code that assumes
        a contiguous array (``zeros_like`` keeps a transposed layout, and ``reshape`` of a view copies, so writes
        through it are lost) is wrong only there, and arrays cut with slices and ``.T`` are common inputs."""
        copies = [strided_copy(x) if backend_of(x) is not None else fresh(x) for x in self.inputs]
        if not any(backend_of(x) is not None and x.ndim > 0 and x.size > 1 for x in copies):
            return
        where = "on inputs that are not contiguous in memory (views such as x.T or x[:, ::2], given here)"
        result = call_user(WHO, "forward", self.forward, *copies)
        out = to_host(output_of(WHO, "forward", result, self.backend))
        if out.shape != self.out.shape or not agree(out, to_host(self.out), 1e-12, 1e-10):
            difference = (f"shape {out.shape} instead of {tuple(self.out.shape)}" if out.shape != self.out.shape
                          else f"largest difference {numpy.abs(out - to_host(self.out)).max():.3g}")
            raise GradcheckError(f"{WHO}: forward gives another output {where}: {difference}; something in it "
                                 "assumes a contiguous array (a reshape that copies, then writes into the copy?)")
        gradients = self._gradients(self._call_backward(result, copies, check_unchanged=False))
        for position, (numeric, noise) in numerics.items():
            gradient = gradients[position]
            report = None if gradient is None else mismatch(WHO, self.labels[position], gradient, numeric,
                                                            self.atol, self.rtol, noise)
            if gradient is None or report is not None:
                label = self.labels[position]
                lines = ([f"{WHO}: {where}, backward's gradient for {label} is wrong (on contiguous copies it is "
                          "right):"] + report[1][1:] if report else
                         [f"{WHO}: {where}, backward returned None for {label} (on contiguous copies, its gradient)"])
                raise GradcheckError("\n  ".join(
                    lines + ["something in backward assumes a contiguous array: zeros_like(x) keeps x's layout, and "
                             "reshape of such an array makes a copy, so writing into the reshaped array is lost"]))

    def _check_deterministic(self):
        """Finite differences compare forward at nearby points: forward must give the same output at the same point
        (draw dropout's mask from a fixed seed, or pass it in)."""
        again = output_of(WHO, "forward", call_user(WHO, "forward", self.forward, *_copies(self.inputs)), self.backend)
        first, second = to_host(self.out), to_host(again)
        if first.shape != second.shape:
            raise GradcheckError(f"{WHO}: forward gave an output of shape {first.shape}, then {second.shape} when "
                                 "called again with the same inputs; finite differences need the same function at "
                                 "every call")
        if not numpy.allclose(first, second, rtol=1e-10, atol=1e-12):
            raise GradcheckError(
                f"{WHO}: forward gave a different output when called again with the same inputs (largest difference "
                f"{numpy.abs(first - second).max():.3g}): it is random, so finite differences cannot check it; fix "
                "its randomness (a seeded generator, or a dropout mask passed in as an input)"
            )

    def _gradients(self, returned):
        """What backward returned, as one gradient (host float64 array) or ``None`` per input, after checking it."""
        inputs, labels = self.inputs, self.labels
        if returned is None:
            raise GradcheckError(f"{WHO}: backward returned None (a missing return statement?); expected one "
                                 "gradient per input")
        returned = list(returned) if isinstance(returned, (tuple, list)) else [returned]
        if len(returned) > len(inputs):
            raise GradcheckError(f"{WHO}: backward returned {counted(len(returned), 'gradient')} for "
                                 f"{counted(len(inputs), 'input')} ({', '.join(labels)}): return one per input, in "
                                 "the order of forward's parameters")
        missing = [label for x, label in zip(inputs[len(returned):], labels[len(returned):]) if is_floating_array(x)]
        floating = [position for position, x in enumerate(inputs) if is_floating_array(x)]
        if missing and len(returned) == len(floating) and all(
                getattr(gradient, "shape", None) == inputs[position].shape
                for gradient, position in zip(returned, floating)):
            spelled = ", ".join(f"d{self._name_or_position(position)}" if position in floating else "None"
                                for position in range(floating[-1] + 1))
            raise GradcheckError(
                f"{WHO}: backward returned {counted(len(returned), 'gradient')}, one per floating-point input, but "
                "gradients go one per input, in the order of forward's parameters, with None for an input that "
                f"takes none: return ({spelled})"
            )
        if missing:
            one = len(missing) == 1
            raise GradcheckError(
                f"{WHO}: backward returned {counted(len(returned), 'gradient')}, but forward has "
                f"{counted(len(inputs), 'input')}: the gradient{'' if one else 's'} for {' and '.join(missing)} "
                f"{'is' if one else 'are'} missing; return one per input, in the order of forward's parameters "
                "(None for an input it does not differentiate)"
            )
        gradients = [None] * len(inputs)
        for position, gradient in enumerate(returned):
            if gradient is not None:
                gradients[position] = self._checked_gradient(position, gradient)
        if all(gradient is None for gradient in gradients):
            raise GradcheckError(f"{WHO}: backward returned None for every input, so there is nothing to check")
        return gradients

    def _checked_gradient(self, position, gradient):
        """One returned gradient as a host float64 array: an array on the input's device, of its shape, finite."""
        x, label = self.inputs[position], self.labels[position]
        if not is_floating_array(x):
            if backend_of(x) is not None:
                raise GradcheckError(
                    f"{WHO}: backward returned {describe(gradient)} for {label}, which is an array of dtype {x.dtype} "
                    "and has no gradient: if it holds values to differentiate, pass it as float64 "
                    "(x.astype(numpy.float64)); if it holds labels or indices, return None for it")
            raise GradcheckError(f"{WHO}: backward returned {describe(gradient)} for {label}, which is "
                                 f"{describe(x)}, not a floating-point array: return None for it")
        if isinstance(gradient, (int, float, numpy.number)) and not isinstance(gradient, bool) and x.ndim == 0:
            gradient = self.backend.xp.asarray(gradient, dtype=numpy.float64)
        if backend_of(gradient) is None:
            raise GradcheckError(f"{WHO}: backward returned {describe(gradient)} for {label}; expected an array of "
                                 f"its shape {tuple(x.shape)}")
        if backend_of(gradient) is not self.backend:
            raise GradcheckError(f"{WHO}: backward returned {describe(gradient)} for {label}, which is "
                                 f"{describe(x)}: compute gradients with the inputs' array module")
        if gradient.dtype.kind not in "biuf":
            raise GradcheckError(f"{WHO}: backward returned an array of dtype {gradient.dtype} for {label}; the "
                                 "gradient of a real input is a real (float64) array")
        host = to_host(gradient).astype(numpy.float64)
        if host.shape != x.shape:
            raise GradcheckError(f"{WHO}: backward returned a gradient of shape {host.shape} for {label} of shape "
                                 f"{tuple(x.shape)}" + self._shape_cause(position, host))
        if not numpy.isfinite(host).all():
            index = first_non_finite(host)
            raise GradcheckError(f"{WHO}: backward returned {host[index]} at index {index} of the gradient for "
                                 f"{label}")
        return host

    def _shape_cause(self, position, gradient):
        """``: <likely cause>`` of a gradient of the wrong shape, or nothing."""
        same_shape = [label for x, label in zip(self.inputs, self.labels)
                      if is_floating_array(x) and x.shape == gradient.shape]
        cause = diagnosis.shape_cause(gradient, self.inputs[position].shape, self._numeric(position), self.atol,
                                      self.rtol, same_shape[0] if same_shape else None)
        return f": {cause}" if cause else ""

    def _failure_message(self, failures):
        """The report of the first failing input, with its likely cause and a note on kinks, then the others'
        names."""
        position, gradient, numeric, (worst, lines) = failures[0]
        x = to_host(self.inputs[position])
        cause = diagnosis.value_cause(gradient, numeric, x, self.atol, self.rtol, self._axis_sizes())
        if cause:
            lines.append(f"likely cause: {cause}")
        note = step_note(float(x[worst]), self.eps) or kink_note(
            *one_sided_slopes(self._objective(position), self.base[position], worst, self.eps), self.atol, self.rtol)
        if note:
            lines.append(note)
        if len(failures) > 1:
            lines.append("the gradients for " + " and ".join(self.labels[other] for other, *_ in failures[1:])
                         + " are off too")
        return "\n  ".join(lines)

    def _axis_sizes(self):
        """(``axis k of <input>``, size) for every axis of size 2 or more of the inputs and the output."""
        sizes = [(f"axis {axis} of {label}", size) for x, label in zip(self.inputs, self.labels)
                 if is_floating_array(x) for axis, size in enumerate(x.shape) if size > 1]
        return sizes + [(f"axis {axis} of the output", size) for axis, size in enumerate(self.out.shape) if size > 1]


def _constant_positions(constants, names, inputs, labels):
    """The positions ``constants`` names (forward's parameter names or positions), each a float array input."""
    if isinstance(constants, (str, int)):
        constants = [constants]
    positions = set()
    for constant in constants:
        if isinstance(constant, str) and constant in names:
            position = names.index(constant)
        elif isinstance(constant, int) and not isinstance(constant, bool) and 0 <= constant < len(inputs):
            position = constant
        else:
            known = ", ".join(repr(name) for name in names if name) or "none"
            raise GradcheckError(f"{WHO}: constants names {constant!r}, which is not one of forward's inputs (names: "
                                 f"{known}; or positions 0 to {len(inputs) - 1})")
        if not is_floating_array(inputs[position]):
            raise GradcheckError(f"{WHO}: constants names {labels[position]}, which is {describe(inputs[position])} "
                                 "and needs no gradient anyway: only float arrays are constants")
        positions.add(position)
    return positions


def _copies(inputs):
    return [fresh(x) for x in inputs]


def _random_upstream(out, backend, seed):
    """Entries of random sign and size 0.5 to 1.5: never all ones (a sum hides some wrong gradients, e.g. batch
    norm's), never near zero (a scalar output's only entry would weaken the check)."""
    generator = backend.default_rng(seed)
    size = 0.5 + generator.random(out.shape, numpy.float64)
    return backend.xp.where(generator.random(out.shape, numpy.float64) < 0.5, -size, size)


def _check_unchanged(who_ran, arrays, originals, labels):
    """Compare the arrays forward or backward got with their values before: a change in place is a bug (a layer
    must not change its input; ``dx = dout; dx[x < 0] = 0`` changes dout) and would spoil the finite differences."""
    for array, before, label in zip(arrays, originals, labels):
        if before is None:
            continue
        after = to_host(array)
        same = after == before
        if before.dtype.kind == "f":
            same |= numpy.isnan(after) & numpy.isnan(before)
        if not same.all():
            changed = numpy.flatnonzero(~same)
            first = tuple(int(i) for i in numpy.unravel_index(int(changed[0]), before.shape))
            hint = (" (dx = dout then dx[...] = ... writes into dout: start from a copy, dout.copy())"
                    if label == "dout" else " (through the cache)" if who_ran == "backward" else "")
            raise GradcheckError(
                f"{WHO}: {who_ran} modified {label} in place{hint}: {changed.size} of {before.size} entries changed, "
                f"the first at index {first} ({before[first]:.6g} -> {after[first]:.6g}); compute new arrays "
                "instead (x = x + 1, not x += 1), or copy first"
            )
