"""Data types. tinygen uses NumPy's dtype objects, which CuPy shares, so a dtype means the same on every device."""
import functools
import numbers

import numpy

float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
uint8 = numpy.dtype("uint8")
bool_ = numpy.dtype("bool")

default_float_dtype = float32

_NAMES = {
    "float16": float16, "half": float16,
    "float32": float32, "float": float32,
    "float64": float64, "double": float64,
    "int32": int32, "int64": int64, "long": int64,
    "uint8": uint8, "bool": bool_,
}


def to_dtype(dtype):
    """Accept a dtype, its name (``"float32"``), a NumPy or Python type or ``None`` (returned as is).

    As in PyTorch, the Python type ``float`` means float64.
    """
    if dtype is None or isinstance(dtype, numpy.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _NAMES:
        return _NAMES[dtype]
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: expected e.g. tinygen.float32 or 'float64'") from None


def is_floating(dtype):
    return dtype.kind == "f"


@functools.lru_cache(maxsize=None)
def value_range(dtype):
    """(lowest, highest) value of an integer or floating dtype, as Python numbers; ``None`` for bool."""
    if dtype.kind in "iu":
        info = numpy.iinfo(dtype)
        return int(info.min), int(info.max)
    if dtype.kind == "f":
        highest = float(numpy.finfo(dtype).max)
        return -highest, highest
    return None


def result_type(*dtypes):
    """Promotion between tensors, as NumPy and PyTorch do it (float32 with float64 -> float64)."""
    return numpy.result_type(*dtypes)


def check_number_fits(name, argument, number, dtype):
    """A Python int must be a value of ``dtype``: NumPy would wrap it into an integer dtype, give it uint64 or
    object dtype, or fail to make it a float with a message that names no op."""
    if isinstance(number, bool) or not isinstance(number, numbers.Integral):
        return
    limits = value_range(dtype)
    if limits is not None and not limits[0] <= number <= limits[1]:
        sign = "-" if number < 0 else ""
        shown = str(number) if abs(number) < 10**24 else f"{sign}(an int of {number.bit_length()} bits)"
        low, high = limits if dtype.kind in "iu" else (f"{limits[0]:.6g}", f"{limits[1]:.6g}")
        raise OverflowError(f"{name}: {argument} {shown} does not fit dtype {dtype} ({low} to {high})")
