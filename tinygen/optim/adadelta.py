"""Adadelta (Zeiler, 2012), with PyTorch's update rule.

One step for gradient g of parameter p (lr, rho, eps, weight decay wd):

    g = g + wd * p
    v = rho * v + (1 - rho) * g^2                      (running mean of g^2)
    d = sqrt(u + eps) / sqrt(v + eps) * g              (the step, in the units of p)
    u = rho * u + (1 - rho) * d^2                      (running mean of d^2)
    p = p - lr * d
"""
from tinygen.creation import zeros_like
from tinygen.optim.optimizer import Optimizer
from tinygen.optim.rmsprop import check_non_negative, gradient

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _check_options(self, options):
        super()._check_options(options)
        check_non_negative(self, options, ("eps", "weight_decay"))
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {options['rho']} (must be in [0, 1])")

    def _update(self, param, grad, state, group):
        rho, eps = float(group["rho"]), float(group["eps"])
        grad = gradient(param, group)
        if not state:
            state.update(step=0, square_avg=zeros_like(param), acc_delta=zeros_like(param))
        state["step"] += 1
        square_avg = state["square_avg"].mul_(rho).add_(grad * (1 - rho) * grad)  # PyTorch's rounding order
        delta = (state["acc_delta"] + eps).sqrt() / (square_avg + eps).sqrt() * grad
        state["acc_delta"].mul_(rho).add_(delta * (1 - rho) * delta)
        param.sub_(delta, alpha=float(group["lr"]))
