"""A CPU stand-in for CuPy that enforces CuPy's rules, so CI (which has no GPU) catches CuPy-only breakage.

Its arrays wrap NumPy arrays but behave like device arrays:

* implicit conversion to NumPy raises (``numpy.asarray(a)``, ``numpy.exp(a)``, ``ndarray + a``), as CuPy's does;
* functions of its array module refuse NumPy arrays and, for ufuncs, Python lists, as CuPy's do;
* reductions and scalar indexing return 0-d arrays, not NumPy scalars;
* its random generator has only the methods CuPy's ``Generator`` has;
* ``add.at`` refuses int64 values and ``as_strided`` takes no ``writeable``/``subok``, as in CuPy.

Run the suite on it with ``TINYGEN_DEVICE=strict``. It is a test device, not a fast one.
"""
import numbers

import numpy

from tinygen.backend.base import Backend
from tinygen.backend.device import device as Device

_HOST_TRANSFER_FUNCTIONS = frozenset({"asarray", "array"})


def _refuse_host_array(where):
    raise TypeError(
        f"strict backend: a numpy.ndarray was passed to {where}; CuPy refuses host arrays here "
        "(move data with backend.asarray first)"
    )


def _unwrap(value, where, allow_host=False, allow_list=True):
    """StrictArray -> its NumPy array; refuse NumPy arrays (CuPy refuses host arrays)."""
    if type(value) is StrictArray:
        return value._array
    if isinstance(value, numpy.ndarray):
        if allow_host:
            return value
        _refuse_host_array(where)
    if isinstance(value, (list, tuple)):
        if not allow_list and isinstance(value, list):
            raise TypeError(f"strict backend: {where} got a Python list; CuPy ufuncs take arrays or scalars")
        return type(value)(_unwrap(item, where, allow_host, allow_list) for item in value)
    return value


def _wrap(value):
    """NumPy results -> StrictArray; NumPy scalars become 0-d arrays as CuPy returns them."""
    if isinstance(value, numpy.ndarray):
        return StrictArray(value)
    if isinstance(value, numpy.generic):
        return StrictArray(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(item) for item in value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


def _operand(value, op_name):
    if type(value) is StrictArray:
        return value._array
    if isinstance(value, (numbers.Number, numpy.generic)):
        return value
    if isinstance(value, numpy.ndarray):
        raise TypeError(f"strict backend: cannot apply {op_name} to a strict array and a numpy.ndarray (as in CuPy)")
    return NotImplemented


def _binary(name):
    numpy_op = getattr(numpy.ndarray, name)

    def method(self, other):
        other_array = _operand(other, name)
        if other_array is NotImplemented:
            return NotImplemented
        result = numpy_op(self._array, other_array)
        if result is NotImplemented:
            return NotImplemented
        return _wrap(result)

    method.__name__ = name
    return method


def _inplace(name):
    numpy_op = getattr(numpy.ndarray, name)

    def method(self, other):
        other_array = _operand(other, name)
        if other_array is NotImplemented:
            return NotImplemented
        numpy_op(self._array, other_array)
        return self

    method.__name__ = name
    return method


def _forward_method(name):
    def method(self, *args, **kwargs):
        args = _unwrap(args, f"ndarray.{name}")
        kwargs = {key: _unwrap(value, f"ndarray.{name}") for key, value in kwargs.items()}
        return _wrap(getattr(self._array, name)(*args, **kwargs))

    method.__name__ = name
    return method


class StrictArray:
    """A NumPy array that refuses to be treated as one, like a CuPy array."""

    __slots__ = ("_array", "__weakref__")
    _tinygen_device_array = True
    __array_ufunc__ = None  # numpy ufuncs on it raise; ndarray <op> StrictArray defers to our reflected op
    __hash__ = None

    def __init__(self, array):
        self._array = array if isinstance(array, numpy.ndarray) else numpy.asarray(array)

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "strict backend: implicit conversion to a NumPy array is not allowed (CuPy refuses it too); "
            "use backend.to_numpy(array) or tensor.numpy()"
        )

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(
            f"strict backend: numpy.{func.__name__} was called on a device array; "
            "op code must use the backend's array module (backend.xp), never numpy"
        )

    # --- properties -------------------------------------------------------------------------
    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    strides = property(lambda self: self._array.strides)
    itemsize = property(lambda self: self._array.itemsize)
    nbytes = property(lambda self: self._array.nbytes)
    flags = property(lambda self: self._array.flags)
    T = property(lambda self: StrictArray(self._array.T))
    base = property(lambda self: None if self._array.base is None else StrictArray(self._array.base))

    # --- conversions that CuPy allows (they copy to the host and synchronize) -----------------
    def get(self):
        """A NumPy copy on the host, as ``cupy.ndarray.get``."""
        return self._array.copy()

    def item(self):
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __bool__(self):
        return bool(self._array)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (_wrap(row) for row in self._array)

    def __repr__(self):
        return "strict_" + repr(self._array)

    # --- indexing -----------------------------------------------------------------------------
    def __getitem__(self, index):
        return _wrap(self._array[_unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        value = _operand(value, "item assignment")
        if value is NotImplemented:
            raise TypeError("strict backend: item assignment takes a strict array or a scalar")
        self._array[_unwrap(index, "indexing")] = value

    def __neg__(self):
        return _wrap(-self._array)

    def __pos__(self):
        return _wrap(+self._array)

    def __abs__(self):
        return _wrap(abs(self._array))

    def __invert__(self):
        return _wrap(~self._array)


for _name in (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift "
    "radd rsub rmul rtruediv rfloordiv rmod rpow rmatmul rand ror rxor "
    "eq ne lt le gt ge"
).split():
    setattr(StrictArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor".split():
    setattr(StrictArray, f"__{_name}__", _inplace(f"__{_name}__"))
for _name in (
    "reshape transpose astype sum mean max min var std prod argmax argmin copy ravel flatten squeeze "
    "swapaxes fill clip any all dot cumsum nonzero repeat take view"
).split():
    setattr(StrictArray, _name, _forward_method(_name))


class _StrictUfunc:
    """A NumPy ufunc that takes strict arrays, with CuPy's limits (no lists, no int64 ``add.at``)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        where = f"xp.{self.__name__}"
        args = _unwrap(args, where, allow_list=False)
        kwargs = {key: _unwrap(value, where) for key, value in kwargs.items()}
        return _wrap(self._ufunc(*args, **kwargs))

    def at(self, target, index, values=None):
        where = f"xp.{self.__name__}.at"
        if self._ufunc is numpy.add and getattr(values, "dtype", None) == numpy.int64:
            raise TypeError("strict backend: CuPy's add.at has no int64 kernel")
        arguments = (target, index) if values is None else (target, index, values)
        self._ufunc.at(*_unwrap(arguments, where))

    def reduce(self, array, *args, **kwargs):
        return _wrap(self._ufunc.reduce(_unwrap(array, f"xp.{self.__name__}.reduce"), *args, **kwargs))


def _strict_function(name, function):
    allow_host = name in _HOST_TRANSFER_FUNCTIONS

    def call(*args, **kwargs):
        where = f"xp.{name}"
        args = _unwrap(args, where, allow_host)
        kwargs = {key: _unwrap(value, where, allow_host) for key, value in kwargs.items()}
        return _wrap(function(*args, **kwargs))

    call.__name__ = name
    return call


class _StrictGenerator:
    """CuPy's ``Generator`` offers these methods only (no ``normal``, ``permutation``, ``choice``, ``shuffle``).
    Its bit generator is Philox, not NumPy's PCG64: CuPy's (XORWOW) is not NumPy's either, so the host integers a
    ``tinygen.Generator`` draws with NumPy from the same seed are another stream, not these numbers again."""

    def __init__(self, seed):
        self._generator = numpy.random.Generator(numpy.random.Philox(seed))

    def random(self, size=None, dtype=numpy.float64):
        return _wrap(self._generator.random(size, dtype=dtype))

    def standard_normal(self, size=None, dtype=numpy.float64):
        return _wrap(self._generator.standard_normal(size, dtype=dtype))

    def integers(self, low, high=None, size=None, dtype=numpy.int64):
        return _wrap(self._generator.integers(low, high, size=size, dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=numpy.float64):
        return _wrap(self._generator.uniform(low, high, size).astype(dtype))


class _StrictRandom:
    default_rng = staticmethod(_StrictGenerator)


class _StrictStrideTricks:
    @staticmethod
    def as_strided(array, shape=None, strides=None):
        """CuPy's ``as_strided`` takes no ``writeable`` or ``subok`` argument."""
        return _wrap(numpy.lib.stride_tricks.as_strided(_unwrap(array, "as_strided"), shape, strides))

    @staticmethod
    def sliding_window_view(array, window_shape, axis=None):
        view = numpy.lib.stride_tricks.sliding_window_view(_unwrap(array, "sliding_window_view"), window_shape, axis)
        return _wrap(view)


class _StrictLib:
    stride_tricks = _StrictStrideTricks()


class _StrictLinalg:
    @staticmethod
    def qr(array, mode="reduced"):
        """``linalg.qr``, which CuPy has too: (Q, R) as device arrays."""
        return tuple(_wrap(part) for part in numpy.linalg.qr(_unwrap(array, "linalg.qr"), mode))


class _StrictNamespace:
    """The strict array module: NumPy's names, with every function and ufunc wrapped."""

    __name__ = "tinygen.backend.strict.xp"
    ndarray = StrictArray
    random = _StrictRandom()
    lib = _StrictLib()
    linalg = _StrictLinalg()

    def __getattr__(self, name):
        value = getattr(numpy, name)
        if isinstance(value, numpy.ufunc):
            wrapped = _StrictUfunc(value)
        elif callable(value) and not isinstance(value, type):
            wrapped = _strict_function(name, value)
        else:  # dtypes (float32 ...), dtype classes, constants (pi, inf, newaxis)
            wrapped = value
        setattr(self, name, wrapped)  # cache: the next lookup skips __getattr__
        return wrapped


class StrictBackend(Backend):
    device = Device("strict")
    xp = _StrictNamespace()

    def asarray(self, data, dtype=None, copy=False):
        if type(data) is StrictArray:
            if copy or (dtype is not None and data.dtype != dtype):
                return StrictArray(numpy.array(data._array, dtype=dtype))
            return data
        return StrictArray(numpy.array(data, dtype=dtype))  # a host-to-device transfer always copies

    def to_numpy(self, array):
        return array.get()
