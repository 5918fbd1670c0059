"""Sliding windows and the layout moves of convolution: im2col, col2im and the three products built on them.

A 2-D convolution reads, for every output pixel (i, j), a window of the zero-padded input:

    x_pad[n, c, i*s + a*d, j*s + b*d]      for kernel offsets a < kH, b < kW   (s: stride, d: dilation)

``im2col`` copies every window into one row of a matrix, so the whole convolution becomes one matrix
product; ``col2im`` is its adjoint: it adds each row back onto the pixels its window covers (overlaps add up).

Layout: the windows are read from a channels-last (N, H, W, C) copy of the input, so each row is ordered
(a, b, c) and the innermost copy runs over C contiguous channels. (From NCHW the innermost run would be a
window row of a few pixels: several times slower.) Weights are reordered to match, (O, C, kH, kW) -> (O, kH*kW*C).

These helpers take and return raw backend arrays; the differentiable ops in ``conv.py`` and ``pooling.py``
call them inside ``Function.forward``. See docs/derivations/conv.md.
Tests: tests/test_conv.py and tests/test_pooling.py, through the ops that use it.
"""
from typing import NamedTuple


class WindowGeometry(NamedTuple):
    """Where the windows of a 2-D convolution or pooling sit. Every field is a (height, width) pair of ints."""

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple

    def output_size(self, input_size):
        """How many windows fit along each axis: floor((H + 2p - d(k-1) - 1) / s) + 1 (can be <= 0)."""
        return tuple(
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, k, s, p, d in zip(input_size, self.kernel, self.stride, self.padding, self.dilation)
        )

    def transposed_output_size(self, input_size, output_padding):
        """The size a transposed convolution makes: (H - 1)s - 2p + d(k-1) + output_padding + 1."""
        return tuple(
            (size - 1) * s - 2 * p + d * (k - 1) + extra + 1
            for size, k, s, p, d, extra in zip(
                input_size, self.kernel, self.stride, self.padding, self.dilation, output_padding
            )
        )

    def dilated_kernel(self):
        """The span of one window: d(k-1) + 1 pixels along each axis."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))


def as_pair(name, argument, value, minimum):
    """An int or a pair of ints -> a pair, each at least ``minimum``; else an error naming the op and argument."""
    pair = (value, value) if isinstance(value, int) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)):
        raise TypeError(f"{name}: {argument} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        wanted = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name}: {argument} must be {wanted}, got {value!r}")
    return tuple(pair)


def window_slices(geometry, output_size):
    """For each kernel offset (a, b), in row-major order: the (rows, columns) slices of the padded input that
    the windows read at that offset (rows a*d, a*d + s, ..., one per output row; columns alike)."""
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = geometry.kernel, geometry.stride, geometry.dilation
    out_h, out_w = output_size
    return [
        (slice(a * d_h, a * d_h + s_h * (out_h - 1) + 1, s_h), slice(b * d_w, b * d_w + s_w * (out_w - 1) + 1, s_w))
        for a in range(k_h)
        for b in range(k_w)
    ]


def pad_planes(backend, x, padding, value=0.0):
    """(N, C, H, W) -> (N, C, H + 2p_h, W + 2p_w) with the border set to ``value``; ``x`` itself when p = 0."""
    (p_h, p_w), (h, w) = padding, x.shape[2:]
    if not (p_h or p_w):
        return x
    padded = backend.xp.full(x.shape[:2] + (h + 2 * p_h, w + 2 * p_w), value, dtype=x.dtype)
    padded[:, :, p_h:p_h + h, p_w:p_w + w] = x
    return padded


# --- NCHW <-> zero-padded channels-last ------------------------------------------------------------------

def to_channels_last(backend, x, padding=(0, 0)):
    """(N, C, H, W) -> (N, H + 2p_h, W + 2p_w, C), zero-padded: one copy."""
    xp = backend.xp
    n, c, h, w = x.shape
    p_h, p_w = padding
    if not (p_h or p_w):
        return xp.ascontiguousarray(x.transpose(0, 2, 3, 1))
    padded = xp.zeros((n, h + 2 * p_h, w + 2 * p_w, c), dtype=x.dtype)
    padded[:, p_h:p_h + h, p_w:p_w + w, :] = x.transpose(0, 2, 3, 1)
    return padded


def from_channels_last(backend, padded, size, padding=(0, 0)):
    """(N, Hp, Wp, C) -> the (N, C, H, W) block at offset ``padding``, as a contiguous array (one copy)."""
    (h, w), (p_h, p_w) = size, padding
    return backend.xp.ascontiguousarray(padded[:, p_h:p_h + h, p_w:p_w + w, :].transpose(0, 3, 1, 2))


def rows(backend, x):
    """(N, C, H, W) -> (N*H*W, C): one row of channels per pixel."""
    n, c, h, w = x.shape
    return to_channels_last(backend, x).reshape(n * h * w, c)


def from_rows(backend, matrix, batch, size):
    """(N*H*W, C) -> (N, C, H, W), the inverse of ``rows``."""
    return from_channels_last(backend, matrix.reshape((batch,) + tuple(size) + (matrix.shape[1],)), size)


def weight_matrix(backend, weight):
    """(O, C, kH, kW) -> (O, kH*kW*C): each filter flattened in im2col's (a, b, c) order."""
    return backend.xp.ascontiguousarray(weight.transpose(0, 2, 3, 1)).reshape(weight.shape[0], -1)


def weight_from_matrix(backend, matrix, shape):
    """(O, kH*kW*C) -> (O, C, kH, kW), the inverse of ``weight_matrix``."""
    out_channels, in_channels, k_h, k_w = shape
    return backend.xp.ascontiguousarray(matrix.reshape(out_channels, k_h, k_w, in_channels).transpose(0, 3, 1, 2))


# --- im2col / col2im -------------------------------------------------------------------------------------

def im2col(backend, x, geometry, output_size):
    """(N, C, H, W) -> (N*Ho*Wo, kH*kW*C): row (n, i, j) is the window under output pixel (i, j) of image n.

    The windows are a strided view of the padded channels-last input, shape (N, Ho, Wo, kH, kW, C): stepping
    i moves s rows, stepping a moves d rows. Copying that view into a matrix is the one copy im2col makes."""
    padded = to_channels_last(backend, x, geometry.padding)
    (s_h, s_w), (d_h, d_w), (k_h, k_w) = geometry.stride, geometry.dilation, geometry.kernel
    batch, row, column, channel = padded.strides
    shape = (x.shape[0],) + tuple(output_size) + (k_h, k_w, x.shape[1])
    strides = (batch, s_h * row, s_w * column, d_h * row, d_w * column, channel)
    windows = backend.as_strided(padded, shape, strides)
    return backend.xp.ascontiguousarray(windows).reshape(shape[0] * shape[1] * shape[2], k_h * k_w * x.shape[1])


def col2im(backend, columns, shape, geometry, output_size):
    """The adjoint of ``im2col``: (N*Ho*Wo, kH*kW*C) -> (N, C, H, W), each row added back onto its window.

    One vectorized add per kernel offset (a, b): the windows' entries at that offset land on a strided grid."""
    n, c, h, w = shape
    (p_h, p_w), k_w = geometry.padding, geometry.kernel[1]
    padded = backend.xp.zeros((n, h + 2 * p_h, w + 2 * p_w, c), dtype=columns.dtype)
    windows = columns.reshape((n,) + tuple(output_size) + tuple(geometry.kernel) + (c,))
    for offset, (row_slice, column_slice) in enumerate(window_slices(geometry, output_size)):
        target = padded[:, row_slice, column_slice, :]
        target += windows[(slice(None),) * 3 + divmod(offset, k_w)]
    return from_channels_last(backend, padded, (h, w), geometry.padding)


# --- the three products of a convolution -----------------------------------------------------------------

def correlate(backend, columns, weight, batch, output_size):
    """y[n, o, i, j] = sum_{c,a,b} w[o, c, a, b] x_pad[n, c, i*s + a*d, j*s + b*d], from x's windows:
    im2col(x) (N*Ho*Wo, kH*kW*C), weight (O, C, kH, kW) -> (N, O, Ho, Wo)."""
    return from_rows(backend, columns @ weight_matrix(backend, weight).T, batch, output_size)


def correlate_adjoint(backend, y, weight, geometry, input_size):
    """The adjoint of ``correlate`` in x (the transposed convolution):
    (N, O, Ho, Wo), (O, C, kH, kW) -> (N, C, H, W) with H, W = ``input_size``."""
    columns = rows(backend, y) @ weight_matrix(backend, weight)
    shape = (y.shape[0], weight.shape[1]) + tuple(input_size)
    return col2im(backend, columns, shape, geometry, y.shape[2:])


def correlate_weight_grad(backend, columns, g, kernel):
    """The adjoint of ``correlate`` in w: dW[o, c, a, b] = sum_{n,i,j} g[n, o, i, j] x_pad[n, c, i*s + a*d, j*s + b*d],
    from x's windows: im2col(x) (N*Ho*Wo, kH*kW*C), g (N, O, Ho, Wo) -> (O, C, kH, kW)."""
    shape = (g.shape[1], columns.shape[1] // (kernel[0] * kernel[1])) + tuple(kernel)
    # (columns^T g)^T, not g^T columns: the same numbers, but BLAS splits this shape across threads far better
    return weight_from_matrix(backend, (columns.T @ rows(backend, g)).T, shape)
