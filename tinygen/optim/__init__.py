"""Optimizers (update parameters from their gradients) and learning-rate schedules, PyTorch's names."""
from tinygen.optim.optimizer import Optimizer  # noqa: F401
from tinygen.optim.sgd import SGD  # noqa: F401
from tinygen.optim.adam import Adam, AdamW  # noqa: F401
from tinygen.optim.rmsprop import RMSprop  # noqa: F401
from tinygen.optim.adagrad import Adagrad  # noqa: F401
from tinygen.optim.adadelta import Adadelta  # noqa: F401
from tinygen.optim.ema import ExponentialMovingAverage  # noqa: F401
from tinygen.optim import lr_scheduler  # noqa: F401
from tinygen.missing_names import module_getattr as _module_getattr

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "ExponentialMovingAverage", "Optimizer", "RMSprop", "SGD",
           "lr_scheduler"]
__getattr__ = _module_getattr("optim")
