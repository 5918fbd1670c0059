"""2-D convolution and transposed convolution (PyTorch's ``F.conv2d`` and ``F.conv_transpose2d``).

``conv1d`` is ``conv2d`` on rows of height 1 (its gradients are conv2d's).

A convolution is bilinear in its input and weight, so all its derivatives are convolutions again. Three
ops close the family under differentiation (the layers of the same names live in ``tinygen.nn``):

    Conv2d            y  = conv(x, w)          dL/dx = convT(g, w)    dL/dw = wgrad(x, g)
    ConvTranspose2d   y  = convT(x, w)         dL/dx = conv(g, w)     dL/dw = wgrad(g, x)
    Conv2dWeightGrad  dW = wgrad(x, g)         dL/dx = convT(g, G)    dL/dg = conv(x, G)

``convT`` is the adjoint of ``conv`` in x (<convT(y, w), x> = <y, conv(x, w)>) and ``wgrad`` its adjoint in w.
Each backward calls these differentiable ops, so second derivatives (a WGAN-GP gradient penalty through
a critic) work to any order. The number crunching (im2col + one matrix product) is in ``im2col.py``.

A convolution's output size is floor((H + 2p - d(k-1) - 1)/s) + 1, so several input sizes give the same
output size; the backward ops are therefore told the exact size to produce (the input's), which plays the
role of ``output_padding``.

What runs is the fast path: im2col on a channels-last copy (contiguous channels in the innermost copy) and a
matrix product per block of images (so the columns of a batch never all exist at once). Beside it,
``conv2d_reference`` and ``conv_transpose2d_reference`` compute the same from the formulas as they read, one
kernel offset at a time in differentiable tensor ops (autograd derives their backward); tests check that both
paths agree, values and first and second derivatives.
See docs/derivations/conv.md and docs/derivations/conv-transpose.md. Tests: tests/test_conv.py.
"""
from tinygen.autograd.function import Function
from tinygen.ops import checks
from tinygen.ops.im2col import WindowGeometry, as_pair, correlate, correlate_adjoint, correlate_weight_grad
from tinygen.ops.linalg import matmul
from tinygen.ops.padding import pad
from tinygen.ops.shape import squeeze, unsqueeze
from tinygen.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]


def _needs_bias_grad(function):
    """Whether input 2, the bias, needs a gradient: ``needs_input_grad`` has a third entry only if a bias was given."""
    needs = function.needs_input_grad
    return len(needs) > 2 and needs[2]


def _add_bias(y, bias):
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


class Conv2d(Function):
    """y[n,o,i,j] = sum_{c,a,b} w[o,c,a,b] x_pad[n,c,i*s+a*d,j*s+b*d] + b[o]:
    (N,C,H,W), (O,C,kH,kW), (O,) -> (N,O,Ho,Wo).

    dL/dx = conv_transpose2d(g, w) sized back to (H, W);  dL/dw = Conv2dWeightGrad(x, g);  dL/db = g summed over
    N, Ho, Wo.
    The im2col columns are not kept for dL/dw: they hold each pixel of x in up to (k/s)^2 windows, so keeping them
    until the backward would cost several times x's memory; the weight gradient cuts them again from x.
    """

    save_inputs = True

    def __init__(self, geometry, output_size):
        self.geometry, self.output_size = geometry, tuple(output_size)

    def forward(self, x, weight, bias=None):
        return _add_bias(correlate(self.backend, x, weight, self.geometry, self.output_size), bias)

    def backward(self, g):
        x, weight = self.saved_inputs[:2]
        grad_x = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d(self.geometry, x.shape[2:])(g, weight)
        if self.needs_input_grad[1]:
            grad_weight = Conv2dWeightGrad(self.geometry)(x, g)
        if _needs_bias_grad(self):
            grad_bias = g.sum(dim=(0, 2, 3))
        return (grad_x, grad_weight, grad_bias)[:len(self.needs_input_grad)]


class ConvTranspose2d(Function):
    """y = conv2d's input gradient applied to x, plus b: (N,Ci,H,W), (Ci,Co,kH,kW), (Co,) -> (N,Co,Hout,Wout).

    Every x[n,ci,i,j] spreads w[ci,:,a,b] x[n,ci,i,j] onto y_pad[n, :, i*s+a*d, j*s+b*d].
    dL/dx = conv2d(g, w) (exactly H, W windows);  dL/dw = Conv2dWeightGrad(g, x);  dL/db = sum of g over N, Hout, Wout.
    """

    save_inputs = True

    def __init__(self, geometry, output_size):
        self.geometry, self.output_size = geometry, tuple(output_size)

    def forward(self, x, weight, bias=None):
        return _add_bias(correlate_adjoint(self.backend, x, weight, self.geometry, self.output_size), bias)

    def backward(self, g):
        x, weight = self.saved_inputs[:2]
        need_x, need_weight = self.needs_input_grad[:2]
        grad_x = Conv2d(self.geometry, x.shape[2:])(g, weight) if need_x else None
        grad_weight = Conv2dWeightGrad(self.geometry)(g, x) if need_weight else None
        grad_bias = g.sum(dim=(0, 2, 3)) if _needs_bias_grad(self) else None
        return (grad_x, grad_weight, grad_bias)[:len(self.needs_input_grad)]


class Conv2dWeightGrad(Function):
    """dW[o,c,a,b] = sum_{n,i,j} g[n,o,i,j] x_pad[n,c,i*s+a*d,j*s+b*d]: (N,C,H,W), (N,O,Ho,Wo) -> (O,C,kH,kW).

    The weight gradient of conv2d, bilinear in (x, g). For an upstream G shaped like the weight:
    dL/dx = conv_transpose2d(g, G) sized to (H, W);  dL/dg = conv2d(x, G) with (Ho, Wo) windows.
    """

    save_inputs = True

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x, g):
        return correlate_weight_grad(self.backend, x, g, self.geometry)

    def backward(self, upstream):
        x, g = self.saved_inputs
        grad_x = grad_g = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d(self.geometry, x.shape[2:])(g, upstream)
        if self.needs_input_grad[1]:
            grad_g = Conv2d(self.geometry, g.shape[2:])(x, upstream)
        return grad_x, grad_g


# --- references: the formulas as they read (the ops above are tested equal to them; nothing else calls them) --

def conv2d_reference(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """``conv2d`` of a 4-D input as its formula reads, one kernel offset (a, b) at a time:

        y[n,o,i,j] = sum_{a,b} sum_c w[o,c,a,b] x_pad[n,c,i*s+a*d, j*s+b*d] + b[o]

    The pixels under offset (a, b) are a strided slice of the padded input. Differentiable tensor ops: autograd
    derives the backward."""
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = _pairs("conv2d_reference", stride=stride, padding=padding,
                                                 dilation=dilation)
    padded = pad(input, (p_w, p_w, p_h, p_h))
    k_h, k_w = weight.shape[2:]
    out_h = (padded.shape[2] - d_h * (k_h - 1) - 1) // s_h + 1
    out_w = (padded.shape[3] - d_w * (k_w - 1) - 1) // s_w + 1
    y = 0.0
    for a in range(k_h):
        for b in range(k_w):
            rows = slice(a * d_h, a * d_h + s_h * (out_h - 1) + 1, s_h)
            columns = slice(b * d_w, b * d_w + s_w * (out_w - 1) + 1, s_w)
            under = padded[:, :, rows, columns].permute(0, 2, 3, 1)  # (N, Ho, Wo, C): the pixels under (a, b)
            y = y + matmul(under, weight[:, :, a, b].T).permute(0, 3, 1, 2)  # times w[:, :, a, b]: (N, O, Ho, Wo)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def conv_transpose2d_reference(input, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """``conv_transpose2d`` of a 4-D input as a plain convolution: insert s - 1 zeros between the input's pixels,
    add d(k-1) - p zeros on each side (crop where that is negative) and ``output_padding`` more at the bottom
    and right, then convolve (stride 1, dilation d) with the kernel flipped and its two channel axes swapped."""
    (s_h, s_w), (p_h, p_w), (e_h, e_w), (d_h, d_w) = _pairs(
        "conv_transpose2d_reference", stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation,
    )
    batch, channels, height, width = input.shape
    k_h, k_w = weight.shape[2:]
    # each pixel followed by s - 1 zeros along both axes; the zeros after the last pixel are cut off again
    spread = pad(input.reshape(batch, channels, height, 1, width, 1), (0, s_w - 1, 0, 0, 0, s_h - 1))
    spread = spread.reshape(batch, channels, height * s_h, width * s_w)
    spread = spread[:, :, :(height - 1) * s_h + 1, :(width - 1) * s_w + 1]
    border_h, border_w = d_h * (k_h - 1) - p_h, d_w * (k_w - 1) - p_w
    bordered = _pad_or_crop(spread, (border_h, border_h + e_h), (border_w, border_w + e_w))
    flipped = weight[:, :, ::-1, ::-1].transpose(0, 1)  # (C_in, C_out, kH, kW) -> (C_out, C_in, kH, kW)
    return conv2d_reference(bordered, flipped, bias, dilation=(d_h, d_w))


def _pairs(name, **arguments):
    """Each argument as a (height, width) pair: strides and dilations positive, paddings non-negative."""
    return [as_pair(name, argument, value, 1 if argument in ("stride", "dilation") else 0)
            for argument, value in arguments.items()]


def _pad_or_crop(x, rows, columns):
    """Add zero rows (top, bottom) and columns (left, right) around (N, C, H, W); a negative count removes some."""
    (top, bottom), (left, right) = rows, columns
    x = pad(x, (max(left, 0), max(right, 0), max(top, 0), max(bottom, 0)))
    height, width = x.shape[2:]
    return x[:, :, max(-top, 0):height - max(-bottom, 0), max(-left, 0):width - max(-right, 0)]


# --- public functions ----------------------------------------------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) of ``input`` (N, C_in, H, W) or (C_in, H, W) with
    ``weight`` (C_out, C_in, kH, kW), plus ``bias`` (C_out,). Output (N, C_out, Ho, Wo) with
    Ho = floor((H + 2p - d(kH - 1) - 1) / s) + 1. ``padding`` may be an int, a pair, ``"valid"`` or ``"same"``."""
    return convolution("conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of ``input`` (N, C_in, L) or (C_in, L) with ``weight`` (C_out, C_in, k), plus ``bias``
    (C_out,): ``conv2d`` on rows of height 1, so its gradients are conv2d's. Output (N, C_out, Lo) with
    Lo = floor((L + 2p - d(k - 1) - 1) / s) + 1. ``padding`` may be an int, ``"valid"`` or ``"same"``."""
    return convolution1d("conv1d", input, weight, bias, stride, padding, dilation, groups)


def as_single(name, argument, value, minimum):
    """An int or a 1-tuple of an int -> a 1-tuple, at least ``minimum``; else an error naming the op and argument."""
    single = (value,) if isinstance(value, int) else value
    if (not isinstance(single, (tuple, list)) or len(single) != 1
            or isinstance(single[0], bool) or not isinstance(single[0], int)):
        raise TypeError(f"{name}: {argument} must be an int or a 1-tuple of an int, got {value!r}")
    if single[0] < minimum:
        raise ValueError(f"{name}: {argument} must be {'positive' if minimum == 1 else 'non-negative'}, got {value!r}")
    return tuple(single)


def convolution1d(name, input, weight, bias, stride, padding, dilation, groups):
    """``conv1d`` with ``name`` (an op or layer) in its error messages: checked in 1-D terms, run as conv2d."""
    checks.require_tensor(name, input)
    checks.require_tensor(name, weight, "weight")
    if input.ndim not in (2, 3):
        raise ValueError(
            f"{name}: expected a 3-D input (N, C, L) or a 2-D unbatched one (C, L), got shape {input.shape}"
        )
    if weight.ndim != 3:
        raise ValueError(f"{name}: expected a 3-D weight (C_out, C_in, k), got shape {weight.shape}")
    if input.shape[-2] != weight.shape[1]:
        raise ValueError(f"{name}: the weight of shape {weight.shape} expects {weight.shape[1]} input channels, but "
                         f"the input of shape {input.shape} has {input.shape[-2]}")
    if isinstance(bias, Tensor) and bias.shape != weight.shape[:1]:
        raise ValueError(f"{name}: expected a bias of shape ({weight.shape[0]},) for a weight of shape "
                         f"{weight.shape}, got {bias.shape}")
    (s,), (d,) = as_single(name, "stride", stride, 1), as_single(name, "dilation", dilation, 1)
    if padding == "same" and s != 1:
        raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride!r}")
    if not isinstance(padding, str):
        (p,) = as_single(name, "padding", padding, 0)
        span, length = d * (weight.shape[2] - 1) + 1, input.shape[-1] + 2 * p
        if span > length:
            raise ValueError(f"{name}: the kernel of size {weight.shape[2]} (dilated span {span}) is longer than the "
                             f"padded input ({length}: input of shape {input.shape}, padding {p})")
        padding = (0, p)
    rows = convolution(name, unsqueeze(input, -2), unsqueeze(weight, 2), bias, (1, s), padding, (1, d), groups)
    return squeeze(rows, -2)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution (the gradient of conv2d w.r.t. its input), PyTorch's argument order: ``input``
    (N, C_in, H, W) or (C_in, H, W), ``weight`` (C_in, C_out, kH, kW), ``bias`` (C_out,). Output
    (N, C_out, Hout, Wout) with Hout = (H - 1)s - 2p + d(kH - 1) + output_padding + 1; output_padding picks
    among the input sizes a strided conv2d maps to H, so it must be smaller than the stride or the dilation."""
    return transposed_convolution("conv_transpose2d", input, weight, bias, stride, padding, output_padding,
                                  groups, dilation)


def convolution(name, input, weight, bias, stride, padding, dilation, groups):
    """``conv2d`` with ``name`` (an op or layer) in its error messages; the checked entry point layers use."""
    input, unbatched = check_operands(name, input, weight, bias, groups, transposed=False)
    if isinstance(padding, str):
        input, padding = _string_padding(name, input, weight, stride, padding, dilation)
    geometry = WindowGeometry(
        weight.shape[2:], as_pair(name, "stride", stride, 1), as_pair(name, "padding", padding, 0),
        as_pair(name, "dilation", dilation, 1),
    )
    padded = tuple(size + 2 * p for size, p in zip(input.shape[2:], geometry.padding))
    if any(span > size for span, size in zip(geometry.dilated_kernel(), padded)):
        raise ValueError(
            f"{name}: the kernel {tuple(weight.shape[2:])} (dilated span {geometry.dilated_kernel()}) is larger than "
            f"the padded input {padded} (input of shape {input.shape}, padding {geometry.padding})"
        )
    operands = (input, weight) if bias is None else (input, weight, bias)
    y = Conv2d(geometry, geometry.output_size(input.shape[2:]))(*operands)
    return squeeze(y, 0) if unbatched else y


def transposed_convolution(name, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """``conv_transpose2d`` with ``name`` (an op or layer) in its error messages."""
    input, unbatched = check_operands(name, input, weight, bias, groups, transposed=True)
    geometry = WindowGeometry(
        weight.shape[2:], as_pair(name, "stride", stride, 1), as_pair(name, "padding", padding, 0),
        as_pair(name, "dilation", dilation, 1),
    )
    output_padding = as_pair(name, "output_padding", output_padding, 0)
    for extra, s, d in zip(output_padding, geometry.stride, geometry.dilation):
        if extra >= s and extra >= d:
            raise ValueError(
                f"{name}: output_padding {output_padding} must be smaller than the stride {geometry.stride} or "
                f"the dilation {geometry.dilation} in each dimension"
            )
    output_size = geometry.transposed_output_size(input.shape[2:], output_padding)
    if min(output_size) < 1:
        raise ValueError(
            f"{name}: the output size {output_size} is not positive, for input of shape {input.shape}, weight of "
            f"shape {weight.shape}, stride {geometry.stride}, padding {geometry.padding}, dilation "
            f"{geometry.dilation}, output_padding {output_padding}: use less padding"
        )
    operands = (input, weight) if bias is None else (input, weight, bias)
    y = ConvTranspose2d(geometry, output_size)(*operands)
    return squeeze(y, 0) if unbatched else y


def check_operands(name, input, weight, bias, groups, transposed):
    """Types, dims, dtypes and channel counts; returns the input as 4-D and whether it was unbatched (3-D)."""
    checks.require_tensor(name, input)
    checks.require_tensor(name, weight, "weight")
    if bias is not None:
        checks.require_tensor(name, bias, "bias")
    for operand in (weight, bias):
        if operand is not None and operand.backend is not input.backend:
            raise checks.device_error(name, input, operand)
    if groups != 1:
        raise NotImplementedError(f"{name}: groups={groups} is not supported; tinygen convolutions have groups=1")
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{name}: expected a 4-D input (N, C, H, W) or a 3-D unbatched one (C, H, W), got shape {input.shape}"
        )
    if weight.ndim != 4:
        layout = "(C_in, C_out, kH, kW)" if transposed else "(C_out, C_in, kH, kW)"
        raise ValueError(f"{name}: expected a 4-D weight {layout}, got shape {weight.shape}")
    dtypes = [t.dtype for t in (input, weight, bias) if t is not None]
    if any(dtype.kind != "f" for dtype in dtypes) or len(set(dtypes)) > 1:
        raise TypeError(
            f"{name}: input, weight and bias must share one floating-point dtype, got "
            + ", ".join(f"{role} {t.dtype}" for role, t in (("input", input), ("weight", weight), ("bias", bias))
                        if t is not None)
        )
    channels = input.shape[-3]
    in_channels, out_channels = (weight.shape[0], weight.shape[1]) if transposed else (weight.shape[1], weight.shape[0])
    if channels != in_channels:
        raise ValueError(
            f"{name}: the weight of shape {weight.shape} expects {in_channels} input channels, but the input of "
            f"shape {input.shape} has {channels}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(
            f"{name}: expected a bias of shape ({out_channels},) for a weight of shape {weight.shape}, got {bias.shape}"
        )
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"{name}: the kernel size must be positive, got weight of shape {weight.shape}")
    return (unsqueeze(input, 0), True) if input.ndim == 3 else (input, False)


def _string_padding(name, input, weight, stride, padding, dilation):
    """``"valid"``: no padding. ``"same"`` (stride 1 only): output size = input size; an odd total is padded
    one more on the bottom/right, as PyTorch does. Returns the (maybe padded) input and the symmetric padding."""
    if padding == "valid":
        return input, 0
    if padding != "same":
        raise ValueError(f"{name}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if as_pair(name, "stride", stride, 1) != (1, 1):
        raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride!r}")
    totals = [d * (k - 1) for d, k in zip(as_pair(name, "dilation", dilation, 1), weight.shape[2:])]
    before = [total // 2 for total in totals]
    extra = [total - 2 * b for total, b in zip(totals, before)]
    if any(extra):
        input = pad(input, (0, extra[1], 0, extra[0]))
    return input, tuple(before)
