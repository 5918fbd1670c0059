"""``Flatten`` and ``Unflatten``: reshape layers for moving between image-shaped and vector-shaped data;
``PixelShuffle`` and ``PixelUnshuffle``: channels traded for resolution and back."""
import math

from tinygen.nn.module import Module
from tinygen.ops import checks
from tinygen.ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from tinygen.ops.shape import flatten, reshape

__all__ = ["Flatten", "PixelShuffle", "PixelUnshuffle", "Unflatten"]


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 6272) -> (N, 128, 7, 7) with dim=1, size (128, 7, 7).

    One entry of ``unflattened_size`` may be -1 (inferred).
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        sizes = tuple(unflattened_size)
        if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < -1 for s in sizes) \
                or sizes.count(-1) > 1:
            raise ValueError(
                "Unflatten: unflattened_size must be a non-empty sequence of sizes (at most one -1), "
                f"got {unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, sizes

    def forward(self, input):
        dim = checks.normalize_dim("Unflatten", self.dim, input.ndim)
        extent, sizes = input.shape[dim], self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if (-1 in sizes and (known == 0 or extent % known)) or (-1 not in sizes and known != extent):
            raise ValueError(
                f"Unflatten: dim {self.dim} of the input (shape {input.shape}) has size {extent}, which cannot be "
                f"split into {sizes}"
            )
        return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) with r = ``upscale_factor``; see ``F.pixel_shuffle``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W) with r = ``downscale_factor``; see ``F.pixel_unshuffle``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
