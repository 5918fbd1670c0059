"""Multi-class classification losses on class indices, as PyTorch: ``nll_loss`` and ``cross_entropy``.

For logits x (N, C) and class indices y (N,):

    cross_entropy(x, y) = -log softmax(x)_y = logsumexp(x) - x_y = nll_loss(log_softmax(x), y)

computed through ``log_softmax`` (x - logsumexp x), which is exact for any logits. The gradient with
respect to x is softmax(x) - onehot(y) (per sample, before the reduction).
Tests: tests/test_multiclass_losses.py.
"""
from tinygen.losses.arguments import check_reduction, float_tensor, reduce
from tinygen.ops import checks
from tinygen.ops.activation import log_softmax

__all__ = ["cross_entropy", "nll_loss"]


def _class_targets(name, input, target):
    checks.require_tensor(name, target, "target")
    if target.backend is not input.backend:
        raise checks.device_error(name, input, target)
    if input.ndim != 2 or target.shape != input.shape[:1]:
        raise ValueError(
            f"{name}: expected input (N, C) and target (N,) of class indices, got shapes {input.shape} and {target.shape}"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.numel() and (int(target.array.min()) < 0 or int(target.array.max()) >= input.shape[1]):
        raise ValueError(f"{name}: class indices must be in [0, {input.shape[1]}), got values outside")
    return target


def nll_loss(input, target, reduction="mean"):
    """-input[n, target[n]]: the negative log-likelihood of the target class, given log-probabilities (N, C)."""
    name = "nll_loss"
    float_tensor(name, input)
    target = _class_targets(name, input, target)
    check_reduction(name, reduction)
    return reduce(-input.gather(1, target.unsqueeze(1)).squeeze(1), reduction)


def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy between softmax(``input``) (logits, (N, C)) and class indices ``target`` (N,)."""
    float_tensor("cross_entropy", input)
    _class_targets("cross_entropy", input, target)
    return nll_loss(log_softmax(input, dim=1), target, reduction)
