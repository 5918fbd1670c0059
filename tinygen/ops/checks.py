"""Input checks shared by the ops: each failure is an error that names the op and what it got vs expected.
Tests: tests/test_error_messages.py (and the error tests of each op).
"""
import numbers

from tinygen.autograd.function import DeviceMismatchError
from tinygen.backend.dtypes import (check_number_fits, default_float_dtype, int64, is_floating, result_type,
                                    to_dtype, value_range)
from tinygen.tensor import Tensor


def device_error(name, a, b):
    return DeviceMismatchError(
        f"{name}: expected all tensors on one device, got {a.device!r} and {b.device!r}; "
        f"move one with .to({a.device!r}) or .to({b.device!r})"
    )


def broadcast_shapes(name, *shapes):
    """The shape NumPy broadcasting gives, or a ValueError naming the op and the shapes."""
    ndim = max(len(shape) for shape in shapes)
    result = []
    for axis in range(-ndim, 0):
        extent = 1
        for shape in shapes:
            size = shape[axis] if -axis <= len(shape) else 1
            if size != 1:
                if extent not in (1, size):
                    described = " and ".join(str(tuple(s)) for s in shapes)
                    raise ValueError(f"{name}: shapes {described} cannot be broadcast together (dimension {axis})")
                extent = size
        result.append(extent)
    return tuple(result)


def broadcastable_to(name, shape, target):
    """Check that ``shape`` broadcasts to exactly ``target`` (as an in-place write or ``expand`` needs)."""
    fits = len(shape) <= len(target) and all(
        extent in (1, goal) for extent, goal in zip(reversed(tuple(shape)), reversed(tuple(target)))
    )
    if not fits:
        raise ValueError(f"{name}: a tensor of shape {tuple(shape)} cannot be broadcast to shape {tuple(target)}")


def _category(dtype):
    return {"b": 0, "u": 1, "i": 1, "f": 2}[dtype.kind]


def promote_dtypes(a, b):
    """The common dtype of two same-rank tensors' dtypes: across kinds the higher kind's dtype wins
    (int64 + float32 -> float32, as in PyTorch, where NumPy would give float64)."""
    if a == b:
        return a
    a_category, b_category = _category(a), _category(b)
    if a_category != b_category:
        return a if a_category > b_category else b
    return result_type(a, b)


def promote(a, b):
    """The common dtype of two tensors, as PyTorch picks it: ``promote_dtypes``, except that a 0-d tensor
    does not upcast a dimensioned one of the same or a lower kind (float32 vector + float64 0-d -> float32;
    int64 vector + float64 0-d -> float64)."""
    if (a.ndim == 0) != (b.ndim == 0) and a.dtype != b.dtype:
        dimensioned, scalar = (b, a) if a.ndim == 0 else (a, b)
        if _category(scalar.dtype) <= _category(dimensioned.dtype):
            return dimensioned.dtype
    return promote_dtypes(a.dtype, b.dtype)


def scalar_dtype(value, like):
    """The dtype a Python number takes next to tensor ``like``: it never upcasts the tensor."""
    if isinstance(value, bool):
        return like.dtype
    if isinstance(value, numbers.Integral):
        return like.dtype if like.dtype.kind != "b" else int64
    if isinstance(value, numbers.Real):
        return like.dtype if is_floating(like.dtype) else default_float_dtype
    raise TypeError(f"expected a tensor or a real number, got {type(value).__name__}")


def typed_scalar(value, like):
    """The Python number ``value`` as a NumPy scalar of array ``like``'s dtype, for an op's raw-array arithmetic.

    ``xp.maximum(x, 0)`` on a 0-d float32 ``x`` gives float64 on NumPy 1.x (its value-based casting treats 0-d
    arrays and Python numbers alike as scalars) and float32 on NumPy 2 (NEP 50). A scalar of ``x``'s own dtype
    gives ``x``'s dtype on both, and on CuPy it is passed to the kernel as an argument, with no transfer.
    ``None`` (a missing bound) stays ``None``.
    """
    return None if value is None else like.dtype.type(value)


def python_number(value):
    """A NumPy scalar as the Python int or float it holds: ``array * np.float64(0.2)`` would make a float32
    array float64 (NumPy 2's promotion), ``array * 0.2`` keeps it float32."""
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def real_number(name, argument, value):
    """An op's numeric parameter (a slope, a bound ...): a real number, returned as a Python int or float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {argument} must be a real number, got {type(value).__name__}")
    return python_number(value)


def as_operand_pair(name, a, b):
    """Two tensors of one device and one dtype from a pair of tensors and/or Python numbers."""
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is_tensor and b_is_tensor:
        if a._backend is not b._backend:
            raise device_error(name, a, b)
        a_dtype, b_dtype = a.array.dtype, b.array.dtype
        if a_dtype is not b_dtype and a_dtype != b_dtype:  # `is`: the quick common case
            dtype = promote(a, b)
            a, b = a.to(dtype=dtype), b.to(dtype=dtype)
        return a, b
    if not (a_is_tensor or b_is_tensor):
        raise TypeError(f"{name}: expected at least one tensor, got {type(a).__name__} and {type(b).__name__}")
    tensor_operand, number = (a, b) if a_is_tensor else (b, a)
    dtype = tensor_operand.dtype
    if type(number) is not float or dtype.kind != "f":  # a Python float next to a float tensor: nothing to check
        tensor_operand, dtype = number_operand(name, tensor_operand, number)
    constant = Tensor._make(tensor_operand._backend.xp.asarray(number, dtype=dtype), tensor_operand._backend)
    return (tensor_operand, constant) if a_is_tensor else (constant, tensor_operand)


def number_operand(name, tensor_operand, number):
    """What ``as_operand_pair`` checks of a tensor and a number (a NumPy scalar, a bool, an int, a float): the
    number must not be an array; it takes ``scalar_dtype``; an integer must fit an integer tensor. Returns the
    tensor (converted if the number makes it float: int tensor * 0.5) and the dtype both then have. Its result
    for a Python float next to a float tensor is that tensor and its dtype, which ``as_operand_pair`` takes
    without the call (the common case, ``x * 0.5``)."""
    is_array = hasattr(number, "__array__") or hasattr(number, "__cuda_array_interface__")
    if is_array and not isinstance(number, numbers.Number):  # NumPy scalars are numbers; arrays are not
        device = tensor_operand.device
        memory = "GPU" if hasattr(number, "__cuda_array_interface__") else "host"
        raise TypeError(
            f"{name}: got a {type(number).__module__.split('.')[0]}.{type(number).__name__} ({memory} memory) next "
            f"to a tensor on {device!r}; tinygen never converts arrays implicitly: make it a tensor on that device "
            f"first, tinygen.tensor(array, device={device!r})"
        )
    try:
        dtype = scalar_dtype(number, tensor_operand)
    except TypeError as error:
        raise TypeError(f"{name}: {error}") from None
    if tensor_operand.dtype != dtype:
        tensor_operand = tensor_operand.to(dtype=dtype)
    if dtype.kind in "iu":
        check_integer_fits(name, number, tensor_operand)
    else:
        check_number_fits(name, "the number", number, dtype)
    return tensor_operand, dtype


def check_integer_fits(name, number, like):
    """An integer next to an integer tensor must fit the tensor's dtype: NumPy 2 refuses ``uint8 + 300``, NumPy 1
    wraps it to ``uint8 + 44`` (and ``x == 300`` would then be true where x is 44), so tinygen refuses it on both."""
    low, high = value_range(like.dtype)
    if not low <= number <= high:
        raise OverflowError(
            f"{name}: the number {number} does not fit the tensor's dtype {like.dtype} ({low} to {high}); "
            f"convert the tensor first, e.g. x.to(tinygen.int64)"
        )


def as_tensor_operand(name, value, like):
    """``value`` as a tensor on ``like``'s device (a Python number takes ``like``'s dtype)."""
    if isinstance(value, Tensor):
        if value._backend is not like._backend:
            raise device_error(name, like, value)
        return value
    return as_operand_pair(name, like, value)[1]


def require_tensor(name, value, argument="input"):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected {argument} to be a Tensor, got {type(value).__name__}")
    return value


def float_input(name, x):
    """Floating-point ops (exp, log, ...) take int tensors too, computed in the default float dtype."""
    require_tensor(name, x)
    return x if is_floating(x.dtype) else x.to(dtype=default_float_dtype)


def cast_to(name, x, dtype):
    """``x`` in ``dtype`` before a reduction (PyTorch's ``dtype=`` of sum, prod, mean, cumsum, softmax: the input is
    cast first, e.g. to sum float32 values in float64); ``None`` keeps it."""
    require_tensor(name, x)
    if dtype is None:
        return x
    try:
        dtype = to_dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: unknown dtype {dtype!r}: expected e.g. tinygen.float64") from None
    return x if x.dtype == dtype else x.to(dtype=dtype)


def normalize_dim(name, dim, ndim):
    """A dimension index in ``[-ndim, ndim)`` -> ``[0, ndim)``; a 0-d tensor accepts dims -1 and 0."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    extent = max(ndim, 1)
    if not -extent <= dim < extent:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % extent if ndim else 0


def normalize_dims(name, dim, ndim):
    """``None`` -> all dims; an int or a sequence -> a sorted tuple of non-negative dims (no repeats)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"{name}: dim must be an int, a tuple of ints or None, got {type(dim).__name__}")
    normalized = tuple(sorted(normalize_dim(name, d, ndim) for d in dims))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name}: dim {dim} repeats a dimension")
    return normalized if ndim else ()
