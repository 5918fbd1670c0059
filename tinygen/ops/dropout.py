"""Dropout: during training, zero each entry with probability p and scale the survivors by 1 / (1 - p).

The scaling ("inverted dropout") keeps the expected value unchanged, so evaluation is the identity.
Tests: tests/test_dropout.py.
"""
import numbers

from tinygen import random as tg_random
from tinygen.autograd.function import Function
from tinygen.backend.dtypes import float32, float64, is_floating
from tinygen.ops import checks

__all__ = ["dropout", "dropout2d"]


class Dropout(Function):
    """y = x * mask * scale for a fixed mask (drawn once) and a number ``scale``.

    ``dropout`` passes the mask as booleans (a quarter of a float32 mask's memory) with scale = 1 / (1 - p); a mask
    of numbers that already holds the scale (0 or 1 / (1 - p)) works with the default scale 1.
    dL/dx = g * mask * scale: the op is linear and symmetric in x, so its backward is the same op on g (and every
    higher derivative comes free).
    """

    def __init__(self, mask, scale=1.0):
        self.mask, self.scale = mask, scale

    def forward(self, x):
        y = self.backend.xp.asarray(x * self.mask)  # asarray: a 0-d product is a NumPy scalar, which *= replaces
        if self.scale != 1.0:
            y *= checks.typed_scalar(self.scale, y)
        return y

    def backward(self, g):
        return Dropout(self.mask, self.scale)(g)


def dropout(input, p=0.5, training=True, generator=None):
    """Zero entries of ``input`` with probability ``p`` (when ``training``), scaling the rest by 1 / (1 - p).

    The mask is drawn on the input's device from ``generator`` (or the default one): a seeded generator
    gives the same mask every time. ``p=1`` gives zeros; ``training=False`` or ``p=0`` returns ``input``.
    """
    checks.require_tensor("dropout", input)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not is_floating(input.dtype):
        raise TypeError(f"dropout: expected a floating-point input, got dtype {input.dtype}")
    if not training or p == 0:
        return input
    if p == 1:
        return Dropout(input.backend.xp.zeros(input.shape, dtype=bool), 0.0)(input)
    draw_dtype = input.dtype if input.dtype in (float32, float64) else float32  # what generators can draw
    uniform = tg_random.resolve(generator, input.device).random(input.shape, draw_dtype)
    return Dropout(uniform >= p, 1.0 / (1.0 - p))(input)


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels: each (sample, channel) plane of ``input`` (N, C, H, W), or (C, H, W) unbatched, is
    dropped with probability ``p``; the kept ones are scaled by 1 / (1 - p). One draw per plane, broadcast over
    H x W (the ``Dropout`` op with a broadcast mask). ``inplace`` is accepted; the result is a new tensor."""
    checks.require_tensor("dropout2d", input)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p!r}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected (N, C, H, W) or unbatched (C, H, W), got shape {input.shape}")
    if not is_floating(input.dtype):
        raise TypeError(f"dropout2d: expected a floating-point input, got dtype {input.dtype}")
    if not training or p == 0:
        return input
    planes = input.shape[:-2]
    draw_dtype = input.dtype if input.dtype in (float32, float64) else float32
    uniform = tg_random.resolve(generator, input.device).random(planes, draw_dtype)
    keep = (uniform >= p).reshape(planes + (1, 1))
    return Dropout(keep, 1.0 / (1.0 - p) if p < 1 else 0.0)(input)
