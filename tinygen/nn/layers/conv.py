"""Convolution layers: ``Conv1d``, ``Conv2d`` and ``ConvTranspose2d``, with PyTorch's arguments, weight layouts
and init."""
import math

from tinygen import random as tg_random
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend.dtypes import default_float_dtype, to_dtype
from tinygen.creation import empty
from tinygen.nn.module import Module, Parameter
from tinygen.ops.conv import as_single, convolution, convolution1d, transposed_convolution
from tinygen.ops.im2col import as_pair

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]


def _uniform_(tensor, bound):
    """Fill ``tensor`` in place with U(-bound, bound) draws from its device's default generator."""
    draws = tg_random.resolve(None, tensor.device).random(tensor.shape, tensor.dtype)
    with no_grad():
        tensor.copy_(tensor._wrap_like(bound * (2 * draws - 1)))


class _ConvolutionLayer(Module):
    """What the layers share: argument checks, the weight and bias, initialization and the repr.

    ``sizes`` reads an int or a tuple of ints as one size per spatial dim (pairs for the 2-D layers)."""

    sizes = staticmethod(as_pair)

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, device, dtype, weight_shape_first):
        super().__init__()
        name = type(self).__name__
        for argument, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {argument} must be a positive int, got {value!r}")
        if groups != 1:
            raise NotImplementedError(f"{name}: groups={groups} is not supported; tinygen convolutions have groups=1")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not supported; only 'zeros'")
        dtype = default_float_dtype if dtype is None else to_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{name}: parameters need a floating-point dtype, got {dtype}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = self.sizes(name, "kernel_size", kernel_size, 1)
        self.stride = self.sizes(name, "stride", stride, 1)
        self.padding = padding if isinstance(padding, str) else self.sizes(name, "padding", padding, 0)
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if padding == "same" and set(self.stride) != {1}:
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride!r}")
        self.dilation = self.sizes(name, "dilation", dilation, 1)
        self.output_padding = (0,) * len(self.kernel_size)
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(empty(*weight_shape_first, *self.kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), i.e. kaiming_uniform_ with
        a = sqrt(5); fan_in = weight.shape[1] * kH * kW (for ConvTranspose2d that is out_channels * kH * kW)."""
        bound = 1.0 / math.sqrt(self.weight.shape[1] * math.prod(self.kernel_size))
        _uniform_(self.weight, bound)
        if self.bias is not None:
            _uniform_(self.bias, bound)

    def _name(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        ones = (1,) * len(self.kernel_size)
        if self.padding != (0,) * len(ones):
            text += f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(ones):
            text += f", output_padding={self.output_padding}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvolutionLayer):
    """1-D convolution: (N, in_channels, L) -> (N, out_channels, Lo); weight (out, in, k), bias (out,).
    ``padding`` may also be ``"valid"`` or ``"same"``. See ``tinygen.nn.functional.conv1d``."""

    sizes = staticmethod(as_single)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, (out_channels, in_channels))

    def forward(self, input):
        return convolution1d(self._name(), input, self.weight, self.bias, self.stride, self.padding, self.dilation, 1)


class Conv2d(_ConvolutionLayer):
    """2-D convolution: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo); weight (out, in, kH, kW), bias (out,).
    ``padding`` may also be ``"valid"`` or ``"same"``. See ``tinygen.nn.functional.conv2d``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, (out_channels, in_channels))

    def forward(self, input):
        return convolution(self._name(), input, self.weight, self.bias, self.stride, self.padding, self.dilation, 1)


class ConvTranspose2d(_ConvolutionLayer):
    """Transposed convolution (upsampling by ``stride``): (N, in, H, W) -> (N, out, (H-1)s - 2p + d(k-1) +
    output_padding + 1, ...); weight (in, out, kH, kW), bias (out,). ``forward(x, output_size)`` picks the
    output_padding that gives ``output_size``. See ``tinygen.nn.functional.conv_transpose2d``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, (in_channels, out_channels))
        name = type(self).__name__
        self.output_padding = as_pair(name, "output_padding", output_padding, 0)
        if any(extra >= s and extra >= d for extra, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(
                f"{name}: output_padding {self.output_padding} must be smaller than the stride {self.stride} "
                f"or the dilation {self.dilation} in each dimension"
            )

    def forward(self, input, output_size=None):
        output_padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return transposed_convolution(self._name(), input, self.weight, self.bias, self.stride, self.padding,
                                      output_padding, 1, self.dilation)

    def _output_padding(self, input, output_size):
        """The output_padding for which the output is ``output_size`` (H, W), or (N, C, H, W) as PyTorch allows."""
        requested = tuple(output_size)[-2:]
        smallest = tuple(
            (size - 1) * s - 2 * p + d * (k - 1) + 1
            for size, s, p, d, k in zip(input.shape[-2:], self.stride, self.padding, self.dilation, self.kernel_size)
        )
        largest = tuple(low + max(s, d) - 1 for low, s, d in zip(smallest, self.stride, self.dilation))
        if len(requested) != 2 or not all(low <= size <= high for size, low, high in zip(requested, smallest, largest)):
            raise ValueError(
                f"{self._name()}: requested output_size {tuple(output_size)}, but for an input of shape "
                f"{input.shape} the reachable sizes run from {smallest} to {largest}"
            )
        return tuple(size - low for size, low in zip(requested, smallest))
