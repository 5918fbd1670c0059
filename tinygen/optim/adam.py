"""Adam (Kingma and Ba, 2015) and AdamW (Loshchilov and Hutter, 2019), with PyTorch's update rule.

One step t for gradient g of parameter p (lr, betas b1 b2, eps, weight decay wd), g negated first with
``maximize`` (ascend the objective, as PyTorch's):

    Adam:  g = g + wd * p              AdamW:  p = p * (1 - lr * wd)       (the only difference)
    m = m + (1 - b1) * (g - m)         (first moment, a running mean of g)
    v = b2 * v + (1 - b2) * g^2        (second moment; amsgrad keeps v_max = max(v_max, v) and uses it)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

The bias corrections 1 - b^t are Python floats (``math``), so float32 parameters stay float32.
See docs/derivations/adam.md.
"""
import math

from tinygen.optim.optimizer import Optimizer, cache_sized_pieces, is_number, new_state_tensor


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running estimates of the gradient's first and second moments."""

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False):
        betas = tuple(betas) if isinstance(betas, (tuple, list)) else betas  # a tuple when saved
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        name = type(self).__name__
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(map(is_number, betas)):
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {options['betas']!r}")
        for position, beta in enumerate(options["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {position}: {beta} (must be in [0, 1))")
        for key in ("eps", "weight_decay"):
            if not options[key] >= 0:
                raise ValueError(f"{name}: invalid {key} {options[key]} (must be >= 0)")

    def _update(self, param, grad, state, group):
        xp = param.backend.xp
        lr, weight_decay, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])  # Python floats: NumPy float64s would upcast
        if group.get("maximize"):  # .get: a state dict saved before the option came in has none
            grad = -grad
        if not state:
            state.update(step=0, exp_avg=new_state_tensor(param), exp_avg_sq=new_state_tensor(param))
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = new_state_tensor(param)
        state["step"] += 1
        step = state["step"]
        if weight_decay != 0:
            if self.decoupled_weight_decay:
                param.array *= 1 - lr * weight_decay
            else:
                grad = grad + param.array * weight_decay
        moments = [state["exp_avg"].array, state["exp_avg_sq"].array]
        if group["amsgrad"]:
            moments.append(state["max_exp_avg_sq"].array)
        # the thirteen passes of the update, a cache-sized piece of the arrays at a time (the same numbers, sooner)
        for pieces in cache_sized_pieces(param.backend, [param.array, grad] + moments):
            _step_in_place(xp, pieces[0], pieces[1], pieces[2:], lr, beta1, beta2, eps, step)


def _step_in_place(xp, param, grad, moments, lr, beta1, beta2, eps, step):
    """m, v (and v_max for amsgrad, the third of ``moments``) and p updated in place from g: the module's formulas."""
    exp_avg, exp_avg_sq = moments[:2]
    scratch = xp.empty_like(exp_avg)  # every intermediate below lands here: one array, no temporaries
    exp_avg += xp.multiply(xp.subtract(grad, exp_avg, out=scratch), 1 - beta1, out=scratch)
    exp_avg_sq *= beta2
    exp_avg_sq += xp.multiply(xp.multiply(grad, 1 - beta2, out=scratch), grad, out=scratch)
    second_moment = exp_avg_sq
    if len(moments) == 3:  # amsgrad
        second_moment = moments[2]
        xp.maximum(second_moment, exp_avg_sq, out=second_moment)
    denominator = xp.sqrt(second_moment, out=scratch)
    denominator /= math.sqrt(1 - beta2**step)
    denominator += eps
    update = xp.divide(exp_avg, denominator, out=scratch)
    update *= lr / (1 - beta1**step)
    param -= update


class AdamW(Adam):
    """Adam with decoupled weight decay: p shrinks by lr * wd each step, apart from the gradient (default wd 0.01)."""

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
