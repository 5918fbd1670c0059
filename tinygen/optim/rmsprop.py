"""RMSprop (Hinton's lecture 6e), with PyTorch's update rule.

One step for gradient g of parameter p (lr, alpha, eps, weight decay wd, momentum mu):

    g = g + wd * p
    v = alpha * v + (1 - alpha) * g^2                  (running mean of g^2)
    centered:  m = m + (1 - alpha) * (g - m);  d = sqrt(v - m^2) + eps      else  d = sqrt(v) + eps
    mu > 0:    b = mu * b + g / d;  p = p - lr * b                           else  p = p - lr * g / d

The arithmetic is tinygen's own tensor ops under ``no_grad`` (``Optimizer.step``), on ``param`` and ``param.grad``.
"""
from tinygen.creation import zeros_like
from tinygen.optim.optimizer import Optimizer, is_number

__all__ = ["RMSprop"]


def check_non_negative(optimizer, options, keys):
    for key in keys:
        if not is_number(options[key]):
            raise TypeError(f"{type(optimizer).__name__}: {key} must be a number, got {options[key]!r}")
        if not options[key] >= 0:
            raise ValueError(f"{type(optimizer).__name__}: invalid {key} {options[key]} (must be >= 0)")


def gradient(param, group):
    """The gradient the rule uses: negated with ``maximize``, plus ``weight_decay * param``."""
    grad = -param.grad if group["maximize"] else param.grad
    weight_decay = float(group["weight_decay"])
    return grad + param * weight_decay if weight_decay != 0 else grad


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        check_non_negative(self, options, ("alpha", "eps", "weight_decay", "momentum"))

    def _update(self, param, grad, state, group):
        lr, alpha, eps, momentum = (float(group[key]) for key in ("lr", "alpha", "eps", "momentum"))
        grad = gradient(param, group)
        if not state:
            state.update(step=0, square_avg=zeros_like(param))
            if momentum > 0:
                state["momentum_buffer"] = zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = zeros_like(param)
        state["step"] += 1
        square_avg = state["square_avg"].mul_(alpha).add_(grad * (1 - alpha) * grad)  # PyTorch's rounding order
        if group["centered"]:
            grad_avg = state["grad_avg"].add_(grad - state["grad_avg"], alpha=1 - alpha)
            denominator = (square_avg - grad_avg * grad_avg).sqrt() + eps
        else:
            denominator = square_avg.sqrt() + eps
        if momentum > 0:
            buffer = state["momentum_buffer"].mul_(momentum).add_(grad / denominator)
            param.sub_(buffer, alpha=lr)
        else:
            param.add_(grad * -lr / denominator)
