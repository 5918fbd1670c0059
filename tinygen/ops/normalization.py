"""Batch, layer, group and instance normalization: standardize over some dims, then scale and shift.

The four differ only in the dims that share one mean and variance (``standardize``): batch norm each channel
over the batch and positions, layer norm each sample over its last dims, group norm each sample's group of
channels, instance norm each sample's channel over its positions. Batch norm, which trains most of
tinygen's models, has a fused forward and backward; the other three are ``standardize`` in tensor ops,
differentiated (twice too) by autograd.

Batch norm, for x of shape (N, C, *) and each channel c, over its M = N * prod(*) values:

    mean, var = the batch mean and (biased) variance        invstd = 1 / sqrt(var + eps)
    xhat = (x - mean) * invstd                              y = gamma * xhat + beta

Backward (per channel; sums run over the channel's M values):

    dL/dbeta = sum(g)      dL/dgamma = sum(g * xhat)
    dL/dx = (gamma * invstd / M) * (M * g - sum(g) - xhat * sum(g * xhat))

Two forms of the backward, tested equal (values and gradients) in tests/test_normalization.py:
``backward_reference`` is the formula above in differentiable tensor ops, as the derivation reads; it runs when the
backward is recorded (``create_graph=True``), so batch norm can be differentiated twice. ``_fused_backward`` is the
same formula on raw arrays, in place, with BLAS sums and no graph: several times faster, so it runs in a plain
``backward()``, i.e. every training step. ``batch_norm_reference`` is the forward as its definition reads,
the reference for the fused forward of ``BatchNormTraining``.

See docs/derivations/batch-norm.md and layer-norm.md. Tests: tests/test_normalization.py,
tests/test_layer_group_instance_norm.py.
"""
import math

from tinygen.autograd import versions
from tinygen.autograd.function import Function
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend.dtypes import is_floating
from tinygen.ops import checks, reduction
from tinygen.ops.shape import reshape
from tinygen.tensor import Tensor

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm"]


def _channel_axes(ndim):
    """The dims batch norm reduces over: all but the channel dim 1."""
    return (0,) + tuple(range(2, ndim))


def _channel_sums(xp, rows, channels):
    """Per-channel sums (C,) of a raw array laid out as rows (N, C * M): one row per sample.

    A matrix-vector product sums over the batch (BLAS does this several times faster than NumPy's reduction
    over the non-adjacent axes (0, 2, 3)), then each channel's M positions are added up.
    """
    per_position = xp.ones(rows.shape[0], dtype=rows.dtype) @ rows
    return per_position.reshape(channels, -1).sum(axis=1)


def _channel_dots(xp, rows, other_rows, channels):
    """Per-channel sums (C,) of ``rows * other_rows`` (both (N, C * M)), without making that product."""
    per_position = xp.einsum("nk,nk->k", rows, other_rows)
    return per_position.reshape(channels, -1).sum(axis=1)


def _spread(xp, per_channel, rows):
    """(C,) values repeated over each channel's M positions -> (C * M,), to broadcast against ``rows``.

    Broadcasting a (1, C, 1, 1) array instead would make NumPy loop over short inner runs of H * W values.
    """
    positions = rows.shape[1] // per_channel.shape[0]
    return per_channel if positions == 1 else xp.repeat(per_channel, positions)


def _per_channel(vector, ndim):
    """A (C,) vector shaped (1, C, 1, ...) so it broadcasts against an input of ``ndim`` dims."""
    return reshape(vector, (1, -1) + (1,) * (ndim - 2))


class BatchNormTraining(Function):
    """y = gamma * (x - mean) * invstd + beta with the batch's own statistics; inputs (x[, gamma][, beta]).

    The forward makes one output array in place, with BLAS sums (``batch_norm_reference`` is the plain version).
    Backward: ``_fused_backward`` (raw arrays, in place) in a plain backward; ``backward_reference`` (tensor ops,
    differentiable) when the backward is itself recorded (``create_graph=True``, e.g. a gradient penalty).
    """

    save_inputs = True

    def __init__(self, eps, has_weight, has_bias):
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias

    def forward(self, x, *affine):
        xp = self.backend.xp
        channels = x.shape[1]
        rows = x.reshape(x.shape[0], -1)
        count = x.size // channels
        self.mean = _channel_sums(xp, rows, channels) * (1.0 / count)
        output = xp.empty(x.shape, dtype=x.dtype)
        centered = output.reshape(rows.shape)  # a view: the output is filled in place, row by row
        xp.subtract(rows, _spread(xp, self.mean, rows), out=centered)
        self.var = _channel_dots(xp, centered, centered, channels) * (1.0 / count)
        self.invstd = 1.0 / xp.sqrt(self.var + self.eps)
        scale = self.invstd * affine[0] if self.has_weight else self.invstd
        centered *= _spread(xp, scale, rows)
        if self.has_bias:
            centered += _spread(xp, affine[-1], rows)
        return output

    def backward(self, g):
        x = self.saved_inputs[0]
        weight = self.saved_inputs[1] if self.has_weight else None
        if is_grad_enabled():
            grad_x, grad_weight, grad_bias = backward_reference(g, x, weight, self.eps)
        else:
            grad_x, grad_weight, grad_bias = _fused_backward(g, x, weight, self.mean, self.invstd,
                                                             self.needs_input_grad[0])
        return (grad_x,) + ((grad_weight,) if self.has_weight else ()) + ((grad_bias,) if self.has_bias else ())


def _fused_backward(g, x, weight, batch_mean, invstd, need_input_grad):
    """``backward_reference``'s three gradients on raw arrays, returned as constant tensors (nothing recorded):
    the per-channel sums by BLAS, dL/dx built in place in one output array."""
    xp, channels = g.backend.xp, x.shape[1]
    g_rows = g.array.reshape(x.shape[0], -1)
    count = g_rows.size // channels
    grad_x = xp.empty(x.shape, dtype=x.dtype)
    centered = grad_x.reshape(g_rows.shape)  # a view of grad_x's memory
    xp.subtract(x.array.reshape(g_rows.shape), _spread(xp, batch_mean, g_rows), out=centered)
    grad_bias = _channel_sums(xp, g_rows, channels)
    grad_weight = _channel_dots(xp, g_rows, centered, channels) * invstd  # sum(g * xhat)
    if need_input_grad:
        # dL/dx = scale * (g - mean(g) - xhat * mean(g * xhat)), where xhat * mean(g * xhat) is
        # centered * (invstd * grad_weight / M); built in place in grad_x's memory
        scale = invstd if weight is None else invstd * weight.array
        centered *= _spread(xp, grad_weight * invstd * (-1.0 / count), g_rows)
        centered += g_rows
        centered -= _spread(xp, grad_bias * (1.0 / count), g_rows)
        centered *= _spread(xp, scale, g_rows)
    input_grad = Tensor._make(grad_x, g.backend) if need_input_grad else None
    return input_grad, Tensor._make(grad_weight, g.backend), Tensor._make(grad_bias, g.backend)


def backward_reference(g, x, weight, eps):
    """The closed form, term by term as derived, in differentiable tensor ops (xhat and invstd recomputed from x):
    dL/dbeta = sum(g),  dL/dgamma = sum(g * xhat),  dL/dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))."""
    axes = _channel_axes(x.ndim)
    centered = x - reduction.mean(x, axes, keepdim=True)
    invstd = (reduction.var(x, axes, unbiased=False, keepdim=True) + eps) ** -0.5
    xhat = centered * invstd
    grad_bias = reduction.sum(g, axes, keepdim=True)
    grad_weight = reduction.sum(g * xhat, axes, keepdim=True)
    count = x.numel() // x.shape[1]
    scale = invstd if weight is None else invstd * _per_channel(weight, x.ndim)
    grad_x = (g - (grad_bias + xhat * grad_weight) * (1.0 / count)) * scale
    flat = (x.shape[1],)
    return grad_x, reshape(grad_weight, flat), reshape(grad_bias, flat)


def standardize(x, dims, eps):
    """xhat = (x - mean) / sqrt(var + eps), the mean and the (biased) variance taken over ``dims``, in tensor ops.

    Autograd derives dL/dx = invstd * (h - mean(h) - xhat * mean(h * xhat)), h = dL/dxhat, means over ``dims``
    (docs/derivations/layer-norm.md), and the second derivative: what layer, group and instance norm use.
    """
    centered = x - reduction.mean(x, dims, keepdim=True)
    variance = reduction.mean(centered * centered, dims, keepdim=True)
    return centered * (variance + eps) ** -0.5


def _scale_and_shift(xhat, weight, bias, per_channel):
    """y = weight * xhat + bias, each optional: (C,) vectors along dim 1 if ``per_channel``, else tensors of
    xhat's trailing shape (layer norm's normalized_shape). dL/dweight = sum(g * xhat), dL/dbias = sum(g)."""
    if weight is not None:
        xhat = xhat * (_per_channel(weight, xhat.ndim) if per_channel else weight)
    if bias is not None:
        xhat = xhat + (_per_channel(bias, xhat.ndim) if per_channel else bias)
    return xhat


def batch_norm_reference(input, weight=None, bias=None, eps=1e-5):
    """Training-mode batch norm as its definition reads, in differentiable tensor ops (autograd derives the
    backward): xhat = (x - mean) / sqrt(var + eps) per channel, y = gamma * xhat + beta. The reference that
    ``batch_norm(..., training=True)`` is tested against; it does not update running statistics."""
    return _scale_and_shift(standardize(input, _channel_axes(input.ndim), eps), weight, bias, per_channel=True)


# --- checks ---------------------------------------------------------------------------------------------

def _check_float_input(op, input):
    checks.require_tensor(op, input)
    if not is_floating(input.dtype):
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")


def _check_channels_input(op, input):
    """A floating-point input of shape (N, C, *)."""
    _check_float_input(op, input)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *) with at least 2 dims, got shape {input.shape}")


def _check_like_input(op, name, tensor, x, shape, meaning=None):
    """``tensor`` (a weight, bias or running statistic; None is fine) has ``shape``, x's dtype and x's device;
    ``meaning`` says what the shape is (by default, one value per channel)."""
    if tensor is None:
        return
    checks.require_tensor(op, tensor, name)
    if tensor.shape != shape:
        meaning = meaning or f"one value per channel of the input (shape {x.shape}, channels on dim 1)"
        raise ValueError(f"{op}: {name} must have shape {shape}, {meaning}, got shape {tensor.shape}")
    if tensor.dtype != x.dtype:
        raise TypeError(f"{op}: {name} has dtype {tensor.dtype} but the input has dtype {x.dtype}; they must match")
    if tensor.backend is not x.backend:
        raise checks.device_error(op, x, tensor)


def _check_channel_vectors(op, x, **vectors):
    for name, tensor in vectors.items():
        _check_like_input(op, name, tensor, x, (x.shape[1],))


def normalized_shape_tuple(op, normalized_shape):
    """Layer norm's ``normalized_shape``: an int or a non-empty sequence of ints, returned as a tuple."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    if not isinstance(shape, (tuple, list)) or not all(isinstance(extent, int) for extent in shape):
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    if not shape or min(shape) < 0:
        raise ValueError(f"{op}: normalized_shape must be one or more non-negative ints, got {normalized_shape!r}")
    return tuple(shape)


# --- public functions ----------------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization of ``input`` (N, C), (N, C, L) or (N, C, H, W) per channel (dim 1).

    ``training=True``: normalize with the batch's statistics and, if given, update the running statistics
    in place (PyTorch's rule: running = (1 - momentum) * running + momentum * batch, with the unbiased
    batch variance). ``training=False``: normalize with ``running_mean`` and ``running_var``.
    ``weight`` (gamma) and ``bias`` (beta) of shape (C,) are optional.
    """
    _check_channels_input("batch_norm", input)
    _check_channel_vectors("batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight,
                           bias=bias)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean and running_var")
        return _normalize_with_running_stats(input, running_mean, running_var, weight, bias, eps)
    count = input.numel() // input.shape[1]
    if count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of shape {input.shape}"
        )
    op = BatchNormTraining(eps, weight is not None, bias is not None)
    output = op(input, *[tensor for tensor in (weight, bias) if tensor is not None])
    _update_running_stats(running_mean, running_var, op.mean, op.var, count, momentum)
    return output


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization: each sample standardized over its last ``len(normalized_shape)`` dims, which must be
    ``normalized_shape``; then y = weight * xhat + bias, weight and bias (optional) of shape normalized_shape.

    Backward: dL/dx = invstd * (h - mean(h) - xhat * mean(h * xhat)), h = weight * g, means over the normalized
    dims; dL/dweight = sum(g * xhat), dL/dbias = sum(g) over the leading dims (``standardize``).
    """
    _check_float_input("layer_norm", input)
    shape = normalized_shape_tuple("layer_norm", normalized_shape)
    first = input.ndim - len(shape)
    if first < 0 or input.shape[first:] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the input's last {len(shape)} dims, "
                         f"got input of shape {input.shape}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        _check_like_input("layer_norm", name, tensor, input, shape, "the normalized_shape")
    xhat = standardize(input, tuple(range(first, input.ndim)), eps)
    return _scale_and_shift(xhat, weight, bias, per_channel=False)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization of ``input`` (N, C, *): its C channels split into ``num_groups`` groups of consecutive
    channels, each sample's group standardized over its channels and positions; then y = weight * xhat + bias
    per channel, weight and bias (optional) of shape (C,). Backward: ``layer_norm``'s, means over a group.
    """
    _check_channels_input("group_norm", input)
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
        raise ValueError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    if channels % num_groups:
        raise ValueError(f"group_norm: the input's {channels} channels (dim 1 of shape {input.shape}) do not split "
                         f"into num_groups={num_groups} equal groups")
    _check_channel_vectors("group_norm", input, weight=weight, bias=bias)
    group_size = channels // num_groups * math.prod(input.shape[2:])
    grouped = reshape(input, (input.shape[0], num_groups, group_size))
    xhat = reshape(standardize(grouped, (2,), eps), input.shape)
    return _scale_and_shift(xhat, weight, bias, per_channel=True)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalization of ``input`` (N, C, *): each sample's channel standardized over its own positions;
    then y = weight * xhat + bias per channel, weight and bias (optional) of shape (C,).

    ``use_input_stats=True``: each instance's statistics (backward: ``layer_norm``'s, means over the positions);
    the running statistics, if given, are updated in place with their average over the batch (PyTorch's rule,
    unbiased variances, as ``batch_norm``). ``False``: ``running_mean`` and ``running_var`` normalize.
    """
    _check_channels_input("instance_norm", input)
    _check_channel_vectors("instance_norm", input, running_mean=running_mean, running_var=running_var,
                           weight=weight, bias=bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return _normalize_with_running_stats(input, running_mean, running_var, weight, bias, eps)
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 position per channel when using the input's "
                         f"statistics, got input of shape {input.shape}")
    dims = tuple(range(2, input.ndim))
    if running_mean is not None or running_var is not None:
        _update_running_stats(running_mean, running_var, *_average_instance_stats(input, dims), count, momentum)
    return _scale_and_shift(standardize(input, dims, eps), weight, bias, per_channel=True)


def _average_instance_stats(x, dims):
    """Each channel's mean over the batch of the instances' means and (biased) variances, as raw (C,) arrays."""
    values = x.detach()
    means, variances = reduction.mean(values, dims), reduction.var(values, dims, unbiased=False)
    return reduction.mean(means, 0).array, reduction.mean(variances, 0).array


def _normalize_with_running_stats(x, running_mean, running_var, weight, bias, eps):
    """y = x * scale + shift per channel, scale = gamma / sqrt(running_var + eps), shift = beta - mean * scale.
    Where no graph is recorded (sampling in eval mode), ``_scale_and_shift_rows`` does the same in one pass."""
    invstd = (running_var.detach() + eps) ** -0.5
    scale = invstd if weight is None else weight * invstd
    shift = -running_mean.detach() * scale
    if bias is not None:
        shift = shift + bias
    if not (is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, weight, bias))):
        return _scale_and_shift_rows(x, scale, shift)
    return x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)


def _scale_and_shift_rows(x, scale, shift):
    """x * scale + shift per channel on the raw arrays, without a graph: one new array, shifted in place, with x as
    rows (N, C * M) against ``_spread`` vectors (C * M,)."""
    xp, positions = x.backend.xp, math.prod(x.shape[2:])
    rows = x.array.reshape(x.shape[0], x.shape[1] * positions)
    output = rows * _spread(xp, scale.array, rows)
    output += _spread(xp, shift.array, rows)
    return Tensor._make(output.reshape(x.shape), x.backend)


def _update_running_stats(running_mean, running_var, batch_mean, batch_var, count, momentum):
    """running = (1 - momentum) * running + momentum * batch, on the raw arrays (no graph); the variance is
    made unbiased with the factor M / (M - 1)."""
    for running, batch, correction in ((running_mean, batch_mean, 1.0), (running_var, batch_var, count / (count - 1))):
        if running is None:
            continue
        running.array *= 1.0 - momentum
        running.array += batch * (momentum * correction)
        versions.bump(running)
