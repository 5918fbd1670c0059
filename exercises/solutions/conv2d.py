"""Exercise conv2d: the backward of a 2-D convolution.    Read: docs/derivations/conv.md"""
from tinygen.exercises.given import Conv2dForward
from tinygen.ops.conv import conv2d, conv_transpose2d


def correlate(x, g, geometry):
    """dW[o, c, a, b] = sum over n, i, j of g[n, o, i, j] * x_pad[n, c, i*s + a*d, j*s + b*d]:
    x (N, C, H, W) and g (N, O, Ho, Wo) -> (O, C, kH, kW), for the geometry's kernel (kH, kW), stride s,
    padding p and dilation d (each a (height, width) pair: ``geometry.kernel``, ``.stride``, ``.padding``,
    ``.dilation``).

    This is itself a convolution: read x with its batch and channel dimensions swapped (``x.transpose(0, 1)``
    is (C, N, H, W): C "images" of N channels) and g likewise ((O, N, Ho, Wo): O filters of size Ho x Wo).
    Compare the index pattern with conv2d's,  y[n, o, i, j] = sum w[o, c, a, b] x_pad[n, c, i*s + a*d, j*s + b*d],
    to see which stride and which dilation that convolution needs (they trade places). It may produce a
    few more than kH x kW positions: keep the first ones. Use tinygen ops (``conv2d``, ``transpose``, slicing),
    so the result can be differentiated again.
    """
    # solution: begin
    k_h, k_w = geometry.kernel
    swapped = conv2d(x.transpose(0, 1), g.transpose(0, 1), stride=geometry.dilation, padding=geometry.padding,
                     dilation=geometry.stride)  # (C, O, >= kH, >= kW)
    return swapped[:, :, :k_h, :k_w].transpose(0, 1)
    # solution: end


class Conv2d(Conv2dForward):
    """y[n, o, i, j] = sum over c, a, b of w[o, c, a, b] * x_pad[n, c, i*s + a*d, j*s + b*d] + bias[o]
    x (N, C, H, W), w (O, C, kH, kW), optional bias (O,) -> y (N, O, Ho, Wo),  Ho = floor((H + 2p - d(kH-1) - 1)/s) + 1.

    The forward is given (tinygen's own, by im2col and one matrix product). ``self.saved_inputs`` gives
    (x, w) or (x, w, bias) as Tensors; ``self.geometry`` has the kernel, stride, padding and dilation as
    (height, width) pairs. ``self.needs_input_grad`` has one flag per input.

    Write ``backward(g)``: g = dL/dy (N, O, Ho, Wo). Return one gradient per input: (dL/dx, dL/dw) or, with a
    bias, (dL/dx, dL/dw, dL/dbias); None for an input that needs none.
      - dL/dbias[o]: each bias[o] is added to every y[:, o]. Which sum is that?
      - dL/dx: every x_pad pixel was multiplied by w[o, c, a, b] into y[n, o, i, j]; sending g back along those
        edges is exactly the transposed convolution: ``conv_transpose2d(g, w, stride=, padding=, dilation=,
        output_padding=)``. A strided convolution maps several input sizes to one output size, so choose
        output_padding to get exactly (H, W) back: conv_transpose2d makes
        (Ho - 1)s - 2p + d(kH - 1) + 1 + output_padding.
      - dL/dw: write ``correlate`` above, then call it.
      - All with tinygen ops: the grader checks second derivatives (a gradient penalty needs them), and then
        conv2d's backward calls conv_transpose2d's and vice versa.
    """

    def backward(self, g):
        # solution: begin
        x, weight = self.saved_inputs[:2]
        geometry = self.geometry
        grad_x = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            made = geometry.transposed_output_size(g.shape[2:], (0, 0))
            extra = tuple(size - length for size, length in zip(x.shape[2:], made))
            grad_x = conv_transpose2d(g, weight, stride=geometry.stride, padding=geometry.padding,
                                      output_padding=extra, dilation=geometry.dilation)
        if self.needs_input_grad[1]:
            grad_weight = correlate(x, g, geometry)
        if len(self.needs_input_grad) == 3 and self.needs_input_grad[2]:
            grad_bias = g.sum(dim=(0, 2, 3))
        return (grad_x, grad_weight, grad_bias)[:len(self.needs_input_grad)]
        # solution: end
