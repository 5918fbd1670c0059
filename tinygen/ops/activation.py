"""Activations that mix entries (softmax, log_softmax), logsigmoid, silu, gelu, and the fully connected layer
``linear``.

The elementwise activations (relu, leaky_relu, tanh, sigmoid, elu, softplus) live in ``elementwise``.
Every backward here is written with differentiable tensor ops, so second derivatives (a WGAN-GP gradient
penalty) go through them. See docs/derivations/activations.md.
Tests: tests/test_activation.py (softmax, log_softmax, logsigmoid), tests/test_gelu.py, tests/test_linear.py (linear).
"""
import math

from tinygen.autograd.function import Function
from tinygen.backend.dtypes import is_floating
from tinygen.ops import checks, reduction
from tinygen.ops.elementwise import exp, sigmoid, tanh
from tinygen.ops.linalg import matmul
from tinygen.ops.reduction import shift_for_exp
from tinygen.ops.shape import reshape
from tinygen.ops.special import erf

__all__ = ["gelu", "linear", "log_softmax", "logsigmoid", "silu", "softmax"]


class Softmax(Function):
    """y = exp(x - max) / sum exp(x - max) along ``dim``.   dL/dx = y * (g - sum(g * y, dim))."""

    save_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = self.backend.xp
        # the largest entry becomes 0: exp never overflows (asarray: a 0-d difference is a scalar, out= needs an array)
        shifted = xp.asarray(x - shift_for_exp(xp, x, self.dim))
        y = xp.exp(shifted, out=shifted)
        y /= y.sum(axis=self.dim, keepdims=True)
        return y

    def backward(self, g):
        y = self.saved_output
        return y * (g - reduction.sum(g * y, self.dim, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``dim`` (no overflow, no log 0).   dL/dx = g - exp(y) * sum(g, dim)."""

    save_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = self.backend.xp
        shifted = x - shift_for_exp(xp, x, self.dim)
        log_normalizer = xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        shifted -= log_normalizer
        return shifted

    def backward(self, g):
        return g - exp(self.saved_output) * reduction.sum(g, self.dim, keepdim=True)


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x) = min(x, 0) - log(1 + exp(-|x|)).   dL/dx = g * sigmoid(-x)."""

    save_inputs = True

    def forward(self, x):
        xp = self.backend.xp
        return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_inputs
        return g * sigmoid(-x)


class Linear(Function):
    """y = x W^T + b for x (*, in), W (out, in), b (out,): one matrix product for all leading dims.

    dL/dx = g W,   dL/dW = g^T x (leading dims flattened),   dL/db = g summed over leading dims.
    Only x and W are needed by the backward; no intermediate result is kept.
    """

    save_inputs = True

    def forward(self, x, weight, bias=None):
        rows = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        y = rows @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        x, weight = self.saved_inputs[:2]
        rows = math.prod(x.shape[:-1])
        grad_rows = reshape(g, (rows, weight.shape[0]))
        grad_x = matmul(g, weight) if self.needs_input_grad[0] else None
        grad_weight = matmul(grad_rows.mT, reshape(x, (rows, weight.shape[1]))) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_weight
        grad_bias = reduction.sum(grad_rows, 0) if self.needs_input_grad[2] else None
        return grad_x, grad_weight, grad_bias


# --- public functions ----------------------------------------------------------------------------------

def _softmax_input(name, input, dim, dtype):
    if dim is None:
        raise TypeError(f"{name}: pass dim, the dimension whose entries become a probability vector (PyTorch "
                        "guesses one when it is left out, with a deprecation warning; tinygen asks)")
    return checks.float_input(name, checks.cast_to(name, input, dtype))


def softmax(input, dim=None, *, dtype=None):
    """exp(x) / sum exp(x) along ``dim``: each slice becomes a probability vector. ``dtype`` casts x first."""
    input = _softmax_input("softmax", input, dim, dtype)
    return Softmax(checks.normalize_dim("softmax", dim, input.ndim))(input)


def log_softmax(input, dim=None, *, dtype=None):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x): finite even for huge logits."""
    input = _softmax_input("log_softmax", input, dim, dtype)
    return LogSoftmax(checks.normalize_dim("log_softmax", dim, input.ndim))(input)


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), stable for large |x| (the log-likelihood term of a logistic loss)."""
    return LogSigmoid()(checks.float_input("logsigmoid", input))


def silu(input, inplace=False):
    """x sigmoid(x) (swish), as a product of two ops: d/dx = sigmoid(x) (1 + x (1 - sigmoid(x))). ``inplace`` is
    accepted and, as for every activation here, the result is a new tensor."""
    input = checks.float_input("silu", input)
    return input * sigmoid(input)


def gelu(input, approximate="none"):
    """x Phi(x), Phi the standard normal CDF (PyTorch's ``F.gelu``), as products of ops, so every derivative follows:

        approximate="none":  0.5 x (1 + erf(x / sqrt(2)))      d/dx = Phi(x) + x exp(-x^2 / 2) / sqrt(2 pi)
        approximate="tanh":  0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
    """
    input = checks.float_input("gelu", input)
    if approximate == "none":
        return input * 0.5 * (1.0 + erf(input * math.sqrt(0.5)))
    if approximate == "tanh":
        return input * 0.5 * (1.0 + tanh(math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def linear(input, weight, bias=None):
    """The fully connected layer: y = input @ weight.T + bias.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,) or None;
    y (*, out_features).
    """
    checks.require_tensor("linear", input)
    checks.require_tensor("linear", weight, "weight")
    operands = [input, weight] + ([checks.require_tensor("linear", bias, "bias")] if bias is not None else [])
    if not is_floating(input.dtype):
        raise TypeError(
            f"linear: expected a floating-point input, got dtype {input.dtype}; convert it first, "
            f"e.g. input.to(tinygen.{weight.dtype})"
        )
    for name, tensor in zip(("input", "weight", "bias"), operands):
        if tensor.dtype != input.dtype:
            raise TypeError(
                f"linear: expected input, weight and bias of one floating dtype, got {name} of dtype {tensor.dtype} "
                f"with input of dtype {input.dtype}; convert them first, e.g. input.to(weight.dtype)"
            )
        if tensor.backend is not input.backend:
            raise checks.device_error("linear", input, tensor)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not fit weight of shape {weight.shape}: "
            f"expected input (*, {weight.shape[1]}) (its last size must be in_features = weight.shape[1])"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({weight.shape[0]},) (out_features), got {bias.shape}"
        )
    return Linear()(*operands)
