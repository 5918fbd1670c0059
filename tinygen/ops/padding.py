"""Padding, PyTorch's ``F.pad``: widen the last dims of a tensor with a constant or with the tensor's own entries.
``pad = (left, right, top, bottom, ...)`` gives pairs from the last dim backwards; along a dim [0 1 2] padded by 2:

    constant   [v v | 0 1 2 | v v]    any number of dims; backward: the gradient's centre
    reflect    [2 1 | 0 1 2 | 1 0]    mirrored without repeating the edge (each pad < the dim's size)
    replicate  [0 0 | 0 1 2 | 2 2]    the edge entry repeated
    circular   [1 2 | 0 1 2 | 0 1]    wrapped around (each pad <= the dim's size)

The last three pad the last 1, 2 or 3 dims of a (C, *) or (N, C, *) input, and are built from slices, ``flip``,
``broadcast_to`` and ``cat`` along each padded dim. Their backward comes from those ops: an entry copied into the
padding gets its own gradient plus those of its copies (the mirrored, clamped or wrapped contributions added back),
and double backward works. Tests: tests/test_padding.py (and tests/test_shape.py).
"""
from tinygen.autograd.function import Function
from tinygen.ops import checks
from tinygen.ops.scan import flip
from tinygen.ops.shape import broadcast_to, cat

__all__ = ["pad"]

MODES = ("constant", "reflect", "replicate", "circular")


class Pad(Function):
    """y = x with ``widths[d] = (before, after)`` constant entries added around each dim d.  dL/dx = g's centre."""

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        return self.backend.xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, g):
        return g[tuple(slice(before, extent - after) for (before, after), extent in zip(self.widths, g.shape))]


def _along(x, dim, start, stop):
    """x[start:stop] along ``dim`` (a view)."""
    return x[(slice(None),) * dim + (slice(start, stop),)]


def _repeated(edge, dim, count):
    """``edge`` (size 1 along ``dim``) repeated ``count`` times along it."""
    return broadcast_to(edge, edge.shape[:dim] + (count,) + edge.shape[dim + 1:])


def _pad_dim(x, dim, before, after, mode):
    """x with ``before`` and ``after`` entries added along ``dim`` by ``mode`` (reflect, replicate or circular)."""
    size = x.shape[dim]
    if mode == "reflect":
        left, right = flip(_along(x, dim, 1, before + 1), dim), flip(_along(x, dim, size - 1 - after, size - 1), dim)
    elif mode == "replicate":
        left = _repeated(_along(x, dim, 0, 1), dim, before)
        right = _repeated(_along(x, dim, size - 1, size), dim, after)
    else:
        left, right = _along(x, dim, size - before, size), _along(x, dim, 0, after)
    return cat([part for part, width in ((left, before), (x, size), (right, after)) if width], dim)


def _check_mode_widths(input, pad, mode):
    """The rules of PyTorch's reflect, replicate and circular padding, as one-line errors."""
    pairs = len(pad) // 2
    if pairs not in (1, 2, 3) or input.ndim not in (pairs + 1, pairs + 2):
        padded = "the last dim" if pairs == 1 else f"the last {pairs} dims"
        raise ValueError(f"pad: mode {mode!r} with pad of length {len(pad)} pads {padded} of a {pairs + 1}-d or "
                         f"{pairs + 2}-d input ((C, *) or (N, C, *)), got input of shape {tuple(input.shape)}")
    for pair in range(pairs):
        dim = input.ndim - 1 - pair
        widths, size = pad[2 * pair: 2 * pair + 2], input.shape[dim]
        if size == 0:
            raise ValueError(f"pad: mode {mode!r} copies entries, but dim {dim} of input of shape "
                             f"{tuple(input.shape)} is empty")
        if mode == "reflect" and max(widths) >= size:
            raise ValueError(f"pad: mode 'reflect' needs each pad below its dim's size, got {widths} for dim {dim} "
                             f"of size {size} (input of shape {tuple(input.shape)})")
        if mode == "circular" and max(widths) > size:
            raise ValueError(f"pad: mode 'circular' wraps around at most once: each pad at most its dim's size, got "
                             f"{widths} for dim {dim} of size {size} (input of shape {tuple(input.shape)})")


def pad(input, pad, mode="constant", value=None):
    """``input`` padded by ``pad`` = (left, right, top, bottom, ...) pairs from the last dim backwards, in ``mode``
    (see the module docstring); ``value`` (default 0) is the constant mode's fill, and only that mode takes one."""
    checks.require_tensor("pad", input)
    pad = tuple(pad)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected (before, after) pairs for at most {input.ndim} dims, got {pad}")
    if any(isinstance(width, bool) or not isinstance(width, int) or width < 0 for width in pad):
        raise ValueError(f"pad: widths must be non-negative integers, got {pad}")
    if mode != "constant":
        if value is not None:
            raise ValueError(f"pad: mode {mode!r} pads with the input's own entries and takes no value, got "
                             f"value={value}")
        _check_mode_widths(input, pad, mode)
        for pair in range(len(pad) // 2):
            input = _pad_dim(input, input.ndim - 1 - pair, pad[2 * pair], pad[2 * pair + 1], mode)
        return input
    widths = [(0, 0)] * input.ndim
    for pair in range(len(pad) // 2):
        widths[input.ndim - 1 - pair] = (pad[2 * pair], pad[2 * pair + 1])
    if not any(before or after for before, after in widths):
        return input
    return Pad(tuple(widths), 0.0 if value is None else value)(input)
