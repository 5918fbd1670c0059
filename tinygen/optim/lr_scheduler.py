"""Learning-rate schedules: call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.

    StepLR(optimizer, step_size=30, gamma=0.1)      lr = base_lr * gamma ** (epoch // step_size)
    MultiStepLR(optimizer, milestones, gamma=0.1)    lr = base_lr * gamma ** (milestones passed, epoch >= m)
    ExponentialLR(optimizer, gamma)                  lr = base_lr * gamma ** epoch
    CosineAnnealingLR(optimizer, T_max, eta_min=0)   lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2
    LambdaLR(optimizer, lr_lambda)                   lr = base_lr * lr_lambda(epoch)
    LinearLR(optimizer, start_factor=1/3, end_factor=1, total_iters=5)
                                                     lr = base_lr * (start + (end - start) min(epoch, total) / total)
    ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, ...)
                                                     lr = max(lr * factor, min_lr) after ``patience`` epochs
                                                     without improvement; ``step(metric)`` each epoch

StepLR, MultiStepLR and ExponentialLR multiply the current lr at each change, as PyTorch's do (so a change made to
the lr by hand is kept); CosineAnnealingLR gives its closed form, which PyTorch's step-by-step form equals up to
rounding when nothing else sets the lr, and so does LinearLR (a warm-up).

Each group's starting lr is kept as ``group["initial_lr"]`` (as PyTorch does), so a schedule can resume.
"""
import collections
import math

from tinygen.optim.optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
           "ReduceLROnPlateau", "StepLR"]


class LRScheduler:
    """Sets every parameter group's ``lr`` from the epoch count ``last_epoch`` (subclasses say how)."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for position, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"{type(self).__name__}: param group {position} has no 'initial_lr'; "
                    "resuming with last_epoch != -1 needs a scheduler that ran before on this optimizer"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        """The learning rates for epoch ``last_epoch``, one per group."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new learning rates into the optimizer."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self.last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last ``step()`` set."""
        return list(self.last_lr)

    _saved_keys = ("base_lrs", "last_epoch", "last_lr")

    def state_dict(self):
        """The schedule's position and settings as plain numbers (functions such as ``lr_lambda`` are not saved)."""
        return {key: getattr(self, key) for key in self._saved_keys}

    def load_state_dict(self, state_dict):
        for key in self._saved_keys:
            setattr(self, key, state_dict[key])


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    _saved_keys = LRScheduler._saved_keys + ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        # As PyTorch: multiply the current lr (so other changes to it are kept) at each boundary.
        decay = self.last_epoch != 0 and self.last_epoch % self.step_size == 0
        return [group["lr"] * self.gamma if decay else group["lr"] for group in self.optimizer.param_groups]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch of ``milestones`` (increasing; a repeat counts twice)."""

    _saved_keys = LRScheduler._saved_keys + ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        if not all(isinstance(m, int) and not isinstance(m, bool) for m in milestones) or milestones != sorted(
                milestones):
            raise ValueError(f"MultiStepLR: milestones must be increasing integers, got {milestones!r}")
        self.milestones, self.gamma = milestones, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        times = collections.Counter(self.milestones)[self.last_epoch]
        return [group["lr"] * self.gamma ** times for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    _saved_keys = LRScheduler._saved_keys + ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [group["lr"] * (self.gamma if self.last_epoch else 1.0) for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial lr down to ``eta_min`` over ``T_max`` epochs (and back up after, as PyTorch)."""

    _saved_keys = LRScheduler._saved_keys + ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803  (PyTorch's argument name)
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        share = (1.0 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2.0
        return [self.eta_min + (base_lr - self.eta_min) * share for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """A linear warm-up (or cool-down): the factor on the initial lr goes from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then stays; PyTorch's closed form (its step-by-step form equals it up to rounding
    when nothing else sets the lr)."""

    _saved_keys = LRScheduler._saved_keys + ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got "
                             f"{start_factor} and {end_factor}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters <= 0:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * factor for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = initial lr * ``lr_lambda(epoch)``; ``lr_lambda`` is one function or a list, one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per param group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        if not all(callable(function) for function in self.lr_lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch (or a list of them)")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * function(self.last_epoch) for function, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when the metric given to ``step(metric)`` stopped improving (PyTorch's rules).

    An epoch improves on the best metric so far if, for ``mode="min"``, metric < best * (1 - threshold)
    (``threshold_mode="rel"``) or metric < best - threshold (``"abs"``); mirrored for ``mode="max"``. After more
    than ``patience`` epochs in a row without improvement each group's lr becomes max(lr * factor, min_lr) (a change
    smaller than ``eps`` is skipped), and the count then waits ``cooldown`` epochs before it starts again.
    """

    _saved_keys = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lrs",
                   "default_min_lr", "eps", "best", "num_bad_epochs", "cooldown_counter", "last_epoch", "last_lr")

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"{name}: factor must be in [0, 1) (it multiplies the lr down), got {factor!r}")
        groups = len(optimizer.param_groups)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr  # for groups added later
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(min_lrs) != groups:
            raise ValueError(f"{name}: expected {groups} min_lr values (one per param group), got {len(min_lrs)}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience, self.cooldown, self.eps = mode, factor, patience, cooldown, eps
        self.threshold, self.threshold_mode, self.min_lrs = threshold, threshold_mode, min_lrs
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self.last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric):
        """Whether ``metric`` improves on ``self.best`` by more than the threshold."""
        if self.mode == "min":
            bar = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return metric < bar
        bar = self.best * (1.0 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > bar

    def step(self, metrics):
        """Count one epoch with ``metrics`` (a number or a one-element tensor) and lower the lr if it is time."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._match_min_lrs_to_the_groups()
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                lowered = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - lowered > self.eps:
                    group["lr"] = lowered
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self.last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _match_min_lrs_to_the_groups(self):
        """A param group added since (``add_param_group``, a backbone unfrozen) gets the one ``min_lr`` given; with
        a list of them, which one it should get is unknown: an error, as PyTorch's."""
        groups = len(self.optimizer.param_groups)
        if groups == len(self.min_lrs):
            return
        if self.default_min_lr is None:
            raise ValueError(f"ReduceLROnPlateau: the optimizer has {groups} param groups, but min_lr gave "
                             f"{len(self.min_lrs)} (a group was added since): set scheduler.min_lrs to one per group")
        self.min_lrs = [self.default_min_lr] * groups

    def get_last_lr(self):
        """The learning rates after the last ``step()``."""
        return list(self.last_lr)

    def state_dict(self):
        """The settings and the count so far, as plain numbers."""
        return {key: getattr(self, key) for key in self._saved_keys}

    def load_state_dict(self, state_dict):
        for key in self._saved_keys:
            setattr(self, key, state_dict[key])


def __getattr__(name):  # a PyTorch name tinygen lacks: say so (tinygen/missing_names.py)
    from tinygen import missing_names

    raise missing_names.error("optim.lr_scheduler", name)
