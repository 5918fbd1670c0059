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


def channel_rows(backend, x):
    """(N, C, H, W) -> (C, N*H*W): one row per channel, its planes from every image side by side."""
    n, c, h, w = x.shape
    return backend.xp.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(c, n * h * w)


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


# --- the three products of a convolution, a block of images at a time ----------------------------------

#: the most memory one block's im2col columns may take. A DCGAN layer's columns for a batch of 64 images take
#: 12.8 MB; cut into blocks of 16 images they take 3.2 MB, which the product reads while they are still in the cache.
BLOCK_BYTES = 4 * 2**20


def image_blocks(batch, numbers_per_image, itemsize):
    """Slices of the batch axis, each as many images as fit ``numbers_per_image`` numbers apiece in ``BLOCK_BYTES``
    (at least one image; an empty batch is one empty block)."""
    size = max(1, BLOCK_BYTES // max(1, numbers_per_image * itemsize))
    return [slice(start, min(start + size, batch)) for start in range(0, max(batch, 1), size)]


def correlate(backend, x, weight, geometry, output_size):
    """y[n, o, i, j] = sum_{c,a,b} w[o, c, a, b] x_pad[n, c, i*s + a*d, j*s + b*d]:
    (N, C, H, W), (O, C, kH, kW) -> (N, O, Ho, Wo). im2col(x) times the weight matrix, a block of images at a time.

    One product per block gives channels-last rows, which one copy turns into NCHW. When x has a single channel,
    its windows are only kH*kW numbers long: that copy would cost more than the product, so each image's product
    is taken the other way round, (O, K) times its (K, Ho Wo) windows, which is its NCHW output as it comes out."""
    batch, out_channels = x.shape[0], weight.shape[0]
    matrix = weight_matrix(backend, weight)  # (O, K)
    positions = output_size[0] * output_size[1]
    y = backend.xp.empty((batch, out_channels) + tuple(output_size), dtype=x.dtype)
    for block in image_blocks(batch, positions * matrix.shape[1], x.itemsize):
        images = x[block]
        columns = im2col(backend, images, geometry, output_size)  # (n Ho Wo, K)
        if x.shape[1] == 1:
            per_image = columns.reshape(len(images), positions, matrix.shape[1]).transpose(0, 2, 1)  # (n, K, Ho Wo)
            backend.xp.matmul(matrix, per_image, out=y[block].reshape(len(images), out_channels, positions))
        else:
            product = columns @ matrix.T  # (n Ho Wo, O): channels last
            y[block] = product.reshape((-1,) + tuple(output_size) + (out_channels,)).transpose(0, 3, 1, 2)
    return y


def correlate_weight_grad(backend, x, g, geometry):
    """The adjoint of ``correlate`` in w: dW[o, c, a, b] = sum_{n,i,j} g[n, o, i, j] x_pad[n, c, i*s + a*d, j*s + b*d]:
    (N, C, H, W), (N, O, Ho, Wo) -> (O, C, kH, kW). The sum over n runs a block of images at a time."""
    (k_h, k_w), output_size = geometry.kernel, g.shape[2:]
    numbers_per_image = output_size[0] * output_size[1] * k_h * k_w * x.shape[1]
    # (O, n Ho Wo) times (n Ho Wo, K) is the weight matrix as it comes out; g's channel planes as rows are a cheaper
    # copy than its channels-last rows (a third of the time for a one-channel x's 64-channel g). The numbers are
    # those of the transposed product it replaced, bit for bit in every model's training run
    matrix = sum(channel_rows(backend, g[block]) @ im2col(backend, x[block], geometry, output_size)
                 for block in image_blocks(x.shape[0], numbers_per_image, x.itemsize))
    return weight_from_matrix(backend, matrix, (g.shape[1], x.shape[1], k_h, k_w))


def correlate_adjoint(backend, y, weight, geometry, input_size):
    """The adjoint of ``correlate`` in x (the transposed convolution):
    (N, O, Ho, Wo), (O, C, kH, kW) -> (N, C, H, W) with H, W = ``input_size``.

    As it reads: each pixel of y times the weight matrix gives the window it spreads onto, and ``col2im`` adds the
    windows up (``correlate_adjoint_by_windows``). When the kernel is a multiple of the stride,
    ``correlate_adjoint_by_phases`` computes the same without the overlapping adds (tests check that the two
    agree); it copies T_h*T_w*O numbers per pixel of y where col2im adds k_h*k_w*C, so it runs when that is no
    more: O <= s_h*s_w*C (DCGAN's 128 -> 64 layers, not its 64 -> 1 layer)."""
    out_channels, in_channels = weight.shape[:2]
    stride = geometry.stride
    if phase_taps(geometry) is not None and out_channels <= stride[0] * stride[1] * in_channels:
        return correlate_adjoint_by_phases(backend, y, weight, geometry, input_size)
    return correlate_adjoint_by_windows(backend, y, weight, geometry, input_size)


def correlate_adjoint_by_windows(backend, y, weight, geometry, input_size):
    """``correlate_adjoint`` as it reads: rows of y times the weight matrix, then ``col2im``; a block of images at
    a time. For a single output channel the windows are kH*kW numbers long and each image's product reads its
    (Ho Wo, O) rows as a transposed view of y: the same numbers, without the channels-last copy of y."""
    matrix = weight_matrix(backend, weight)  # (O, K)
    out_channels, positions = y.shape[1], y.shape[2] * y.shape[3]
    x = backend.xp.empty((y.shape[0], weight.shape[1]) + tuple(input_size), dtype=y.dtype)
    for block in image_blocks(y.shape[0], positions * matrix.shape[1], y.itemsize):
        images = y[block]
        if weight.shape[1] == 1:
            per_image = images.reshape(len(images), out_channels, positions).transpose(0, 2, 1)  # (n, Ho Wo, O)
            columns = (per_image @ matrix).reshape(-1, matrix.shape[1])
        else:
            columns = rows(backend, images) @ matrix
        x[block] = col2im(backend, columns, x[block].shape, geometry, y.shape[2:])
    return x


def phase_taps(geometry):
    """T = k / s taps per axis, when there is no dilation, each kernel extent is a multiple of its stride and some
    stride is above 1 (DCGAN's k 4, s 2: T = 2); else None (``correlate_adjoint_by_phases`` does not apply)."""
    kernel, stride = geometry.kernel, geometry.stride
    if geometry.dilation != (1, 1) or stride == (1, 1) or any(k % s for k, s in zip(kernel, stride)):
        return None
    return tuple(k // s for k, s in zip(kernel, stride))


def correlate_adjoint_by_phases(backend, y, weight, geometry, input_size):
    """``correlate_adjoint`` for a kernel that is a multiple of the stride, as s_h*s_w stride-1 correlations (the
    sub-pixel view of a transposed convolution), without col2im's overlapping adds.

    Along one axis, output pixel h (padded position h + p = M s + rho, its phase rho < s) receives
        x[h] = sum_{t < T} sum_o y[o, M - t] w[o, c, rho + t s]              (T = k / s taps, y zero outside)
    i.e. T consecutive pixels of y, ending at M, whatever the phase. So one im2col of y (zero-padded by T - 1 in
    front) with T x T windows, one for each (M_h, M_w) some output needs, times a weight matrix that holds every
    phase's taps side by side, (T_h T_w O, s_h s_w C), gives all phases at once: output pixel (h, w) is the entry
    (M_h, M_w, rho_h, rho_w) of that product.
    The windows are laid out M_h first, so the rows of one row phase rho_h (the M_h its output rows need) are one
    block, and each row phase is its own product with its columns of the weight matrix: only the border windows
    of the w axis are computed and not used ((M_w count) / (W / s_w) of the work, 8 / 7 in DCGAN's 128 -> 64 layer).
    Each product's rows (M_w) and columns (rho_w, c) are already the output row (w, c) in channels-last order;
    one transposing copy puts them in their rows of the NCHW output.
    """
    xp = backend.xp
    taps, stride, padding = phase_taps(geometry), geometry.stride, geometry.padding
    batch, out_channels, in_channels = y.shape[0], weight.shape[0], weight.shape[1]
    first = [p // s for p, s in zip(padding, stride)]  # M of output pixel 0, along each axis
    last = [(size - 1 + p) // s for size, p, s in zip(input_size, padding, stride)]
    counts = [end - start + 1 for start, end in zip(first, last)]
    # window entry u holds y[M - (T - 1 - u)]: tap t = T - 1 - u of phase rho, kernel offset rho + t s
    by_tap = weight.reshape(out_channels, in_channels, taps[0], stride[0], taps[1], stride[1])[:, :, ::-1, :, ::-1, :]
    phase_weights = xp.ascontiguousarray(by_tap.transpose(2, 4, 0, 3, 5, 1))
    phase_weights = phase_weights.reshape(taps[0] * taps[1] * out_channels, -1)
    row_phase_width = stride[1] * in_channels  # the weight columns (rho_w, c) of one row phase
    # y channels-last, T - 1 zeros in front and enough behind for the window ending at the last M
    sizes = [max(size + t - 1, end + t) for size, t, end in zip(y.shape[2:], taps, last)]
    # an output row holds columns (M_w - first_w) s_w + rho_w; pixel w is column w + (p_w mod s_w)
    (height, width), shift = input_size, padding[1] % stride[1]
    x = xp.empty((batch, in_channels, height, width), dtype=y.dtype)
    for block in image_blocks(batch, counts[0] * counts[1] * phase_weights.shape[0], y.itemsize):
        images = y[block]
        count = images.shape[0]
        padded = xp.zeros((count, sizes[0], sizes[1], out_channels), dtype=y.dtype)
        padded[:, taps[0] - 1:taps[0] - 1 + y.shape[2], taps[1] - 1:taps[1] - 1 + y.shape[3], :] = \
            images.transpose(0, 2, 3, 1)
        step_n, step_h, step_w, step_c = padded.strides
        windows = backend.as_strided(padded[:, first[0]:, first[1]:, :], (counts[0], count, counts[1], taps[0],
                                     taps[1], out_channels), (step_h, step_n, step_w, step_h, step_w, step_c))
        columns = xp.ascontiguousarray(windows).reshape(counts[0], count * counts[1], phase_weights.shape[0])
        for rho_h in range(stride[0]):
            h0 = (rho_h - padding[0]) % stride[0]  # the row phase's first output row
            m_h, phase_rows = (h0 + padding[0]) // stride[0] - first[0], len(range(h0, height, stride[0]))
            weights = phase_weights[:, rho_h * row_phase_width:(rho_h + 1) * row_phase_width]
            product = columns[m_h:m_h + phase_rows].reshape(-1, phase_weights.shape[0]) @ weights
            product = product.reshape(phase_rows, count, counts[1] * stride[1], in_channels)  # (rows, n, w, c)
            x[block, :, h0::stride[0], :] = product[:, :, shift:shift + width, :].transpose(1, 3, 0, 2)
    return x
