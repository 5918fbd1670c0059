"""Padding layers: ``nn.ReflectionPad2d(p)(x)`` is ``F.pad(x, p, mode="reflect")``, and so on (see ``F.pad``).

``padding`` is an int (the same on every side) or a tuple (left, right) for the 1d layers, (left, right, top,
bottom) for the 2d ones, as PyTorch's.
"""
from tinygen.nn.module import Module
from tinygen.ops.padding import pad

__all__ = ["CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d", "ZeroPad1d", "ZeroPad2d"]


class _Pad(Module):
    """Pads the last ``dims`` dims by ``padding`` in ``mode``."""

    mode, dims = "constant", 2

    def __init__(self, padding):
        super().__init__()
        sides = 2 * self.dims
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding,) * sides
        if not isinstance(padding, (tuple, list)) or len(padding) != sides:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {sides} ints, got "
                             f"{padding!r}")
        self.padding = tuple(padding)

    def forward(self, input):
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    dims = 1


class ConstantPad2d(_ConstantPad):
    pass


class _ZeroPad(_ConstantPad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    extra_repr = _Pad.extra_repr  # the padding alone, as PyTorch prints ZeroPad2d


class ZeroPad1d(_ZeroPad):
    dims = 1


class ZeroPad2d(_ZeroPad):
    pass


class ReflectionPad1d(_Pad):
    mode, dims = "reflect", 1


class ReflectionPad2d(_Pad):
    mode = "reflect"


class ReplicationPad1d(_Pad):
    mode, dims = "replicate", 1


class ReplicationPad2d(_Pad):
    mode = "replicate"


class CircularPad1d(_Pad):
    mode, dims = "circular", 1


class CircularPad2d(_Pad):
    mode = "circular"
