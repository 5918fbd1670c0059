"""Exercise adam: the update rule of Adam.    Read: docs/derivations/adam.md"""
from tinygen.exercises.given import AdamBase
from tinygen.optim.optimizer import new_state_tensor


class Adam(AdamBase):
    """Adam (Kingma and Ba, 2015) with PyTorch's options: ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0)``. Everything but the update is given (tinygen's own Optimizer: parameter groups, zero_grad,
    step, state_dict).

    Write ``_update(param, grad, state, group)``. ``step()`` calls it, under no_grad, for every parameter that
    has a gradient:
      - ``param``: the Parameter (a Tensor); change ``param.array`` (its raw array) in place, e.g. ``param.array -= u``.
      - ``grad``: its gradient as an array of param's shape.
      - ``state``: this parameter's dict, empty at the first step; keep here the step count t and the two
        moment estimates. Make the moments with ``new_state_tensor(param)`` (zeros, a Tensor; imported above:
        checkpoints can then save them) and update their ``.array`` in place.
      - ``group``: the options, ``group["lr"]``, ``group["betas"]`` (b1, b2), ``group["eps"]``,
        ``group["weight_decay"]``. (``amsgrad`` is not part of the exercise.)
    The rule, for t = 1, 2, ...: weight decay adds wd * p to the gradient; m and v are exponential moving
    averages of g and g^2 with rates b1 and b2; p moves by lr * m_hat / (sqrt(v_hat) + eps), where m_hat and
    v_hat correct the bias m and v have because they start at 0: derive that correction (what is E[m_t] if
    every g has mean mu?). Python floats for scalars (``beta1 ** t``) keep float32 parameters float32.
    """

    def _update(self, param, grad, state, group):
        # solution: begin
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=new_state_tensor(param), exp_avg_sq=new_state_tensor(param))
        state["step"] += 1
        step = state["step"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.array
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1 ** step)
        v_hat = v / (1 - beta2 ** step)
        param.array -= group["lr"] * m_hat / (param.backend.xp.sqrt(v_hat) + group["eps"])
        # solution: end
