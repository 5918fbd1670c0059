"""Optimizers (update parameters from their gradients) and learning-rate schedules, PyTorch's names."""
from tinygen.optim.optimizer import Optimizer  # noqa: F401
from tinygen.optim.sgd import SGD  # noqa: F401
from tinygen.optim.adam import Adam, AdamW  # noqa: F401
from tinygen.optim.ema import ExponentialMovingAverage  # noqa: F401
from tinygen.optim import lr_scheduler  # noqa: F401

__all__ = ["Adam", "AdamW", "ExponentialMovingAverage", "Optimizer", "SGD", "lr_scheduler"]
