"""Activation layers: each wraps the function of the same name (``ReLU()(x)`` is ``F.relu(x)``).

``inplace`` is accepted where PyTorch has it, so models written for PyTorch (``nn.ReLU(True)``) build
unchanged; tinygen always returns a new tensor, which gives the same values.
"""
from tinygen.nn.module import Module
from tinygen.ops.activation import gelu, log_softmax, silu, softmax
from tinygen.ops.elementwise import elu, leaky_relu, relu, sigmoid, softplus, tanh

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax", "Softplus", "Tanh"]


def _describe(*settings, inplace=False):
    """PyTorch's extra_repr for activations: the settings, then ``inplace=True`` if it was asked for."""
    return ", ".join(settings + (("inplace=True",) if inplace else ()))


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return relu(input)

    def extra_repr(self):
        return _describe(inplace=self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return _describe(f"negative_slope={self.negative_slope}", inplace=self.inplace)


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return elu(input, self.alpha)

    def extra_repr(self):
        return _describe(f"alpha={self.alpha}", inplace=self.inplace)


class GELU(Module):
    """x Phi(x) (Phi the standard normal CDF), exactly or, with approximate='tanh', by tanh (see ``F.gelu``)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    def forward(self, input):
        return tanh(input)


class Sigmoid(Module):
    def forward(self, input):
        return sigmoid(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _AlongDim(Module):
    """A layer applying ``function(input, dim)``."""

    function = None

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self).function(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """softmax along ``dim`` (required: PyTorch's implicit choice of dim is deprecated)."""

    function = staticmethod(softmax)


class LogSoftmax(_AlongDim):
    """log_softmax along ``dim``."""

    function = staticmethod(log_softmax)


class SiLU(Module):
    """x sigmoid(x) (also called swish); see ``F.silu``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return silu(input)

    def extra_repr(self):
        return _describe(inplace=self.inplace)
