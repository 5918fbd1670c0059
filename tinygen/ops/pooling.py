"""Pooling and nearest-neighbour upsampling (PyTorch's ``F.max_pool2d``, ``F.avg_pool2d``, ``F.interpolate``).

Each op looks at the same sliding windows as a convolution (see ``im2col.py``) and works one kernel offset at
a time: for offset (a, b), the entries of all windows form one strided slice of the padded input.
The ops come in adjoint pairs, so each one's backward is its partner and double backward works:

    AvgPool2d          y = window sums / divisor           <->  SpreadOverWindows   g / divisor added onto each window
    PickFromWindows    y = one fixed entry of each window  <->  ScatterToWindows    g put back where it was picked
    MaxPool2d          PickFromWindows with the argmax of each window as the fixed entry

Adaptive average pooling picks its windows from the output size (PyTorch's: output i averages input rows
floor(i H / out) to ceil((i + 1) H / out) - 1). A mean over a rectangle is the mean over its rows of the means over
its columns, so it averages one dim at a time, a slice and a mean per output row: its gradient is theirs.

Nearest upsampling by an integer factor f spreads each pixel over an f x f block: ``SpreadOverWindows`` with
kernel = stride = f and divisor 1; its gradient sums each block.
Tests: tests/test_pooling.py.
"""
import math

from tinygen.autograd.function import Function
from tinygen.ops import checks
from tinygen.ops.im2col import WindowGeometry, as_pair, pad_planes, window_slices
from tinygen.ops.interpolation import bilinear_interpolate
from tinygen.ops.shape import cat, squeeze, unsqueeze
from tinygen.tensor import Tensor

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "interpolate"]


def _crop(backend, padded, padding, size):
    (p_h, p_w), (h, w) = padding, size
    return backend.xp.ascontiguousarray(padded[:, :, p_h:p_h + h, p_w:p_w + w])


def _zeros_padded(backend, like, padding, size):
    """A zero (N, C, H + 2p_h, W + 2p_w) array of ``like``'s dtype."""
    (p_h, p_w), (h, w) = padding, size
    return backend.xp.zeros(like.shape[:2] + (h + 2 * p_h, w + 2 * p_w), dtype=like.dtype)


class PickFromWindows(Function):
    """y[n,c,i,j] = x_pad[n, c, i*s + a*d, j*s + b*d] where (a, b) is the fixed kernel offset choice[n,c,i,j]
    (a flat index a*kW + b): (N, C, H, W) -> (N, C, Ho, Wo).
    dL/dx = ScatterToWindows(g): each gradient goes back to the pixel it was picked from (summed where shared)."""

    def __init__(self, geometry, choice):
        self.geometry, self.choice = geometry, choice

    def forward(self, x):
        self.input_size = x.shape[2:]
        xp, padded = self.backend.xp, pad_planes(self.backend, x, self.geometry.padding)
        y = xp.zeros(x.shape[:2] + self.choice.shape[2:], dtype=x.dtype)
        for offset, (rows, columns) in enumerate(window_slices(self.geometry, y.shape[2:])):
            y = xp.where(self.choice == offset, padded[:, :, rows, columns], y)
        return y

    def backward(self, g):
        return ScatterToWindows(self.geometry, self.choice, self.input_size)(g)


class MaxPool2d(PickFromWindows):
    """y = the largest entry of each window of x (padding counts as -inf; a NaN wins, as in PyTorch).
    The argmax offsets become ``choice``, so the gradient goes to each window's maximum (first one at ties)."""

    def __init__(self, geometry, output_size):
        super().__init__(geometry, None)
        self.output_size = output_size

    def forward(self, x):
        self.input_size = x.shape[2:]
        xp, padded = self.backend.xp, pad_planes(self.backend, x, self.geometry.padding, -math.inf)
        slices = window_slices(self.geometry, self.output_size)
        rows, columns = slices[0]
        best = padded[:, :, rows, columns].copy()  # a 1 x 1 kernel must not hand back x's own memory
        choice = xp.zeros(best.shape, dtype=xp.int64)
        for offset, (rows, columns) in enumerate(slices[1:], start=1):
            entries = padded[:, :, rows, columns]
            better = (entries > best) | xp.isnan(entries)
            best, choice = xp.where(better, entries, best), xp.where(better, offset, choice)
        self.choice = choice
        return best


class ScatterToWindows(Function):
    """The adjoint of PickFromWindows: y = zeros(N, C, H, W) with g[n,c,i,j] added at the picked pixel of window (i, j).
    dL/dg = PickFromWindows(upstream)."""

    def __init__(self, geometry, choice, input_size):
        self.geometry, self.choice, self.input_size = geometry, choice, input_size

    def forward(self, g):
        xp, padding = self.backend.xp, self.geometry.padding
        padded = _zeros_padded(self.backend, g, padding, self.input_size)
        for offset, (rows, columns) in enumerate(window_slices(self.geometry, g.shape[2:])):
            target = padded[:, :, rows, columns]
            target += xp.where(self.choice == offset, g, 0)
        return _crop(self.backend, padded, padding, self.input_size)

    def backward(self, upstream):
        return PickFromWindows(self.geometry, self.choice)(upstream)


class AvgPool2d(Function):
    """y = (sum of each window of the zero-padded x) / divisor: (N, C, H, W) -> (N, C, Ho, Wo).
    ``divisor`` is a number or an (Ho, Wo) array. dL/dx = SpreadOverWindows(g): g / divisor onto each window."""

    def __init__(self, geometry, divisor, output_size):
        self.geometry, self.divisor, self.output_size = geometry, divisor, output_size

    def forward(self, x):
        self.input_size = x.shape[2:]
        padded = pad_planes(self.backend, x, self.geometry.padding)
        total = self.backend.xp.zeros(x.shape[:2] + tuple(self.output_size), dtype=x.dtype)
        for rows, columns in window_slices(self.geometry, self.output_size):
            total += padded[:, :, rows, columns]
        return total / self.divisor

    def backward(self, g):
        return SpreadOverWindows(self.geometry, self.divisor, self.input_size)(g)


class SpreadOverWindows(Function):
    """The adjoint of AvgPool2d: y = zeros(N, C, H, W) with g[n,c,i,j] / divisor added onto each pixel of window (i, j).
    dL/dg = AvgPool2d(upstream)."""

    def __init__(self, geometry, divisor, input_size):
        self.geometry, self.divisor, self.input_size = geometry, divisor, input_size

    def forward(self, g):
        self.output_size = g.shape[2:]
        padded = _zeros_padded(self.backend, g, self.geometry.padding, self.input_size)
        share = g / self.divisor
        for rows, columns in window_slices(self.geometry, g.shape[2:]):
            target = padded[:, :, rows, columns]
            target += share
        return _crop(self.backend, padded, self.geometry.padding, self.input_size)

    def backward(self, upstream):
        return AvgPool2d(self.geometry, self.divisor, self.output_size)(upstream)


# --- public functions ----------------------------------------------------------------------------------

def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each kernel_size window: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo), Ho as for conv2d.
    ``stride`` defaults to ``kernel_size``; padding (at most half the kernel) never wins. With
    ``return_indices``, also the argmax positions as flat indices into each H x W plane (int64), as PyTorch."""
    x, unbatched, geometry, output_size = _pool_arguments(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode
    )
    pool = MaxPool2d(geometry, output_size)
    y = pool(x)
    if unbatched:
        y = squeeze(y, 0)
    if not return_indices:
        return y
    return y, _flat_indices(x, geometry, pool.choice, unbatched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kernel_size window: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo). Zero padding counts
    in the mean unless ``count_include_pad=False``; ``divisor_override`` replaces the window size."""
    x, unbatched, geometry, output_size = _pool_arguments(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode
    )
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) or divisor_override == 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a non-zero int, got {divisor_override!r}")
        divisor = divisor_override
    elif count_include_pad or geometry.padding == (0, 0):
        divisor = math.prod(geometry.kernel)
    else:
        divisor = _pixels_per_window(x, geometry, output_size)
    y = AvgPool2d(geometry, divisor, output_size)(x)
    return squeeze(y, 0) if unbatched else y


def adaptive_avg_pool2d(input, output_size):
    """(N, C, H, W) or (C, H, W) -> (..., Ho, Wo) for ``output_size`` (Ho, Wo), an int for both, ``None`` keeping
    that size: output (i, j) is the mean of rows floor(i H / Ho) .. ceil((i + 1) H / Ho) - 1 and the columns alike."""
    _require_planes("adaptive_avg_pool2d", input, 2)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    rows = _adaptive_mean("adaptive_avg_pool2d", input, -2, sizes[0])
    return _adaptive_mean("adaptive_avg_pool2d", rows, -1, sizes[1])


def adaptive_avg_pool1d(input, output_size):
    """(N, C, L) or (C, L) -> (..., Lo): output i is the mean of floor(i L / Lo) .. ceil((i + 1) L / Lo) - 1."""
    _require_planes("adaptive_avg_pool1d", input, 1)
    size = output_size[0] if isinstance(output_size, (tuple, list)) and len(output_size) == 1 else output_size
    return _adaptive_mean("adaptive_avg_pool1d", input, -1, size)


def _require_planes(name, input, spatial):
    checks.require_tensor(name, input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{name}: expects a {spatial + 2}-D (batched) or {spatial + 1}-D input, got shape "
                         f"{tuple(input.shape)}")


def _adaptive_mean(name, x, dim, size):
    """x with dim ``dim`` averaged down (or spread up) to ``size`` windows, PyTorch's adaptive windows."""
    extent = x.shape[dim]
    if size is None or size == extent:
        return x
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"{name}: each output size must be a positive int or None, got {size!r}")
    if extent == 0:
        raise ValueError(f"{name}: cannot pool an empty dim to {size} (input shape {tuple(x.shape)})")
    before = (slice(None),) * (x.ndim + dim)
    windows = [(i * extent // size, -(-(i + 1) * extent // size)) for i in range(size)]
    return cat([x[before + (slice(start, end),)].mean(dim, keepdim=True) for start, end in windows], dim)


def _pixels_per_window(x, geometry, output_size):
    """How many pixels of the unpadded input each window covers, as an (Ho, Wo) array of x's dtype."""
    xp = x.backend.xp
    ones = pad_planes(x.backend, xp.ones((1, 1) + x.shape[2:], dtype=x.dtype), geometry.padding)
    counts = xp.zeros((1, 1) + tuple(output_size), dtype=x.dtype)
    for rows, columns in window_slices(geometry, output_size):
        counts += ones[:, :, rows, columns]
    return counts[0, 0]


def _flat_indices(x, geometry, choice, unbatched):
    """PyTorch's ``return_indices``: the argmax of each window as row * W + column in the unpadded plane."""
    xp = x.backend.xp
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = geometry.stride, geometry.padding, geometry.dilation
    kernel_row, kernel_column = choice // geometry.kernel[1], choice % geometry.kernel[1]
    out_h, out_w = choice.shape[2:]
    rows = xp.arange(out_h).reshape(-1, 1) * s_h + kernel_row * d_h - p_h
    columns = xp.arange(out_w) * s_w + kernel_column * d_w - p_w
    indices = Tensor._make(rows * x.shape[3] + columns, x.backend)
    return squeeze(indices, 0) if unbatched else indices


def _pool_arguments(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check a pooling call; returns the 4-D input, whether it was 3-D, the window geometry and the output size."""
    checks.require_tensor(name, input)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{name}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape {input.shape}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got dtype {input.dtype}")
    if ceil_mode:
        raise NotImplementedError(f"{name}: ceil_mode=True is not supported; pad the input instead")
    kernel = as_pair(name, "kernel_size", kernel_size, 1)
    geometry = WindowGeometry(
        kernel, kernel if stride is None else as_pair(name, "stride", stride, 1),
        as_pair(name, "padding", padding, 0), as_pair(name, "dilation", dilation, 1),
    )
    if any(p > k // 2 for p, k in zip(geometry.padding, kernel)):
        raise ValueError(f"{name}: padding {geometry.padding} must be at most half the kernel size {kernel}")
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    output_size = geometry.output_size(x.shape[2:])
    if min(output_size) < 1:
        raise ValueError(
            f"{name}: the input of shape {input.shape} is smaller than one window (kernel {kernel}, dilation "
            f"{geometry.dilation}, padding {geometry.padding}): the output size would be {output_size}"
        )
    return x, input.ndim == 3, geometry, output_size


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    """Resize (N, C, H, W) to ``size`` or by ``scale_factor``. Mode ``"bilinear"``: see ``interpolation.py``.
    Mode ``"nearest"`` uses PyTorch's index rule:
    output pixel j copies input pixel min(floor(j * scale), H - 1), scale = 1 / scale_factor when given, else
    H / H_out (and j // 2 when H_out = 2H). Where that copies each pixel f times (integer factors), the op is
    ``SpreadOverWindows`` over f x f blocks, whose gradient sums each block; otherwise it indexes rows and columns."""
    name = "interpolate"
    checks.require_tensor(name, input)
    if mode not in ("nearest", "bilinear"):
        raise NotImplementedError(f"{name}: mode {mode!r} is not supported; tinygen has 'nearest' and 'bilinear'")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{name}: align_corners can only be set with the interpolating modes (linear, bilinear ...)")
    if input.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got dtype {input.dtype}")
    output_size, factors = _resize_target(name, input.shape[2:], size, scale_factor, recompute_scale_factor)
    if mode == "bilinear":  # see interpolation.py
        return bilinear_interpolate(input, output_size, factors, align_corners)
    sources = [_nearest_sources(input.backend, out, size, factor)
               for out, size, factor in zip(output_size, input.shape[2:], factors)]
    repeats = [_repeat_count(input.backend, source, size) for source, size in zip(sources, input.shape[2:])]
    if None not in repeats:
        blocks = WindowGeometry(tuple(repeats), tuple(repeats), (0, 0), (1, 1))
        return SpreadOverWindows(blocks, 1, output_size)(input)
    rows, columns = (Tensor._make(source, input.backend) for source in sources)
    return input[:, :, rows][:, :, :, columns]


def _resize_target(name, input_size, size, scale_factor, recompute_scale_factor):
    """The output size and, per axis, the scale factor the index rule uses (``None``: use input / output size)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{name}: give exactly one of size and scale_factor, got size={size!r}, scale_factor={scale_factor!r}"
        )
    if size is not None:
        return as_pair(name, "size", size, 1), (None, None)
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if len(factors) != 2 or not all(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in factors):
        raise ValueError(f"{name}: scale_factor must be a positive number or a pair of them, got {scale_factor!r}")
    output_size = tuple(math.floor(h * f) for h, f in zip(input_size, factors))
    if min(output_size) < 1:
        raise ValueError(
            f"{name}: scale_factor {scale_factor!r} makes the input size {tuple(input_size)} empty: {output_size}"
        )
    return output_size, ((None, None) if recompute_scale_factor else factors)


def _nearest_sources(backend, output_size, input_size, factor):
    """The input pixel each output pixel copies, computed in float32 as PyTorch does (a device int64 array)."""
    xp = backend.xp
    positions = xp.arange(output_size)
    if output_size == input_size:
        return positions
    if output_size == 2 * input_size:
        return positions // 2
    scale = xp.float32(input_size) / xp.float32(output_size) if factor is None else xp.float32(1.0 / factor)
    return xp.minimum(xp.floor(positions.astype(xp.float32) * scale).astype(xp.int64), input_size - 1)


def _repeat_count(backend, sources, input_size):
    """f if ``sources`` is 0 (f times), 1 (f times), ... up to input_size - 1; else ``None``."""
    f, remainder = divmod(sources.shape[0], input_size)
    if remainder or not bool((sources == backend.xp.arange(sources.shape[0]) // f).all()):
        return None
    return f
