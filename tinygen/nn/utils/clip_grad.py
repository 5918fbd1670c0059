"""Gradient clipping, in place on the parameters' ``.grad`` (PyTorch's rules).

    clip_grad_norm_:   n = || (||g_1||_p, ..., ||g_k||_p) ||_p   (the norm of all gradients as one vector)
                       every g_i *= min(1, max_norm / (n + 1e-6));   returns n
    clip_grad_value_:  every entry of every g_i clamped to [-clip_value, clip_value]
"""
import math

from tinygen.autograd.grad_mode import no_grad
from tinygen.creation import tensor
from tinygen.ops.shape import stack
from tinygen.ops.norm import norm
from tinygen.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(parameters, name):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for parameter in parameters:
        if not isinstance(parameter, Tensor):
            raise TypeError(f"{name}: expected Tensors (e.g. model.parameters()), got {type(parameter).__name__}")
    return [parameter.grad for parameter in parameters if parameter.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint ``norm_type``-norm is at most ``max_norm``; return the
    norm before clipping (a 0-d tensor). ``foreach`` is accepted and has no effect."""
    gradients = _gradients(parameters, "clip_grad_norm_")
    if not gradients:
        return tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        total = norm(stack([norm(gradient.detach(), norm_type) for gradient in gradients]), norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total.item()}, so they cannot be "
                "clipped; set error_if_nonfinite=False to clip anyway"
            )
        factor = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
        for gradient in gradients:
            gradient.mul_(factor.to(dtype=gradient.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for gradient in _gradients(parameters, "clip_grad_value_"):
            gradient.clamp_(-clip_value, clip_value)
