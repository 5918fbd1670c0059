"""Anomaly mode: find the op that first produces NaN or Inf, forward or backward.

    with tinygen.autograd.detect_anomaly():
        loss = model(x).mean()
        loss.backward()      # raises AnomalyError naming the op and the user's line that created it

It costs a finiteness check per op, so it is off by default.
"""
import contextlib
import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(FloatingPointError):
    """An op produced NaN or Inf while anomaly mode was on."""


class _AnomalyMode:
    enabled = False


@contextlib.contextmanager
def detect_anomaly():
    """Inside the block, every forward output and every backward gradient is checked for NaN/Inf."""
    previous = _AnomalyMode.enabled
    _AnomalyMode.enabled = True
    try:
        yield
    finally:
        _AnomalyMode.enabled = previous


def is_anomaly_enabled():
    return _AnomalyMode.enabled


def creation_site():
    """``file:line`` of the innermost caller outside the tinygen package (where the user called the op)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<inside tinygen>"


def check_finite(xp, array, op_name, phase, site):
    """Raise AnomalyError if ``array`` holds NaN or Inf; ``phase`` is 'forward' or 'backward'."""
    if array.dtype.kind != "f" or bool(xp.isfinite(array).all()):
        return
    bad = "NaN" if bool(xp.isnan(array).any()) else "Inf"
    raise AnomalyError(
        f"{op_name} produced {bad} in its {phase} (shape {tuple(array.shape)}); "
        f"the op was created at {site}"
    )
