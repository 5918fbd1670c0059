"""Grad mode: whether ops record a graph. ``with tinygen.no_grad():`` turns recording off (evaluation, optimizer steps).

The mode belongs to the thread that sets it (as in PyTorch): a thread sampling under ``no_grad`` does not stop
another from recording its graph, and every new thread starts with recording on. ``no_grad``, ``enable_grad``
and ``set_grad_enabled`` are context managers and decorators (``@no_grad()``, or ``@no_grad`` bare); leaving
the block or the decorated function restores the previous mode, also when an exception leaves it.
Tests: tests/test_grad_mode.py.
"""
import functools
import threading


class _ThreadGradMode(threading.local):
    enabled = True  # the class default is what each thread sees until it sets its own


_mode = _ThreadGradMode()


def is_grad_enabled():
    return _mode.enabled


class _GradModeSwitch:
    """Grad mode ``mode`` inside a ``with`` block or a decorated function; the previous mode after it."""

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        self.previous = _mode.enabled
        _mode.enabled = self.mode

    def __exit__(self, *exception):
        _mode.enabled = self.previous

    def __call__(self, function):
        mode = self.mode

        @functools.wraps(function)
        def switched(*args, **kwargs):
            with _GradModeSwitch(mode):  # a switch per call: calls may nest, or run in several threads at once
                return function(*args, **kwargs)

        return switched


class no_grad(_GradModeSwitch):
    """``with no_grad():`` ops inside build no graph and their results do not require grad."""

    def __new__(cls, function=None):  # ``@no_grad`` without parentheses decorates ``function`` at once
        return super().__new__(cls) if function is None else _GradModeSwitch(False)(function)

    def __init__(self, function=None):
        super().__init__(False)


class inference_mode(_GradModeSwitch):
    """PyTorch's ``inference_mode()``: here ``no_grad()`` (tinygen has no separate inference tensors);
    ``inference_mode(False)`` leaves the mode as it is. A context manager and a decorator, bare or called."""

    def __new__(cls, mode=True):
        return _GradModeSwitch(False)(mode) if callable(mode) else super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__(False)
        self.enabled = bool(mode)

    def __enter__(self):
        self.previous = _mode.enabled
        if self.enabled:
            _mode.enabled = False

    def __call__(self, function):
        return _GradModeSwitch(False)(function) if self.enabled else function


class enable_grad(_GradModeSwitch):
    """``with enable_grad():`` records the graph again inside a ``no_grad`` block."""

    def __new__(cls, function=None):  # ``@enable_grad`` without parentheses, as ``@no_grad``
        return super().__new__(cls) if function is None else _GradModeSwitch(True)(function)

    def __init__(self, function=None):
        super().__init__(True)


class set_grad_enabled(_GradModeSwitch):
    """Record the graph (``True``) or not (``False``): ``with set_grad_enabled(mode):`` or
    ``@set_grad_enabled(mode)`` for a block or a function, or a plain call ``set_grad_enabled(mode)`` that sets
    the mode from here on (as in PyTorch, the mode is set when the object is made)."""

    def __init__(self, mode):
        super().__init__(bool(mode))
        self.previous = _mode.enabled
        _mode.enabled = self.mode

    def __enter__(self):
        pass  # already set by __init__; __exit__ restores the mode from before it

    def __call__(self, function):
        _mode.enabled = self.previous  # as a decorator it applies to the decorated calls only
        return super().__call__(function)
