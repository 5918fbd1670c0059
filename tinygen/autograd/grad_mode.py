"""Whether ops record a graph. ``with tinygen.no_grad():`` turns recording off (evaluation, optimizer steps)."""
import contextlib


class _GradMode:
    enabled = True


def is_grad_enabled():
    return _GradMode.enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    """Record the graph (``True``) or not (``False``) inside the block; restores the previous mode after."""
    previous = _GradMode.enabled
    _GradMode.enabled = bool(mode)
    try:
        yield
    finally:
        _GradMode.enabled = previous


def no_grad():
    """``with no_grad():`` ops inside build no graph and their results do not require grad."""
    return set_grad_enabled(False)


def enable_grad():
    """``with enable_grad():`` records the graph again inside a ``no_grad`` block."""
    return set_grad_enabled(True)
