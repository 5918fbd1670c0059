"""Activations written as compositions of differentiable ops (where, elu, softplus, tanh, sigmoid ...), so their
first and second derivatives come from those ops: relu6, hardtanh, hardsigmoid, hardswish, selu, celu, mish,
softsign, glu, prelu, threshold.

At a kink each takes PyTorch's subgradient: hardtanh, relu6, hardsigmoid and threshold have gradient 0 at their
bounds (``where`` on strict comparisons gives the constant branch there), hardswish 0 at -3 and 1 at 3, prelu the
weight at 0. See docs/derivations/activations.md. Tests: tests/test_composed_activation.py.
"""
from tinygen.ops import checks
from tinygen.ops.elementwise import abs, elu, sigmoid, softplus, tanh, where

__all__ = ["celu", "glu", "hardsigmoid", "hardswish", "hardtanh", "mish", "prelu", "relu6", "selu", "softsign",
           "threshold"]

#: SELU's constants (Klambauer et al., 2017), as PyTorch's
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min_val if x <= min_val, max_val if x >= max_val, else x.   d/dx = 1 strictly inside, else 0 (bounds too)."""
    min_val = checks.real_number("hardtanh", "min_val", min_val)
    max_val = checks.real_number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val must not exceed max_val, got min_val={min_val}, max_val={max_val}")
    input = checks.float_input("hardtanh", input)
    return where(input <= min_val, min_val, where(input >= max_val, max_val, input))


def relu6(input, inplace=False):
    """min(max(x, 0), 6) = hardtanh(x, 0, 6).   d/dx = 1 for 0 < x < 6, else 0."""
    return hardtanh(checks.float_input("relu6", input), 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    """0 if x <= -3, 1 if x >= 3, else x / 6 + 1/2.   d/dx = 1/6 for -3 < x < 3, else 0."""
    input = checks.float_input("hardsigmoid", input)
    return where(input <= -3.0, 0.0, where(input >= 3.0, 1.0, input / 6.0 + 0.5))


def hardswish(input, inplace=False):
    """x hardsigmoid(x).   d/dx = hardsigmoid(x) + x hardsigmoid'(x): 0 for x <= -3, x / 3 + 1/2 inside, 1 for
    x >= 3."""
    input = checks.float_input("hardswish", input)
    return input * hardsigmoid(input)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with PyTorch's constants: scale x for x > 0, scale alpha (exp(x) - 1) else."""
    return SELU_SCALE * elu(checks.float_input("selu", input), SELU_ALPHA)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)) = alpha * elu(x / alpha).   d/dx = 1 for x > 0, else
    exp(x / alpha)."""
    alpha = checks.real_number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (x / alpha), got 0")
    return alpha * elu(checks.float_input("celu", input) / alpha)


def mish(input, inplace=False):
    """x tanh(softplus(x)) (Misra, 2019), as a product of ops."""
    input = checks.float_input("mish", input)
    return input * tanh(softplus(input))


def softsign(input):
    """x / (1 + |x|).   d/dx = 1 / (1 + |x|)^2."""
    input = checks.float_input("softsign", input)
    return input / (1.0 + abs(input))


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the first and second halves of ``input`` along ``dim`` (which must have an
    even size): a gated linear unit (Dauphin et al., 2017)."""
    input = checks.float_input("glu", input)
    if input.ndim == 0:
        raise ValueError("glu: expected an input with at least 1 dimension, got a 0-d tensor")
    dim = checks.normalize_dim("glu", dim, input.ndim)
    if input.shape[dim] % 2:
        raise ValueError(f"glu: dim {dim} must have an even size (halved into values and gates), got size "
                         f"{input.shape[dim]} in input of shape {tuple(input.shape)}")
    values, gates = input.chunk(2, dim)
    return values * sigmoid(gates)


def prelu(input, weight):
    """x if x > 0 else w * x, with one learnt slope w per channel (dim 1) or one for all.

    input (N, C, *) (or any shape when weight has one entry), weight (C,) or (1,).
    dL/dx = g if x > 0 else w g;  dL/dw = the sum of g x over x <= 0 (per channel).
    """
    input = checks.float_input("prelu", input)
    checks.require_tensor("prelu", weight, "weight")
    if weight.device != input.device:
        raise checks.device_error("prelu", input, weight)
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ValueError(f"prelu: weight must have 1 entry or one per channel (dim 1 of input of shape "
                         f"{tuple(input.shape)}: {channels}), got weight of shape {tuple(weight.shape)}")
    slope = weight.reshape(()) if weight.numel() == 1 else weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, slope * input)


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value.   d/dx = 1 for x > threshold, else 0."""
    threshold = checks.real_number("threshold", "threshold", threshold)
    value = checks.real_number("threshold", "value", value)
    checks.require_tensor("threshold", input)
    return where(input > threshold, input, value)
