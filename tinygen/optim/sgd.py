"""Stochastic gradient descent, with momentum, Nesterov momentum and L2 weight decay (PyTorch's rule)."""
from tinygen.optim.optimizer import Optimizer
from tinygen.tensor import Tensor


class SGD(Optimizer):
    """One step, for gradient g of parameter p (lr, momentum mu, dampening d, weight decay wd):

        g = -g if maximize                                 (ascend the objective, as PyTorch's ``maximize``)
        g = g + wd * p                                     (weight decay)
        b = g at the first step, else mu * b + (1 - d) * g (momentum buffer)
        g = g + mu * b if nesterov else b
        p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        for key in ("momentum", "weight_decay"):
            if not options[key] >= 0:
                raise ValueError(f"SGD: invalid {key} {options[key]} (must be >= 0)")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, param, grad, state, group):
        # options as Python floats: a NumPy float64 (say from a schedule) would upcast float32 arrays
        lr, momentum, dampening, weight_decay = (
            float(group[key]) for key in ("lr", "momentum", "dampening", "weight_decay"))
        if group.get("maximize"):  # .get: a state dict saved before the option came in has none
            grad = -grad
        if weight_decay != 0:
            grad = grad + param.array * weight_decay
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = Tensor._make(grad.copy(), param.backend)
            else:
                buffer.array *= momentum
                buffer.array += grad * (1 - dampening)
            grad = grad + buffer.array * momentum if group["nesterov"] else buffer.array
        param.array -= grad * lr
