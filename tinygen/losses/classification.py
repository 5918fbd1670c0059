"""Binary cross-entropy, on probabilities and (the stable form to prefer) on logits.

For a probability p of the positive class and a target t in [0, 1]:

    BCE(p, t) = -(t log p + (1 - t) log(1 - p))

On logits x (p = sigmoid(x)) the same loss is  max(x, 0) - x t + log(1 + exp(-|x|)): no exp of a large
number, no log of 0, so it is finite for any x and its gradient is simply sigmoid(x) - t.
See docs/derivations/losses.md.
Tests: tests/test_losses.py.
"""
from tinygen.autograd.function import Function
from tinygen.losses.arguments import broadcast_weight, check_reduction, float_tensor, matching_target, reduce
from tinygen.ops import checks
from tinygen.ops.elementwise import clamp, sigmoid, softplus, where
from tinygen.tensor import Tensor

#: PyTorch clamps each log in ``binary_cross_entropy`` at -100, so p = 0 or 1 gives a finite loss (at most 100).
LOG_FLOOR = -100.0
#: ... and the p (1 - p) in its gradient's denominator at 1e-12, so the gradient stays finite too.
PRODUCT_FLOOR = 1e-12

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _clamped_log_array(xp, x):
    """max(log x, -100), also -100 at x = 0 (without taking log 0)."""
    positive = x > 0
    floor = checks.typed_scalar(LOG_FLOOR, x)
    return xp.where(positive, xp.maximum(xp.log(xp.where(positive, x, checks.typed_scalar(1, x))), floor), floor)


class ClampedLog(Function):
    """y = max(log x, -100).   dL/dx = g / x where log x > -100, else 0 (the clamp is flat there)."""

    save_inputs = True

    def forward(self, x):
        y = _clamped_log_array(self.backend.xp, x)
        self.unclamped = y > LOG_FLOOR
        return y

    def backward(self, g):
        (x,) = self.saved_inputs
        unclamped = Tensor._make(self.unclamped, x.backend)
        return where(unclamped, g / where(unclamped, x, 1.0), 0.0)


class BinaryCrossEntropy(Function):
    """l = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (as PyTorch).

    dl/dp = (p - t) / max(p (1 - p), 1e-12)   (PyTorch's form: finite at p = 0 and 1, where it still pushes
    p away from the wrong end),   dl/dt = log(1 - p) - log p   (clamped logs).
    """

    save_inputs = True

    def forward(self, p, t):
        xp = self.backend.xp
        one = checks.typed_scalar(1, p)
        return -(t * _clamped_log_array(xp, p) + (one - t) * _clamped_log_array(xp, one - p))

    def backward(self, g):
        p, t = self.saved_inputs
        grad_p = g * (p - t) / clamp(p * (1.0 - p), min=PRODUCT_FLOOR) if self.needs_input_grad[0] else None
        grad_t = g * (ClampedLog()(1.0 - p) - ClampedLog()(p)) if self.needs_input_grad[1] else None
        return grad_p, grad_t


class BinaryCrossEntropyWithLogits(Function):
    """l = max(x, 0) - x t + log(1 + exp(-|x|))  (= BCE(sigmoid(x), t), finite for every x).

    dl/dx = sigmoid(x) - t,   dl/dt = -x.
    """

    save_inputs = True

    def forward(self, x, t):
        xp = self.backend.xp
        return xp.maximum(x, checks.typed_scalar(0, x)) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        x, t = self.saved_inputs
        grad_x = g * (sigmoid(x) - t) if self.needs_input_grad[0] else None
        grad_t = -(g * x) if self.needs_input_grad[1] else None
        return grad_x, grad_t


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """BCE between probabilities ``input`` (values in [0, 1], e.g. a sigmoid output) and ``target``.

    input, target: same shape (any); an integer/bool target is converted to the input's dtype.
    weight: optional per-element rescaling, broadcastable to the input's shape.
    Prefer ``binary_cross_entropy_with_logits`` on the raw logits: it is exact where sigmoid saturates.
    """
    name = "binary_cross_entropy"
    float_tensor(name, input)
    target = matching_target(name, input, target)
    check_reduction(name, reduction)
    xp = input.backend.xp
    if not bool(xp.all((input.array >= 0) & (input.array <= 1))):
        raise ValueError(
            f"{name}: input must hold probabilities in [0, 1] (got values outside, or NaN); "
            "for raw scores use binary_cross_entropy_with_logits"
        )
    loss = BinaryCrossEntropy()(input, target)
    if weight is not None:
        loss = loss * broadcast_weight(name, input, weight)
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE between sigmoid(``input``) and ``target``, computed on the logits ``input`` without overflow.

    input, target: same shape (any).  weight: per-element rescaling, broadcastable to the input's shape.
    pos_weight: weight of the positive term, broadcastable to the input (one per class: shape (C,) for an
    (N, C) input), as PyTorch:  l = -(pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))),
    computed as the stable form + (pos_weight - 1) t softplus(-x)   (-log sigmoid(x) = softplus(-x)).
    """
    name = "binary_cross_entropy_with_logits"
    float_tensor(name, input)
    target = matching_target(name, input, target)
    check_reduction(name, reduction)
    loss = BinaryCrossEntropyWithLogits()(input, target)
    if pos_weight is not None:
        pos_weight = broadcast_weight(name, input, pos_weight, "pos_weight")
        loss = loss + (pos_weight - 1.0) * target * softplus(-input)
    if weight is not None:
        loss = loss * broadcast_weight(name, input, weight)
    return reduce(loss, reduction)
