"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``randn`` ... (PyTorch's names and defaults).

Python floats become float32 (the default dtype), Python ints int64, bools bool; NumPy arrays keep
their dtype. ``device=None`` means the default device (``TINYGEN_DEVICE``).
"""
import numbers

from tinygen import backend as backends
from tinygen import random as tg_random
from tinygen.backend.dtypes import bool_, check_number_fits, default_float_dtype, int64, is_floating, to_dtype
from tinygen.tensor import Tensor


def _checked_requires_grad(array, requires_grad, name):
    if requires_grad and not is_floating(array.dtype):
        raise TypeError(
            f"{name}: only floating-point tensors can require grad, got dtype {array.dtype}; "
            "pass dtype=tinygen.float32 (or float64)"
        )
    return bool(requires_grad)


def _leaf(array, backend, requires_grad, name):
    return Tensor._make(array, backend, _checked_requires_grad(array, requires_grad, name))


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, a NumPy array or a Tensor)."""
    dtype = to_dtype(dtype)
    if isinstance(data, Tensor):
        if device is None:
            device = data.device
        source = data.array if data.device == backends.normalize_device(device) else data.backend.to_numpy(data.array)
    else:
        source = data
    backend = backends.get_backend(device)
    try:
        array = backend.asarray(source, dtype=dtype, copy=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} ({error})") from None
    if dtype is None and not hasattr(data, "dtype") and array.dtype.kind == "u":  # Python ints beyond int64
        raise OverflowError("tensor(): an int in the data does not fit int64; pass dtype=tinygen.float64 for it")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"tensor(): unsupported dtype {array.dtype} (tinygen has float, int and bool tensors; "
                        "NumPy makes object arrays of mixed data and of ints beyond int64)")
    if dtype is None and not hasattr(data, "dtype") and array.dtype.kind == "f":
        array = array.astype(default_float_dtype)  # Python floats -> float32, as in PyTorch
    return _leaf(array, backend, requires_grad, "tensor()")


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but without a copy when ``data`` already is a tensor or array of the right kind."""
    if isinstance(data, Tensor) and (device is None or backends.normalize_device(device) == data.device):
        return data if dtype is None or to_dtype(dtype) == data.dtype else data.to(dtype=dtype)
    if dtype is None and backends.get_backend(device).is_array(data):
        return Tensor._make(data, backends.get_backend(device))
    return tensor(data, dtype=dtype, device=device)


def _shape(size, name):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for extent in size:
        if not isinstance(extent, int) or isinstance(extent, bool) or extent < 0:
            raise ValueError(f"{name}: sizes must be non-negative integers, got {size}")
    return tuple(size)


def _count(value, name, argument):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}: {argument} must be a non-negative integer, got {value!r}")
    return int(value)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value`` (float32 for a float fill, int64 for an int)."""
    size = _shape(size if isinstance(size, (tuple, list)) else (size,), "full()")
    if not isinstance(fill_value, numbers.Real):
        raise TypeError(f"full(): fill_value must be a number or a bool, got {type(fill_value).__name__}")
    dtype = to_dtype(dtype)
    if dtype is None and isinstance(fill_value, (float, int)):  # Python numbers: PyTorch's dtypes, not NumPy's
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, int) else default_float_dtype
    if dtype is not None:
        check_number_fits("full()", "fill_value", fill_value, dtype)
    backend = backends.get_backend(device)
    array = backend.xp.full(size, fill_value, dtype=dtype)
    return _leaf(array, backend, requires_grad, "full()")


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return full(_shape(size, "zeros()"), 0, dtype=dtype or default_float_dtype, device=device, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return full(_shape(size, "ones()"), 1, dtype=dtype or default_float_dtype, device=device, requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """Same as ``zeros`` (tinygen never hands out uninitialized memory)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _like(other, dtype, device, name):
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}: expected a Tensor (whose shape, dtype and device to take), got {type(other).__name__}"
        )
    return (other.dtype if dtype is None else dtype), (other.device if device is None else device)


def zeros_like(other, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(other, dtype, device, "zeros_like()")
    return zeros(other.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(other, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(other, dtype, device, "ones_like()")
    return ones(other.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(other, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(other, dtype, device, "full_like()")
    return full(other.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """``[start, end)`` in steps of ``step``; int64 for integer arguments, float32 if any is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange(): step must be non-zero")
    dtype = to_dtype(dtype)
    if dtype is None and all(isinstance(v, (float, int)) for v in (start, end, step)):
        dtype = default_float_dtype if any(isinstance(v, float) for v in (start, end, step)) else int64
    if dtype is not None:
        for name, value in (("start", start), ("end", end), ("step", step)):
            check_number_fits("arange()", name, value, dtype)
    backend = backends.get_backend(device)
    array = backend.xp.arange(start, end, step, dtype=dtype)
    return _leaf(array, backend, requires_grad, "arange()")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    steps = _count(steps, "linspace()", "steps")
    backend = backends.get_backend(device)
    array = backend.xp.linspace(start, end, steps, dtype=to_dtype(dtype) or default_float_dtype)
    return _leaf(array, backend, requires_grad, "linspace()")


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    n, m = _count(n, "eye()", "n"), None if m is None else _count(m, "eye()", "m")
    backend = backends.get_backend(device)
    array = backend.xp.eye(n, m, dtype=to_dtype(dtype) or default_float_dtype)
    return _leaf(array, backend, requires_grad, "eye()")


def _random(draw, size, generator, dtype, device, requires_grad, name):
    dtype = to_dtype(dtype) or default_float_dtype
    if not is_floating(dtype):
        raise TypeError(f"{name}: random floats need a floating dtype, got {dtype}")
    device = backends.normalize_device(device if device is not None or generator is None else generator.device)
    source = tg_random.resolve(generator, device)
    array = getattr(source, draw)(_shape(size, name), dtype)
    return _leaf(array, backends.get_backend(device), requires_grad, name)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal draws N(0, 1)."""
    return _random("standard_normal", size, generator, dtype, device, requires_grad, "randn()")


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform draws in [0, 1)."""
    return _random("random", size, generator, dtype, device, requires_grad, "rand()")


def randn_like(other, generator=None, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(other, dtype, device, "randn_like()")
    return randn(other.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(other, generator=None, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(other, dtype, device, "rand_like()")
    return rand(other.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None):
    """Integers uniform in ``[low, high)`` (int64), drawn on the host so every device gets the same values.
    ``randint(high, size)`` is PyTorch's short form, low 0."""
    if isinstance(high, (tuple, list)) and size == ():
        high, size = None, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint(): need low < high, got low={low}, high={high}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): size must be a tuple of ints, e.g. (3,), got {type(size).__name__}")
    device = backends.normalize_device(device)
    values = tg_random.resolve(generator, device).integers(low, high, _shape(tuple(size), "randint()"))
    return tensor(values, dtype=dtype, device=device)


def randperm(n, generator=None, device=None):
    """A random permutation of ``0 .. n-1`` (int64)."""
    n = _count(n, "randperm()", "n")
    device = backends.normalize_device(device)
    return tensor(tg_random.resolve(generator, device).permutation(n), device=device)
