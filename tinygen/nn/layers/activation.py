"""Activation layers: each wraps the function of the same name (``ReLU()(x)`` is ``F.relu(x)``).

``inplace`` is accepted where PyTorch has it, so models written for PyTorch (``nn.ReLU(True)``) build
unchanged; tinygen always returns a new tensor, which gives the same values.
"""
from tinygen.nn import init as nn_init
from tinygen.nn.module import Module, check_size, zeros_parameter
from tinygen.ops import composed_activation as composed
from tinygen.ops.activation import gelu, log_softmax, logsigmoid, silu, softmax
from tinygen.ops.elementwise import elu, leaky_relu, relu, sigmoid, softplus, tanh

__all__ = ["CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU", "LogSigmoid",
           "LogSoftmax", "Mish", "PReLU", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softmax", "Softplus",
           "Softsign", "Tanh", "Threshold"]


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


class _Pointwise(Module):
    """A layer applying ``function(input)``, with PyTorch's ``inplace`` flag where it has one."""

    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input)

    def extra_repr(self):
        return _describe(inplace=self.inplace)


class ReLU6(_Pointwise):
    """min(max(x, 0), 6); see ``F.relu6``."""

    function = staticmethod(composed.relu6)


class SELU(_Pointwise):
    """scale * elu(x, alpha) with fixed constants; see ``F.selu``."""

    function = staticmethod(composed.selu)


class Mish(_Pointwise):
    """x tanh(softplus(x)); see ``F.mish``."""

    function = staticmethod(composed.mish)


class Hardswish(_Pointwise):
    """x hardsigmoid(x); see ``F.hardswish``."""

    function = staticmethod(composed.hardswish)


class Hardsigmoid(_Pointwise):
    """clamp(x / 6 + 1/2, 0, 1); see ``F.hardsigmoid``."""

    function = staticmethod(composed.hardsigmoid)


class LogSigmoid(Module):
    """log sigmoid(x) = -softplus(-x), stable for large |x|; see ``F.logsigmoid``."""

    def forward(self, input):
        return logsigmoid(input)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input):
        return composed.softsign(input)


class Hardtanh(Module):
    """x clamped to [min_val, max_val], with gradient 0 at the bounds; see ``F.hardtanh``."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return composed.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return _describe(f"min_val={self.min_val}, max_val={self.max_val}", inplace=self.inplace)


class CELU(Module):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)); see ``F.celu``."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return composed.celu(input, self.alpha)

    def extra_repr(self):
        return _describe(f"alpha={self.alpha}", inplace=self.inplace)


class Threshold(Module):
    """x if x > threshold else value; see ``F.threshold``."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return composed.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return _describe(f"threshold={self.threshold}, value={self.value}", inplace=self.inplace)


class GLU(_AlongDim):
    """a * sigmoid(b) for the two halves a, b of the input along ``dim``; see ``F.glu``."""

    function = staticmethod(composed.glu)

    def __init__(self, dim=-1):
        super().__init__(dim)


class PReLU(Module):
    """x if x > 0 else a * x, with a learnt slope ``a``: one for all channels, or one per channel (dim 1) when
    ``num_parameters`` = C. The weight starts at ``init`` everywhere, as PyTorch's."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = check_size("PReLU", "num_parameters", num_parameters), init
        self.weight = zeros_parameter((num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        nn_init.constant_(self.weight, self.init)

    def forward(self, input):
        return composed.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
