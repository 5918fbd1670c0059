"""The CPU backend: NumPy arrays."""
import numpy

from tinygen.backend.base import Backend


class NumpyBackend(Backend):
    device = "cpu"
    xp = numpy

    def asarray(self, data, dtype=None, copy=False):
        if hasattr(data, "__cuda_array_interface__") or _is_foreign_wrapper(data):
            raise TypeError(
                f"cannot make a 'cpu' array from a {type(data).__module__}.{type(data).__name__}: "
                "it lives on another device; move the tensor with .cpu() first"
            )
        return super().asarray(data, dtype, copy)

    def to_numpy(self, array):
        return array


def _is_foreign_wrapper(data):
    """The strict stand-in's arrays refuse implicit conversion, like CuPy's; say so before NumPy does."""
    return getattr(type(data), "_tinygen_device_array", False)
