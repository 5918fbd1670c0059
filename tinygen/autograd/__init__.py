"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, ``Function``, anomaly mode, tracing.

``trace`` here is the function ``trace()`` (``with tinygen.autograd.trace() as t:``); its module is
``tinygen/autograd/trace.py`` (import names from it with ``from tinygen.autograd.trace import ...``).
"""
from tinygen.autograd.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from tinygen.autograd.function import DeviceMismatchError, Function
from tinygen.autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from tinygen.autograd.api import backward, grad
from tinygen.autograd.trace import trace  # the function: it hides the module's name in this package
from tinygen.autograd.variable import Variable  # PyTorch's retired wrapper

__all__ = [
    "AnomalyError", "DeviceMismatchError", "Function", "backward", "detect_anomaly", "enable_grad", "grad",
    "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "no_grad", "set_grad_enabled", "trace", "Variable",
]


