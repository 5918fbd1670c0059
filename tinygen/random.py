"""Seeded random numbers: ``tinygen.manual_seed(0)`` makes every run draw the same numbers.

A ``Generator`` draws device arrays (``standard_normal``, ``random``) with its backend's generator,
and host-side integers (``permutation``, ``integers``: data shuffling) with a NumPy generator, so
shuffles are identical on every device. The same seed gives different device streams on the CPU and
on CUDA (NumPy's PCG64 vs CuPy's XORWOW); each is reproducible on its own.
``uniform_`` and ``normal_`` fill a tensor in place from a generator: ``Tensor.uniform_``/``normal_`` and
``nn.init``'s schemes are built on them.
"""
import secrets

from tinygen import backend as backends
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend.dtypes import float32, float64

_HOST = backends.get_backend("cpu")


class Generator:
    def __init__(self, device=None, seed=None):
        self.device = backends.normalize_device(device)
        self.manual_seed(secrets.randbits(63) if seed is None else seed)

    def manual_seed(self, seed):
        """Restart the streams from ``seed`` (a non-negative integer)."""
        self._seed = _checked_seed(seed, "Generator")
        self._xp = backends.get_backend(self.device).xp
        self._device_rng = backends.get_backend(self.device).default_rng(seed)
        self._host_rng = self._device_rng if self.device == "cpu" else _HOST.default_rng(seed)
        return self

    def initial_seed(self):
        return self._seed

    # --- device arrays --------------------------------------------------------------------------
    def standard_normal(self, shape, dtype):
        """An array of N(0, 1) draws on this generator's device (0-d for shape ``()``, never a scalar)."""
        return self._xp.asarray(self._device_rng.standard_normal(shape, dtype=dtype))

    def random(self, shape, dtype):
        """An array of U[0, 1) draws on this generator's device (0-d for shape ``()``, never a scalar)."""
        return self._xp.asarray(self._device_rng.random(shape, dtype=dtype))

    # --- host integers --------------------------------------------------------------------------
    def permutation(self, n):
        """A random ordering of ``range(n)``, as a NumPy int64 array on the host."""
        return self._host_rng.permutation(n)

    def integers(self, low, high, size):
        """Host integers uniform in ``[low, high)``, as a NumPy array."""
        return self._host_rng.integers(low, high, size=size)

    def choice(self, n, size, replace, p):
        """``size`` host indices in ``[0, n)`` drawn with probabilities ``p`` (with or without replacement), as a
        NumPy int64 array: weighted sampling of data."""
        return self._host_rng.choice(n, size=size, replace=replace, p=p)

    # --- state, for bit-identical resume --------------------------------------------------------
    def get_state(self):
        """The generator's full state as plain JSON-able data (CPU only: CuPy's generator state can't be read)."""
        if self.device != "cpu":
            raise NotImplementedError(
                f"get_state(): the state of a {self.device!r} generator cannot be saved (CuPy's generators "
                "don't expose it); reseed from (seed, step) instead"
            )
        return {"seed": self._seed, "bit_generator": self._host_rng.bit_generator.state}

    def set_state(self, state):
        if self.device != "cpu":
            raise NotImplementedError(f"set_state(): a {self.device!r} generator's state cannot be restored")
        self.manual_seed(state["seed"])
        self._host_rng.bit_generator.state = state["bit_generator"]

    def __repr__(self):
        return f"Generator(device={self.device!r}, seed={self._seed})"


def _checked_seed(seed, caller="manual_seed"):
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{caller}: expected a non-negative integer seed, got {seed!r}")
    return seed


_default_generators = {}
_global_seed = None


def default_generator(device=None):
    """The generator used when an op is given none (one per device)."""
    name = backends.normalize_device(device)
    generator = _default_generators.get(name)
    if generator is None:
        generator = _default_generators[name] = Generator(name, _global_seed)
    return generator


def manual_seed(seed):
    """Seed the default generators of every device (now and those made later)."""
    global _global_seed
    _global_seed = _checked_seed(seed)  # checked first: a bad seed must not stay behind for devices used later
    for generator in _default_generators.values():
        generator.manual_seed(seed)
    return default_generator()


def resolve(generator, device):
    """The generator an op should draw from: the one given (checked against ``device``) or the default."""
    if generator is None:
        return default_generator(device)
    if generator.device != backends.normalize_device(device):
        raise ValueError(
            f"the generator draws on device {generator.device!r} but the tensor is on {device!r}; "
            f"make a Generator(device={device!r})"
        )
    return generator


# --- filling a tensor in place (Tensor.uniform_ / normal_, and nn.init, which builds its schemes on them) -------

def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` in place with draws from U(a, b), from ``generator`` or its device's default one."""
    if a > b:
        raise ValueError(f"uniform_: the lower bound a={a} is above the upper bound b={b}")
    source = resolve(generator, tensor.device)
    return fill_with(tensor, lambda dtype: source.random(tensor.shape, dtype) * (b - a) + a)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` in place with draws from N(mean, std^2), from ``generator`` or its device's default one."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    source = resolve(generator, tensor.device)
    return fill_with(tensor, lambda dtype: source.standard_normal(tensor.shape, dtype) * std + mean)


def fill_with(tensor, draw):
    """Write ``draw(generator_dtype)`` (an array of tensor's shape) into ``tensor`` in place, under ``no_grad``."""
    draw_dtype = tensor.dtype if tensor.dtype in (float32, float64) else float32  # what generators can draw
    with no_grad():
        tensor.copy_(tensor._wrap_like(draw(draw_dtype)))
    return tensor
