"""Exercise conv_transpose2d: the backward of a transposed convolution.
Read: docs/derivations/conv-transpose.md (and do the conv2d exercise first)"""
from tinygen.exercises.given import ConvTranspose2dForward
from tinygen.ops.conv import conv2d


def correlate(x, g, geometry):
    """The same correlation as in your conv2d exercise: dW[o, c, a, b] = sum over n, i, j of
    g[n, o, i, j] * x_pad[n, c, i*s + a*d, j*s + b*d] for x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C, kH, kW).
    Copy your version here."""
    raise NotImplementedError("correlate: not written yet (read its docstring)")


class ConvTranspose2d(ConvTranspose2dForward):
    """y = conv_transpose2d(x, w) + bias: the adjoint of conv2d. x (N, Ci, H, W), w (Ci, Co, kH, kW) (note the
    layout: input channels first), optional bias (Co,) -> y (N, Co, Hout, Wout) with
    Hout = (H - 1)s - 2p + d(kH - 1) + output_padding + 1. Every x[n, ci, i, j] is spread, weighted by
    w[ci, co, a, b], onto y_pad[n, co, i*s + a*d, j*s + b*d]: the reverse of conv2d's windows.

    The forward is given (tinygen's own). ``self.saved_inputs`` gives (x, w) or (x, w, bias);
    ``self.geometry`` has the kernel, stride, padding and dilation as (height, width) pairs.

    Write ``backward(g)``: g = dL/dy (N, Co, Hout, Wout). Return (dL/dx, dL/dw) or (dL/dx, dL/dw, dL/dbias).
      - dL/dx: the adjoint of an adjoint is the original map: conv2d(g, w) with the same stride, padding and
        dilation. Check that it has exactly x's shape.
      - dL/dw[ci, co, a, b] = sum over n, i, j of x[n, ci, i, j] * g_pad[n, co, i*s + a*d, j*s + b*d]: the
        correlation of conv2d's weight gradient with the roles of the two arguments exchanged.
      - dL/dbias: as for conv2d. Use tinygen ops only (second derivatives are checked).
    """

    def backward(self, g):
        raise NotImplementedError("ConvTranspose2d.backward: not written yet (read its docstring)")
