"""What every loss shares: checking its arguments (input, target, weight) and applying its ``reduction`` argument.

(Not to be confused with ``tinygen/ops/reduction.py``, the differentiable reductions such as ``sum`` and
``mean`` that ``reduce`` calls.)

``reduction`` follows PyTorch: ``"mean"`` (the default) averages over all elements, ``"sum"`` adds them,
``"none"`` returns the per-element losses with the input's shape. The mean of zero elements is NaN, as in
PyTorch. Input and target must have *exactly* the same shape: a loss never broadcasts silently (a (N, 1)
prediction against a (N,) target would otherwise become an (N, N) loss).
Tests: tests/test_losses.py and the error tests of each loss.
"""
from tinygen.backend.dtypes import is_floating
from tinygen.ops import checks
from tinygen.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")


def reduce(loss, reduction):
    """Average, add up or keep the per-element ``loss`` (``reduction`` already checked)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def float_tensor(name, value, argument="input"):
    """``value`` must be a floating-point Tensor (a loss is differentiated with respect to it)."""
    checks.require_tensor(name, value, argument)
    if not is_floating(value.dtype):
        raise TypeError(f"{name}: expected {argument} to be a floating-point tensor, got dtype {value.dtype}")
    return value


def matching_target(name, input, target, argument="target", promote=False):
    """``target`` on ``input``'s device, with its exact shape, in its dtype (0/1 integer or bool labels
    are converted). With ``promote``, a floating ``target`` keeps its dtype, so the loss is computed in the
    wider of the two (PyTorch's ``mse_loss`` and ``l1_loss`` of float32 and float64 are float64)."""
    checks.require_tensor(name, target, argument)
    if target.backend is not input.backend:
        raise checks.device_error(name, input, target)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: input shape {input.shape} and {argument} shape {target.shape} differ; "
            "losses don't broadcast, reshape one of them (e.g. input.reshape(-1) or target.reshape(-1, 1))"
        )
    if target.dtype == input.dtype or (promote and is_floating(target.dtype)):
        return target
    return target.to(dtype=input.dtype)


def broadcast_weight(name, input, weight, argument="weight"):
    """A per-element ``weight`` that broadcasts to ``input``'s shape (without changing it), in its dtype."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"{name}: expected {argument} to be a Tensor or None, got {type(weight).__name__}")
    if weight.backend is not input.backend:
        raise checks.device_error(name, input, weight)
    checks.broadcastable_to(f"{name} ({argument})", weight.shape, input.shape)
    return weight if weight.dtype == input.dtype else weight.to(dtype=input.dtype)


def batch_first(name, value, argument):
    """A floating tensor whose dim 0 is the batch (at least one dimension)."""
    float_tensor(name, value, argument)
    if value.ndim == 0:
        raise ValueError(f"{name}: expected {argument} with a batch dimension first (N, ...), got a 0-d tensor")
    return value


def per_sample_sum(loss):
    """(N, ...) -> (N,): add up everything but the batch dimension."""
    return loss.sum(dim=tuple(range(1, loss.ndim))) if loss.ndim > 1 else loss

