"""Array backends: which library holds a tensor's numbers, and on which device.

``get_backend("cpu")`` -> NumPy, ``get_backend("cuda")`` -> CuPy, ``get_backend("strict")`` -> the CPU stand-in
that enforces CuPy's rules. The default device comes from the ``TINYGEN_DEVICE`` environment variable
(``cpu`` when unset), so the same test suite runs on the GPU with one variable.
"""
import os

from tinygen.backend.base import Backend
from tinygen.backend.device import DEVICES, device, device_name  # noqa: F401  (re-exported)
from tinygen.backend.cupy_backend import cuda_unavailable_reason
from tinygen.backend.dtypes import (  # noqa: F401  (re-exported)
    bool_,
    float16,
    float32,
    float64,
    int32,
    int64,
    uint8,
    default_float_dtype,
    is_floating,
    to_dtype,
)

_backends = {}
_default_device = None


def _create(device):
    if device == "cpu":
        from tinygen.backend.numpy_backend import NumpyBackend

        return NumpyBackend()
    if device == "cuda":
        from tinygen.backend.cupy_backend import CupyBackend

        return CupyBackend()
    from tinygen.backend.strict import StrictBackend

    return StrictBackend()


def normalize_device(device):
    """``None`` -> the default device; ``"cuda:0"`` -> ``"cuda"``; anything unknown -> a clear error."""
    if device is None:
        return get_default_device()
    if isinstance(device, Backend):
        return device.device
    return device_name(device)


def get_backend(device=None):
    """The backend object for ``device`` (created once, then shared)."""
    name = normalize_device(device)
    backend = _backends.get(name)
    if backend is None:
        backend = _backends[name] = _create(name)
    return backend


def get_default_device():
    global _default_device
    if _default_device is None:
        _default_device = normalize_device(os.environ.get("TINYGEN_DEVICE") or "cpu")  # set but empty: unset
    return _default_device


def set_default_device(device):
    """Make ``device`` the default for new tensors (``tinygen.tensor``, ``zeros``, ``randn``, layers ...)."""
    global _default_device
    _default_device = normalize_device(device)


def cuda_is_available():
    """True if CuPy imports and sees a CUDA device."""
    return cuda_unavailable_reason() is None
