"""The NVIDIA GPU backend: CuPy arrays. Imported only when a ``"cuda"`` tensor is asked for."""
from tinygen.backend.base import Backend
from tinygen.backend.device import device as Device


def cuda_unavailable_reason():
    """Why the CUDA backend cannot be used here, or ``None`` if it can (CuPy imports and sees a GPU)."""
    try:
        import cupy
    except Exception as error:  # ImportError, or a CUDA library that fails to load
        return f"CuPy is not installed or does not load ({error}); install tinygen[gpu]"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "CuPy found no CUDA device"
    except Exception as error:
        return f"CuPy cannot reach a CUDA device ({error})"
    return None


class CupyBackend(Backend):
    device = Device("cuda", 0)

    def __init__(self):
        reason = cuda_unavailable_reason()
        if reason is not None:
            raise RuntimeError(f"device 'cuda' is not available: {reason}")
        import cupy

        self.xp = cupy

    def to_numpy(self, array):
        return self.xp.asnumpy(array)

    def stable_argsort(self, array, axis):
        return self.xp.argsort(array, axis=axis)  # CuPy's sort is always stable

    def synchronize(self):
        self.xp.cuda.get_current_stream().synchronize()
