"""Bilinear resizing (``F.interpolate(x, ..., mode="bilinear", align_corners=...)``, PyTorch's index rule).

Each output row j reads the input at the fractional position s(j) and mixes its two neighbours:

    align_corners=False:  s = (j + 1/2) * scale - 1/2, clamped at 0   (pixel centres line up)
    align_corners=True:   s = j * (H - 1) / (H_out - 1)               (corner pixels line up)
    y_j = (1 - t) x_i + t x_(i+1),   i = floor(s), t = s - i          (i + 1 clamped to H - 1)

with scale = 1 / scale_factor when a scale factor is given (and not recomputed), else H / H_out. Columns are
done the same way, so the whole op is two fixed matrices, rows R (H_out, H) and columns C (W_out, W):

    y = R x C^T        dL/dx = R^T g C

The backward is the same op with the transposed matrices: a linear op whose adjoint is its own kind, so
double backward works (and is exact: the second derivative is 0).
"""
from tinygen.autograd.function import Function

__all__ = ["bilinear_interpolate"]


class SeparableResample(Function):
    """y = R x C^T over the last two dimensions, R and C fixed.   dL/dx = R^T g C (the same op, transposed)."""

    def __init__(self, rows, columns):
        self.rows, self.columns = rows, columns

    def forward(self, x):
        xp = self.backend.xp
        return xp.matmul(xp.matmul(self.rows, x), self.columns.T)

    def backward(self, g):
        return SeparableResample(self.rows.T, self.columns.T)(g)


def _source_positions(xp, output_size, input_size, align_corners, factor):
    """The fractional input position each output index reads (float64), by PyTorch's rule."""
    positions = xp.arange(output_size, dtype=xp.float64)
    if align_corners:
        scale = (input_size - 1) / (output_size - 1) if output_size > 1 else 0.0
        return positions * scale
    scale = input_size / output_size if factor is None else 1.0 / factor
    return xp.maximum((positions + 0.5) * scale - 0.5, 0.0)


def interpolation_matrix(xp, output_size, input_size, align_corners, factor, dtype):
    """The (output_size, input_size) matrix whose row j holds the weights 1 - t and t at columns i and i + 1."""
    sources = _source_positions(xp, output_size, input_size, align_corners, factor)
    lower = xp.minimum(xp.floor(sources).astype(xp.int64), input_size - 1)
    upper = xp.minimum(lower + 1, input_size - 1)
    weight_upper = sources - lower
    matrix = xp.zeros((output_size, input_size), dtype=xp.float64)
    rows = xp.arange(output_size)
    matrix[rows, lower] = 1.0 - weight_upper
    matrix[rows, upper] += weight_upper  # where upper == lower (the last pixel) the two weights add up to 1
    return matrix.astype(dtype)


def bilinear_interpolate(input, output_size, factors, align_corners):
    """Resize (N, C, H, W) ``input`` to ``output_size`` (checked by ``interpolate``); ``factors`` are the scale
    factors the rule uses per axis (``None``: input size / output size)."""
    xp = input.backend.xp
    rows, columns = (
        interpolation_matrix(xp, out, size, bool(align_corners), factor, input.dtype)
        for out, size, factor in zip(output_size, input.shape[2:], factors)
    )
    return SeparableResample(rows, columns)(input)


