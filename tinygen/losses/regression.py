"""Regression losses: mean squared error and mean absolute error (PyTorch's ``mse_loss`` and ``l1_loss``).

Both are compositions of differentiable ops, so their gradients (and second derivatives) come from those:
d/dx (x - t)^2 = 2 (x - t),  d/dx |x - t| = sign(x - t) (0 at x = t, as PyTorch).
Tests: tests/test_losses.py.
"""
from tinygen.losses.arguments import check_reduction, float_tensor, matching_target, reduce

__all__ = ["mse_loss", "l1_loss"]


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
