"""Multi-class classification losses on class indices, as PyTorch: ``nll_loss`` and ``cross_entropy``.

For logits x (N, C) and class indices y (N,):

    cross_entropy(x, y) = -log softmax(x)_y = logsumexp(x) - x_y = nll_loss(log_softmax(x), y)

computed through ``log_softmax`` (x - logsumexp x), which is exact for any logits. The gradient with
respect to x is softmax(x) - onehot(y) (per sample, before the reduction).

With class weights w (C,) and ``ignore_index``, as PyTorch: sample n's loss is w[y_n] (-x_{n, y_n}), 0 where
y_n == ignore_index; "mean" divides their sum by the sum of the weights of the samples not ignored (NaN when all
are ignored).

``label_smoothing`` e, as PyTorch: the target is (1 - e) onehot(y) + e / C everywhere, so a sample's loss is
(1 - e) w[y] (-log p_y) + (e / C) sum_c w_c (-log p_c), both terms 0 for an ignored sample and both divided by
the same sum of weights under "mean". Gradient per sample (w = 1): softmax(x) - (1 - e) onehot(y) - e / C.
Inputs (N, C, d1, d2, ...) with targets (N, d1, d2, ...) (per-pixel or per-token classes, as PyTorch's
K-dimensional form) are the same losses over the N d1 d2 ... positions, each one a sample: "mean" averages over
all of them, "none" gives the (N, d1, d2, ...) losses.
Tests: tests/test_multiclass_losses.py.
"""
from tinygen.losses.arguments import check_reduction, float_tensor, reduce
from tinygen.ops import checks
from tinygen.ops.activation import log_softmax
from tinygen.ops.elementwise import where
from tinygen.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss"]


def _positions_as_samples(input, target):
    """PyTorch's K-dimensional form, (N, C, d1, ...) and (N, d1, ...), as (N d1 ..., C) and (N d1 ...), with the
    shape the per-position losses take back under reduction "none"; other inputs come back as they are, shape None."""
    if input.ndim > 2 and isinstance(target, Tensor) and target.shape == input.shape[:1] + input.shape[2:]:
        classes_last = input.permute(0, *range(2, input.ndim), 1)
        return classes_last.reshape(-1, input.shape[1]), target.reshape(-1), target.shape
    return input, target, None


def _class_targets(name, input, target, ignore_index):
    checks.require_tensor(name, target, "target")
    if target.backend is not input.backend:
        raise checks.device_error(name, input, target)
    if input.ndim != 2 or target.shape != input.shape[:1]:
        raise ValueError(
            f"{name}: expected input (N, C) and target (N,) of class indices (or (N, C, d1, ...) and (N, d1, ...)), "
            f"got shapes {input.shape} and {target.shape}"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    classes = input.shape[1]
    outside = (target.array < 0) | (target.array >= classes)
    if target.numel() and bool((outside & (target.array != ignore_index)).any()):
        raise ValueError(f"{name}: class indices must be in [0, {classes}) or be ignore_index ({ignore_index}), "
                         "got values outside")
    return target


def _class_weight(name, weight, input):
    if weight is None:
        return None
    float_tensor(name, weight, "weight")
    if weight.backend is not input.backend:
        raise checks.device_error(name, input, weight)
    if weight.shape != input.shape[1:]:
        raise ValueError(f"{name}: weight must hold one number per class, shape ({input.shape[1]},), got shape "
                         f"{weight.shape}")
    return weight


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[n, target[n]]: the negative log-likelihood of the target class, given log-probabilities (N, C)
    (or (N, C, d1, ...)); with class weights and ``ignore_index`` as the module docstring says."""
    name = "nll_loss"
    float_tensor(name, input)
    input, target, positions = _positions_as_samples(input, target)
    if positions is not None:
        loss = nll_loss(input, target, weight, ignore_index, reduction)
        return loss.reshape(positions) if reduction == "none" else loss
    target = _class_targets(name, input, target, ignore_index)
    weight = _class_weight(name, weight, input)
    check_reduction(name, reduction)
    ignored = target.array == ignore_index
    if weight is None and not bool(ignored.any()):
        return reduce(-input.gather(1, target.unsqueeze(1)).squeeze(1), reduction)
    kept = target != ignore_index
    safe = where(kept, target, target * 0)  # a class to gather at the ignored samples; their weight is 0
    sample_weight = (weight[safe] if weight is not None else input.new_ones(target.shape)) * kept.to(input.dtype)
    losses = -input.gather(1, safe.unsqueeze(1)).squeeze(1) * sample_weight
    if reduction == "mean":
        return losses.sum() / sample_weight.sum()
    return reduce(losses, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between softmax(``input``) (logits, (N, C) or (N, C, d1, ...)) and class indices ``target``
    ((N,) or (N, d1, ...)); ``weight`` and ``ignore_index`` as for ``nll_loss``; ``label_smoothing`` in [0, 1] as
    the module docstring says."""
    name = "cross_entropy"
    float_tensor(name, input)
    input, target, positions = _positions_as_samples(input, target)
    if positions is not None:
        loss = cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
        return loss.reshape(positions) if reduction == "none" else loss
    smoothing = checks.real_number(name, "label_smoothing", label_smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    _class_targets(name, input, target, ignore_index)
    _class_weight(name, weight, input)
    log_probabilities = log_softmax(input, dim=1)
    loss = nll_loss(log_probabilities, target, weight, ignore_index, reduction)
    if smoothing == 0.0:
        return loss
    return (1.0 - smoothing) * loss + (smoothing / input.shape[1]) * _uniform_target_loss(
        log_probabilities, target, weight, ignore_index, reduction)


def _uniform_target_loss(log_probabilities, target, weight, ignore_index, reduction):
    """sum_c w_c (-log p_c) per sample (0 for an ignored one), reduced as ``nll_loss`` reduces: "mean" divides by
    the sum of the kept samples' target weights, w[y]."""
    weighted = log_probabilities if weight is None else log_probabilities * weight
    kept = target != ignore_index
    losses = where(kept, -weighted.sum(1), 0.0)
    if reduction != "mean":
        return reduce(losses, reduction)
    safe = where(kept, target, target * 0)
    target_weight = (weight[safe] if weight is not None else log_probabilities.new_ones(target.shape))
    return losses.sum() / (target_weight * kept.to(log_probabilities.dtype)).sum()
