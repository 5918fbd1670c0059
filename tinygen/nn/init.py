"""Parameter initialization, in place, with PyTorch's names and formulas (``torch.nn.init``).

Every function fills ``tensor`` under ``no_grad``, draws from ``generator`` (or the default generator of
the tensor's device) and returns ``tensor``. Scales follow the fan of a weight:

    fan_in  = weight.shape[1] * receptive field      fan_out = weight.shape[0] * receptive field

(receptive field = prod(shape[2:]), 1 for a Linear weight). For a Conv2d weight (C_out, C_in, kH, kW) that
is fan_in = C_in kH kW; for a ConvTranspose2d weight, stored (C_in, C_out, kH, kW), the same rule reads
dims 1 and 0, so its "fan_in" is C_out kH kW, exactly as PyTorch computes it.

    xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming (He):     std = gain / sqrt(fan),  fan = fan_in or fan_out (``mode``)
    uniform variants: U(-bound, bound) with bound = sqrt(3) * std (same variance)

``trunc_normal_`` draws N(mean, std^2) conditioned on [a, b]; ``orthogonal_`` makes the weight, flattened to
(shape[0], rest), a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014). Tests: tests/test_init.py.
"""
import math
import numbers

from tinygen import random as tg_random
from tinygen.autograd.grad_mode import no_grad
from tinygen.tensor import Tensor

__all__ = [
    "calculate_gain", "constant_", "dcgan_init_", "dcgan_weights_init", "kaiming_normal_", "kaiming_uniform_",
    "normal_", "ones_", "orthogonal_", "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

#: The standard deviation the DCGAN paper (Radford et al., 2016) draws its weights with.
DCGAN_STD = 0.02


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through ``nonlinearity`` (PyTorch's table).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  leaky_relu: sqrt(2 / (1 + slope^2)) (slope
    ``param``, default 0.01);  selu: 3/4.
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor, name="init"):
    """(fan_in, fan_out) of a weight with at least 2 dims, as defined in the module docstring."""
    _check_tensor(name, tensor)
    if tensor.ndim < 2:
        raise ValueError(
            f"{name}: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions "
            f"(shape {tensor.shape})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode, name):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, name)
    return fan_in if mode == "fan_in" else fan_out


def _check_tensor(name, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b) (``tinygen.random.uniform_``, also ``Tensor.uniform_``)."""
    _check_tensor("uniform_", tensor)
    return tg_random.uniform_(tensor, a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std^2) (``tinygen.random.normal_``, also ``Tensor.normal_``)."""
    _check_tensor("normal_", tensor)
    return tg_random.normal_(tensor, mean, std, generator)


def constant_(tensor, val):
    """Fill with ``val``."""
    _check_tensor("constant_", tensor)
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is leaky_relu's slope."""
    fan = _fan(tensor, mode, "kaiming_uniform_")
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    fan = _fan(tensor, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with draws from N(mean, std^2) truncated to [a, b] (bounds in values, not in stds, as PyTorch's).

    Rejection: draws outside [a, b] are drawn again until none is left, which gives exactly the truncated
    distribution (PyTorch maps uniforms through the inverse normal CDF: the same distribution, other numbers).
    A mean more than 2 std outside [a, b] is refused (PyTorch warns there that its values may be wrong), as
    few draws would land inside.
    """
    _check_tensor("trunc_normal_", tensor)
    if not a <= b:
        raise ValueError(f"trunc_normal_: expected a <= b, got a={a}, b={b}")
    if std < 0:
        raise ValueError(f"trunc_normal_: std must be non-negative, got {std}")
    if mean < a - 2 * std or mean > b + 2 * std:
        raise ValueError(f"trunc_normal_: mean {mean} is more than 2 std ({std}) outside [a, b] = [{a}, {b}]; "
                         "widen [a, b] or move the mean into it")
    source = tg_random.resolve(generator, tensor.device)

    def draw(dtype):
        values = source.standard_normal(tensor.shape, dtype) * std + mean
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = source.standard_normal((int(outside.sum()),), dtype) * std + mean
            outside = (values < a) | (values > b)
        return values

    return tg_random.fill_with(tensor, draw)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain``, as PyTorch's: Q of the QR decomposition of a Gaussian
    (rows = shape[0], columns = the rest; transposed first if wider than tall), each column of Q multiplied by the
    sign of R's diagonal entry so Q is uniformly (Haar) distributed. Then W W^T = gain^2 I when rows <= columns,
    W^T W = gain^2 I otherwise (W the flattened weight)."""
    _check_tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected a tensor with at least 2 dimensions, got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    columns = tensor.numel() // rows
    source = tg_random.resolve(generator, tensor.device)

    def draw(dtype):
        xp = tensor.backend.xp
        gaussian = source.standard_normal((rows, columns), dtype)
        q, r = xp.linalg.qr(gaussian if rows >= columns else gaussian.T)
        q = q * xp.sign(xp.diagonal(r))
        return gain * (q if rows >= columns else q.T).reshape(tensor.shape)

    return tg_random.fill_with(tensor, draw)


# --- the DCGAN scheme ----------------------------------------------------------------------------------

def _is_convolution(module):
    """Conv1d/2d, ConvTranspose2d ... or a subclass of one, matched by class name as PyTorch's example does, but
    only if it owns a weight: a container named like one (a user's ``ConvBlock`` of layers) is left to its
    children instead of failing on ``module.weight``."""
    named_like_one = any(cls.__name__.startswith("Conv") for cls in type(module).__mro__)
    return named_like_one and module._parameters.get("weight") is not None


def dcgan_weights_init(module, generator=None):
    """The DCGAN paper's initialization of one module (use ``model.apply(dcgan_weights_init)``).

    Convolution, transposed convolution and Linear weights ~ N(0, 0.02^2), their biases 0; batch norm
    weight ~ N(1, 0.02^2), bias 0. PyTorch's DCGAN example applies this to Conv* and BatchNorm* only
    (its networks have no Linear layer); the paper initializes *all* weights from N(0, 0.02^2), so the
    projection layer of a generator (a Linear from the noise vector) gets it here too. Other modules
    are left alone.
    """
    from tinygen.nn.layers.linear import Linear
    from tinygen.nn.layers.normalization import BatchNorm

    if isinstance(module, BatchNorm):
        if module.weight is not None:
            normal_(module.weight, 1.0, DCGAN_STD, generator)
        if module.bias is not None:
            zeros_(module.bias)
    elif isinstance(module, Linear) or _is_convolution(module):
        normal_(module.weight, 0.0, DCGAN_STD, generator)
        if getattr(module, "bias", None) is not None:
            zeros_(module.bias)


def dcgan_init_(module, generator=None):
    """Apply ``dcgan_weights_init`` to ``module`` and every module inside it; returns ``module``."""
    from tinygen.nn.module import Module

    if not isinstance(module, Module):
        raise TypeError(f"dcgan_init_: expected a Module, got {type(module).__name__}")
    return module.apply(lambda child: dcgan_weights_init(child, generator))


def __getattr__(name):  # a PyTorch name tinygen lacks: say so (tinygen/missing_names.py)
    from tinygen import missing_names

    raise missing_names.error("nn.init", name)
