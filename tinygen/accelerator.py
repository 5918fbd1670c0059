"""``tinygen.accelerator``: the device-neutral queries recent PyTorch scripts use.

    device = tinygen.accelerator.current_accelerator() if tinygen.accelerator.is_available() else "cpu"

tinygen's one accelerator is a CUDA GPU through CuPy. The strict CPU stand-in is a testing device, not an
accelerator.
"""
from tinygen import cuda
from tinygen.backend.device import device

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available", "synchronize"]


def is_available():
    return cuda.is_available()


def device_count():
    return cuda.device_count()


def current_accelerator(check_available=False):
    """``device("cuda")`` when there is a GPU; ``None`` otherwise (PyTorch answers the same without one)."""
    return device("cuda", 0) if cuda.is_available() else None


def current_device_index():
    return 0 if cuda.is_available() else -1


def synchronize(device=None):
    cuda.synchronize()
