"""Regression losses: mean squared error, mean absolute error and the two between them (PyTorch's ``mse_loss``,
``l1_loss``, ``smooth_l1_loss`` and ``huber_loss``).

All are compositions of differentiable ops, so their gradients (and second derivatives) come from those:
d/dx (x - t)^2 = 2 (x - t),  d/dx |x - t| = sign(x - t) (0 at x = t, as PyTorch).
Tests: tests/test_losses.py.
"""
from tinygen.losses.arguments import check_reduction, float_tensor, matching_target, reduce
from tinygen.ops import checks
from tinygen.ops.elementwise import where

__all__ = ["huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]


def _difference(name, input, target, reduction):
    float_tensor(name, input)
    target = matching_target(name, input, target, promote=True)
    check_reduction(name, reduction)
    return input - target


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2 per element, then averaged (``"mean"``), added (``"sum"``) or kept (``"none"``).

    input, target: same shape (no broadcasting); float32 beside float64 is computed in float64, as PyTorch.
    """
    difference = _difference("mse_loss", input, target, reduction)
    return reduce(difference * difference, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target| per element, then reduced as in ``mse_loss``."""
    return reduce(_difference("l1_loss", input, target, reduction).abs(), reduction)


def _quadratic_then_linear(difference, width):
    """0.5 d^2 / width where |d| < width, else |d| - width / 2: the two pieces meet with equal slopes d / width =
    sign(d) at |d| = width, so the gradient is d / width inside and sign(d) outside (PyTorch's)."""
    size = difference.abs()
    return where(size < width, 0.5 * difference * difference / width, size - 0.5 * width)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, for d = input - target; reduced as in ``mse_loss``.
    beta = 0 is ``l1_loss``."""
    beta = checks.real_number("smooth_l1_loss", "beta", beta)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    difference = _difference("smooth_l1_loss", input, target, reduction)
    return reduce(difference.abs() if beta == 0 else _quadratic_then_linear(difference, beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), for d = input - target: delta * smooth_l1 with
    beta = delta. Each element's loss is multiplied by ``weight`` (input's shape) if given, then reduced as in
    ``mse_loss`` ("mean" divides by the number of elements, as PyTorch's)."""
    delta = checks.real_number("huber_loss", "delta", delta)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    difference = _difference("huber_loss", input, target, reduction)
    loss = delta * _quadratic_then_linear(difference, delta)
    if weight is not None:
        loss = loss * matching_target("huber_loss", input, weight, argument="weight", promote=True)
    return reduce(loss, reduction)
