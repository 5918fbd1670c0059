"""Small PyTorch functions that are other spellings of tinygen's own: ``from_numpy``, ``is_tensor``,
``get_default_dtype``, ``numel``, ``is_floating_point``, ``empty_like``, ``Size``."""
from tinygen import backend as backends
from tinygen.backend.dtypes import default_float_dtype
from tinygen.tensor import Tensor

__all__ = ["Size", "empty_like", "from_numpy", "get_default_dtype", "is_floating_point", "is_tensor", "numel"]


def from_numpy(array):
    """A CPU tensor sharing memory with NumPy ``array`` (as PyTorch: writes to one show in the other)."""
    host = backends.get_backend("cpu")
    if not host.is_array(array):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype} (tinygen has float, int and bool tensors)")
    return Tensor._make(array, host)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def get_default_dtype():
    """The dtype Python floats and new float tensors get: float32 (tinygen has no ``set_default_dtype``)."""
    return default_float_dtype


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """``zeros_like``: tinygen never hands out uninitialized memory (PyTorch's values would be garbage)."""
    from tinygen.creation import zeros_like

    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


class Size(tuple):
    """``Size([4, 3])``: a tuple of ints, as tinygen's shapes are (``x.shape == Size([4, 3])`` is a tuple
    comparison), with PyTorch's ``numel``."""

    def numel(self):
        count = 1
        for extent in self:
            count *= extent
        return count

    def __repr__(self):
        return f"tinygen.Size({list(self)})"
