"""``tinygen.cuda``: PyTorch's ``torch.cuda`` queries for the one GPU tinygen can use (through CuPy).

    device = tinygen.device("cuda" if tinygen.cuda.is_available() else "cpu")
    Tensor = tinygen.cuda.FloatTensor if tinygen.cuda.is_available() else tinygen.FloatTensor

Without CuPy and a CUDA device everything here still answers: ``is_available()`` is False, ``device_count()``
0, seeding is a no-op (as in PyTorch), and only making a GPU tensor is an error that says so.
"""
from tinygen import backend as backends
from tinygen import legacy
from tinygen import random as tg_random

LEGACY_TYPES = legacy.legacy_types(on_gpu=True)
FloatTensor, DoubleTensor = LEGACY_TYPES["FloatTensor"], LEGACY_TYPES["DoubleTensor"]
HalfTensor = LEGACY_TYPES["HalfTensor"]
IntTensor, LongTensor = LEGACY_TYPES["IntTensor"], LEGACY_TYPES["LongTensor"]
ByteTensor, BoolTensor = LEGACY_TYPES["ByteTensor"], LEGACY_TYPES["BoolTensor"]

__all__ = [
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor",
    "current_device", "device_count", "empty_cache", "get_device_name", "is_available", "manual_seed",
    "manual_seed_all", "synchronize",
]


def is_available():
    """True if CuPy imports and sees a CUDA device."""
    return backends.cuda_is_available()


def device_count():
    """1 with a usable GPU (tinygen uses one), else 0."""
    return 1 if is_available() else 0


def current_device():
    """The index of the GPU in use: always 0."""
    _require_gpu("current_device")
    return 0


def get_device_name(device=None):
    _require_gpu("get_device_name")
    import cupy

    return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()


def manual_seed(seed):
    """Seed the GPU's default generator; without a GPU nothing happens (as in PyTorch)."""
    if is_available():
        tg_random.default_generator("cuda").manual_seed(seed)


manual_seed_all = manual_seed


def synchronize(device=None):
    """Wait for queued GPU work to finish."""
    if is_available():
        backends.get_backend("cuda").synchronize()


def empty_cache():
    """Accepted for PyTorch scripts; CuPy's memory pool is left as it is."""


def _require_gpu(name):
    if not is_available():
        raise RuntimeError(f"tinygen.cuda.{name}(): no GPU here (needs CuPy and a CUDA device)")


def _cuda_amp_module():
    """``tinygen.cuda.amp`` (``from torch.cuda.amp import GradScaler, autocast``): PyTorch's older spellings of
    ``tinygen.amp``'s two classes, for the GPU. Registered in ``sys.modules`` so that the import line works,
    though ``tinygen.cuda`` is a module, not a package."""
    import sys
    import types

    from tinygen import amp as _amp

    module = types.ModuleType("tinygen.cuda.amp", "PyTorch's torch.cuda.amp: see tinygen.amp")

    class autocast(_amp.autocast):  # noqa: N801  (PyTorch's name)
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            super().__init__("cuda", dtype, enabled, cache_enabled)

    class GradScaler(_amp.GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                      enabled=True):
            super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)

    autocast.__module__ = GradScaler.__module__ = module.__name__
    module.autocast, module.GradScaler, module.__all__ = autocast, GradScaler, ["GradScaler", "autocast"]
    sys.modules[module.__name__] = module
    return module


amp = _cuda_amp_module()
