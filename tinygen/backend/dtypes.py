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


class finfo:
    """The limits of a floating dtype, with PyTorch's attribute names (default: float32, the default dtype).

    bits, eps (the gap from 1 to the next float), max, min (= -max), tiny = smallest_normal (the smallest positive
    normal number), resolution (10 ** -precision decimal digits), dtype (its name), as Python numbers.
    """

    def __init__(self, type=None):
        dtype = default_float_dtype if type is None else to_dtype(type)
        if not is_floating(dtype):
            raise TypeError(f"finfo: expects a floating dtype (float16, float32, float64), got {dtype}; "
                            "use tinygen.iinfo for integer dtypes")
        info = numpy.finfo(dtype)
        self.bits, self.dtype = int(info.bits), dtype.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # as PyTorch's (NumPy's is rounded to the dtype)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, with PyTorch's attribute names: bits, max, min (Python ints), dtype."""

    def __init__(self, type):
        dtype = to_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: expects an integer dtype (uint8, int32, int64), got {dtype}; "
                            "use tinygen.finfo for floating dtypes")
        info = numpy.iinfo(dtype)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(info.min), dtype.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
