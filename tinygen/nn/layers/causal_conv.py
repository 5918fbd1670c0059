"""``CausalConv2d``: the masked convolution of PixelCNN (van den Oord et al. 2016), the building block of an
autoregressive image model p(x) = prod_i p(x_i | x_1 ... x_{i-1}), pixels in raster order (row by row, left to
right).

Output pixel (r, c) sees only the input pixels before it: the rows above and, in its own row, the pixels to its
left (and pixel (r, c) itself with ``include_center=True``, PixelCNN's mask "B"; without it, mask "A", the one
for a network's first layer, which sees the image itself). For a 5x5 kernel, mask "A":

    1 1 1 1 1
    1 1 1 1 1
    1 1 0 0 0
    0 0 0 0 0
    0 0 0 0 0

forward: conv2d(x, weight * mask, bias), stride 1, padding k // 2 (the output has the input's size);
backward: the convolution's, and d(weight * mask)/d weight = mask, so dL/dweight = mask * conv2d's weight gradient
(the masked entries get no gradient and stay 0 from the start).
"""
from tinygen.autograd.grad_mode import no_grad
from tinygen.creation import ones
from tinygen.nn.layers.conv import Conv2d
from tinygen.ops.conv import convolution

__all__ = ["CausalConv2d"]


def causal_mask(kernel_size, include_center, dtype=None, device=None):
    """(k, k) ones at the offsets a pixel may see: the rows above the centre, and the centre row to its left
    (centre included with ``include_center``); zeros elsewhere."""
    mask = ones(kernel_size, kernel_size, dtype=dtype, device=device)
    center = kernel_size // 2
    mask[center, center + int(include_center):] = 0.0
    mask[center + 1:] = 0.0
    return mask


class CausalConv2d(Conv2d):
    """A 2-D convolution, (N, in, H, W) -> (N, out, H, W), whose output pixel (r, c) depends only on the input
    pixels before it in raster order (with ``include_center``, also on pixel (r, c)): ``weight`` (out, in, k, k)
    times a fixed ``mask`` (k, k), for odd k, stride 1, padding k // 2."""

    def __init__(self, in_channels, out_channels, kernel_size, include_center=False, bias=True, device=None,
                 dtype=None):
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"CausalConv2d: kernel_size must be an odd positive int (the centre is the pixel being "
                             f"predicted), got {kernel_size!r}")
        if not isinstance(include_center, bool):
            raise TypeError(f"CausalConv2d: include_center must be True or False, got {include_center!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias, device=device,
                         dtype=dtype)
        self.include_center = include_center
        self.register_buffer("mask", causal_mask(kernel_size, include_center, self.weight.dtype, self.weight.device),
                             persistent=False)
        self._zero_the_masked_weights()

    def reset_parameters(self):
        """Conv2d's init, then (once the mask exists) the masked entries set to 0: the weight shows the kernel that
        is applied."""
        super().reset_parameters()
        if "mask" in self._buffers:
            self._zero_the_masked_weights()

    def _zero_the_masked_weights(self):
        with no_grad():
            self.weight.mul_(self.mask)

    def forward(self, input):
        return convolution(self._name(), input, self.weight * self.mask, self.bias, self.stride, self.padding,
                           self.dilation, 1)

    def extra_repr(self):
        return f"{super().extra_repr()}, include_center={self.include_center}"
