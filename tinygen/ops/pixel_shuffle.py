"""``pixel_shuffle`` and ``pixel_unshuffle`` (Shi et al., 2016): channels traded for resolution by a reshape and a
permute, in PyTorch's order, so their backward is the reshape and permute undone (and double backward is free).

    pixel_shuffle:   (*, C r^2, H, W) -> view (*, C, r, r, H, W) -> permute (*, C, H, r, W, r) -> (*, C, H r, W r)
    pixel_unshuffle: the inverse,  (*, C, H r, W r) -> (*, C r^2, H, W)

Tests: tests/test_pixel_shuffle.py.
"""
from tinygen.ops import checks
from tinygen.ops.shape import permute, reshape

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _factor(name, argument, factor, input):
    checks.require_tensor(name, input)
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"{name}: {argument} must be a positive integer, got {factor!r}")
    if input.ndim < 3:
        raise ValueError(f"{name}: expected an input of shape (*, C, H, W) with at least 3 dims, got shape "
                         f"{tuple(input.shape)}")
    return factor


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): output[c, h r + i, w r + j] = input[c r^2 + i r + j, h, w]."""
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor, input)
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise ValueError(f"pixel_shuffle: the channels ({channels}, dim -3 of input of shape {tuple(input.shape)}) "
                         f"must be divisible by upscale_factor^2 = {r * r}")
    lead = len(batch)
    x = reshape(input, (*batch, channels // (r * r), r, r, height, width))
    x = permute(x, *range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return reshape(x, (*batch, channels // (r * r), height * r, width * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of ``pixel_shuffle``."""
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor, input)
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise ValueError(f"pixel_unshuffle: height and width ({height}, {width} in input of shape "
                         f"{tuple(input.shape)}) must be divisible by downscale_factor = {r}")
    lead = len(batch)
    x = reshape(input, (*batch, channels, height // r, r, width // r, r))
    x = permute(x, *range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return reshape(x, (*batch, channels * r * r, height // r, width // r))
