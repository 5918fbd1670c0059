"""Loss modules: ``nn.BCELoss()(input, target)`` is ``F.binary_cross_entropy(input, target)``, and so on.

Each module stores its options and calls the functional loss (``tinygen.losses``), so the math lives in one
place. ``reduction`` is "mean" (default), "sum" or "none" ("batchmean" too for ``KLDivLoss``). PyTorch's
retired ``size_average``/``reduce`` arguments are translated as PyTorch does, with its warning.
"""
import warnings

from tinygen import losses
from tinygen.nn.module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss", "NLLLoss",
           "SmoothL1Loss"]


def legacy_reduction(name, size_average, reduce, reduction):
    """``reduction`` from the pre-1.0 pair: reduce=False -> "none", else size_average=False -> "sum", else "mean"."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(f"{name}: size_average and reduce are deprecated; use reduction='mean', 'sum' or 'none'",
                  UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(type(self).__name__, size_average, reduce, reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    """A loss with an optional per-element ``weight``, kept as a buffer (it moves with ``.to()`` and is saved)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class BCELoss(_WeightedLoss):
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x; see ``F.binary_cross_entropy``."""

    def forward(self, input, target):
        return losses.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """BCE on logits, computed stably (log-sum-exp form); see ``F.binary_cross_entropy_with_logits``."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return losses.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                       pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """(x - y)^2; see ``F.mse_loss``."""

    def forward(self, input, target):
        return losses.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|x - y|; see ``F.l1_loss``."""

    def forward(self, input, target):
        return losses.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 (x - y)^2 / beta where |x - y| < beta, else |x - y| - beta / 2; see ``F.smooth_l1_loss``."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return losses.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 (x - y)^2 where |x - y| < delta, else delta (|x - y| - delta / 2); see ``F.huber_loss``."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return losses.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class _ClassIndexLoss(_WeightedLoss):
    """A loss over class indices, with class weights (a buffer) and ``ignore_index``."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def class_options(self):
        """``weight`` and ``ignore_index`` where they are not the defaults: a student's ``cross_entropy(input,
        target, reduction)`` (the softmax exercise's) stands in for tinygen's while graded or under ``--ops``."""
        options = {"weight": self.weight} if self.weight is not None else {}
        return options if self.ignore_index == -100 else dict(options, ignore_index=self.ignore_index)


class CrossEntropyLoss(_ClassIndexLoss):
    """-log softmax(x)_y for logits x (N, C) and class indices y (N,); see ``F.cross_entropy``."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        options = self.class_options()
        if self.label_smoothing != 0.0:  # passed only when set, as weight and ignore_index are
            options["label_smoothing"] = self.label_smoothing
        return losses.cross_entropy(input, target, reduction=self.reduction, **options)


class NLLLoss(_ClassIndexLoss):
    """-x_y for log-probabilities x (N, C) and class indices y (N,); see ``F.nll_loss``."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)

    def forward(self, input, target):
        return losses.nll_loss(input, target, reduction=self.reduction, **self.class_options())


class KLDivLoss(_Loss):
    """p (log p - x) for log-probabilities x and probabilities p; see ``F.kl_div``."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return losses.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
