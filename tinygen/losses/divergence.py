"""Kullback-Leibler divergence between distributions given as tensors, PyTorch's ``F.kl_div``.

``input`` holds log-probabilities log q, ``target`` probabilities p (or log p with ``log_target=True``):

    loss_i = p_i (log p_i - log q_i),   0 where p_i = 0 (the limit of p log p)
    dL/d(log q_i) = -g p_i

Reductions: "sum", "none", "mean" (over all elements, as PyTorch's default) and "batchmean" (the sum divided
by the batch size: the KL divergence per sample, which is what the math means).
"""
from tinygen.losses.arguments import float_tensor, matching_target
from tinygen.ops.elementwise import exp, log, where

__all__ = ["kl_div"]

KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input, target, reduction="mean", log_target=False):
    """sum p (log p - input) per element, reduced; ``input`` is log q (e.g. ``F.log_softmax(logits, 1)``)."""
    name = "kl_div"
    float_tensor(name, input)
    target = matching_target(name, input, target)
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {', '.join(map(repr, KL_REDUCTIONS))}, got {reduction!r}")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = target > 0
        log_target_values = log(where(positive, target, 1.0))  # log 1 = 0 where p = 0: no -inf, no NaN gradient
        loss = where(positive, target * (log_target_values - input), 0.0)
    if reduction == "none":
        return loss
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return loss.sum() if reduction == "sum" else loss.mean()
