"""The CPU backend: NumPy arrays."""
import ctypes
import os
import platform

import numpy

from tinygen.backend.base import Backend
from tinygen.backend.device import device as Device

#: glibc's mallopt parameters, and the values tinygen sets (see ``keep_freed_memory_for_reuse``)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20   # glibc's largest allowed value
TRIM_THRESHOLD = 256 * 2**20


class NumpyBackend(Backend):
    device = Device("cpu")
    xp = numpy
    cache_piece = 65536  # 256 KB of float32: Adam's five arrays' pieces fit a core's L2 cache (1-2 MB)

    def __init__(self):
        keep_freed_memory_for_reuse()

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


def keep_freed_memory_for_reuse():
    """Ask glibc to keep freed blocks of up to 32 MiB in the heap for the next allocation.

    A training step allocates and frees the same few-MB arrays (activations, im2col columns, gradients)
    over and over. By default glibc hands large freed blocks back to the kernel, and every new array then
    pays a page fault per 4 KiB page when first written: thousands per step, about a tenth of a DCGAN
    step's time. With these settings the memory is reused instead (PyTorch's allocators cache for the
    same reason). Only on glibc; not when the user set MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_;
    ``TINYGEN_MALLOC_TUNING=0`` turns it off.
    """
    if os.environ.get("TINYGEN_MALLOC_TUNING", "1") == "0" or platform.libc_ver()[0] != "glibc":
        return
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
