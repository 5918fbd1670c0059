"""Adagrad (Duchi, Hazan and Singer, 2011), with PyTorch's update rule.

Step t for gradient g of parameter p (lr, lr_decay, eps, weight decay wd):

    g = g + wd * p
    s = s + g^2                                    (the sum of squared gradients; starts at
                                                    ``initial_accumulator_value``)
    p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
"""
from tinygen.creation import full_like
from tinygen.optim.optimizer import Optimizer
from tinygen.optim.rmsprop import check_non_negative, gradient

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        check_non_negative(self, options, ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"))

    def _update(self, param, grad, state, group):
        grad = gradient(param, group)
        if not state:
            state.update(step=0, sum=full_like(param, float(group["initial_accumulator_value"])))
        state["step"] += 1
        step_size = float(group["lr"]) / (1 + (state["step"] - 1) * float(group["lr_decay"]))
        squares = state["sum"].add_(grad * grad)
        param.add_(grad * -step_size / (squares.sqrt() + float(group["eps"])))
