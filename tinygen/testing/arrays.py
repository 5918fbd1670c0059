"""Plain arrays of any backend, as the checks of array code meet them: which backend an array belongs to (NumPy,
CuPy or the strict stand-in), what to call it in a message, and a host copy of its values.

The checks get their array module from the user's arrays, never by importing NumPy for the math, so one check
runs on the GPU as it does on the CPU. NumPy is used only for bookkeeping on host copies (indices, snapshots).
"""
import numpy

from tinygen import backend as backends
from tinygen.testing.errors import GradcheckError

#: the device of each array type, by the module that defines the type
_DEVICE_OF_MODULE = {"numpy": "cpu", "cupy": "cuda", "tinygen.backend.strict": "strict"}


def device_of(value):
    """``"cpu"`` for a NumPy array, ``"cuda"`` for a CuPy array, ``"strict"`` for the stand-in's; else ``None``."""
    kind = type(value)
    if isinstance(value, numpy.ndarray):  # and its subclasses (memmap, matrix); NumPy scalars are not arrays
        return "cpu"
    if isinstance(value, numpy.generic):
        return None
    module = kind.__module__ or ""
    device = _DEVICE_OF_MODULE.get(module.split(".")[0] if module.startswith("cupy") else module)
    return device if device is not None and hasattr(value, "shape") and hasattr(value, "dtype") else None


def backend_of(value):
    """The tinygen backend whose arrays ``value`` is one of, or ``None`` for anything that is not such an array."""
    device = device_of(value)
    return None if device is None else backends.get_backend(device)


def is_floating_array(value):
    return device_of(value) is not None and value.dtype.kind == "f"


def to_host(array):
    """The values of an array of any backend as a NumPy array (a copy off the host; the array itself on it)."""
    return numpy.asarray(array) if isinstance(array, numpy.ndarray) else array.get()


def describe(value):
    """What ``value`` is, for a message: ``a numpy.ndarray``, ``a cupy.ndarray``, ``a strict array`` (tinygen's
    CuPy stand-in), ``a list``, ``None``."""
    if value is None:
        return "None"
    device = device_of(value)
    if device == "strict":
        return "a strict array (tinygen's CuPy stand-in)"
    kind = type(value)
    if kind.__module__ in ("builtins", None):
        return f"a {kind.__name__}"
    return f"a {kind.__module__.split('.')[0]}.{kind.__name__}"


def strided_copy(x):
    """A copy of array ``x`` that is neither C- nor F-contiguous: its axes lie in memory in reverse order (as
    ``x.T``'s do), each its own every other element of a buffer twice as long (as ``x[:, ::2]``'s). A 0-d array is
    copied as it is."""
    if x.ndim == 0:
        return x.copy()
    reversed_shape = x.shape[::-1]
    buffer = backend_of(x).xp.empty(reversed_shape[:-1] + (2 * reversed_shape[-1],), dtype=x.dtype)
    view = buffer[..., ::2].transpose()
    view[...] = x
    return view


def check_array_inputs(who, inputs, labels):
    """The backend of the arrays among ``inputs``, once they are a point finite differences can be taken at: no
    Tensors (those are for ``gradcheck``), one backend for all arrays, float64 floating-point arrays with finite
    values, and at least one of them. Anything else (integer labels, a dict of settings) is passed along as is."""
    from tinygen.tensor import Tensor

    backend, first, first_label = None, None, None
    for x, label in zip(inputs, labels):
        if isinstance(x, Tensor):
            raise GradcheckError(
                f"{who}: {label} is a tinygen Tensor; {who} checks code written with plain arrays: pass x.numpy() "
                "(or check code made of tinygen ops with gradcheck)"
            )
        if isinstance(x, numpy.matrix):
            raise GradcheckError(f"{who}: {label} is a numpy.matrix, whose * is a matrix product and whose entries "
                                 "are indexed in pairs; pass numpy.asarray(x)")
        if device_of(x) is None:
            continue
        if backend is None:
            backend, first, first_label = backend_of(x), x, label
        elif backend_of(x) is not backend:
            raise GradcheckError(
                f"{who}: the inputs mix array libraries: {first_label} is {describe(first)}, {label} is "
                f"{describe(x)}; put all of them on one device (cupy.asarray(x), or x.get() for the host)"
            )
        if x.dtype.kind == "f":
            _check_precision_and_values(who, x, label)
    floating = [x for x in inputs if is_floating_array(x)]
    if not floating:
        got = ", ".join(f"{label}: {describe(x)}" for x, label in zip(inputs, labels)) or "no inputs"
        raise GradcheckError(f"{who}: no input is a floating-point array ({got}), so there is nothing to check; "
                             "pass float64 NumPy (or CuPy) arrays")
    return backend


def _check_precision_and_values(who, x, label):
    if x.dtype != numpy.float64:
        raise GradcheckError(
            f"{who}: {label} has dtype {x.dtype}; finite differences are meaningless below float64 (float32 rounding "
            f"~1e-7 / eps 1e-6 = errors of order 0.1): convert it with .astype(numpy.float64)"
        )
    host = to_host(x)
    if not numpy.isfinite(host).all():
        index = first_non_finite(host)
        raise GradcheckError(f"{who}: {label} holds {host[index]} at index {index}: finite differences need "
                             "finite inputs")


def first_non_finite(host):
    """The index (a tuple of ints) of the first NaN or Inf in a NumPy array."""
    flat = int(numpy.flatnonzero(~numpy.isfinite(host))[0])
    return tuple(int(i) for i in numpy.unravel_index(flat, host.shape))
