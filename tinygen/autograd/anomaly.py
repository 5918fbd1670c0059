"""Anomaly mode: find the op that first produces NaN or Inf, forward or backward.

    with tinygen.autograd.detect_anomaly():
        loss = model(x).mean()
        loss.backward()      # raises AnomalyError naming the op and the user's line that created it

Every op's output is checked as it is computed, and every gradient a node's backward returns (first and
higher order: ops recorded inside a backward with ``create_graph=True`` are named after the node whose backward
made them). It costs a finiteness check per op, so it is off by default; off, it costs one flag test per op.

NaN and Inf themselves are not errors: arithmetic follows IEEE 754 exactly as NumPy does (1/0 = inf,
0/0 = nan, log 0 = -inf, and the same gradients as PyTorch). On the CPU NumPy also warns
("RuntimeWarning: divide by zero encountered in divide", pointing at the line inside tinygen that called it);
CuPy does not. tinygen leaves those warnings alone: silencing them would cost a NumPy error-state switch per op
(about a microsecond, half of a small op's overhead), and a process-wide warnings filter would change
behaviour outside tinygen. Silence them yourself with ``numpy.errstate(all="ignore")``, or turn them into
errors with ``numpy.errstate(all="raise")``; this mode is how to find which op, and which of your lines, made
the first NaN or Inf.
Tests: tests/test_anomaly.py.
"""
import contextlib
import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(FloatingPointError):
    """An op produced NaN or Inf while anomaly mode was on."""


class _AnomalyMode:
    enabled = False
    #: while a node's backward runs in anomaly mode: that node (the ops it records are named after it)
    backward_of = None


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


def check_forward(function, xp, output):
    """In anomaly mode, for each op as it runs: remember where it was created and check its output.

    Ops run by a node's backward are not checked one by one (an intermediate Inf that the backward masks out
    is no anomaly); the node's returned gradient is checked instead, by the engine.
    """
    node = _AnomalyMode.backward_of
    if node is not None:
        function.site = f"{site_of(node)}, in the backward of {node.name}"
        return
    function.site = creation_site()
    check_finite(xp, output, function.name, "forward", function.site)


@contextlib.contextmanager
def running_backward_of(node):
    """Inside the block, ops are recorded as parts of ``node``'s backward (see ``check_forward``)."""
    previous = _AnomalyMode.backward_of
    _AnomalyMode.backward_of = node
    try:
        yield
    finally:
        _AnomalyMode.backward_of = previous


def site_of(node):
    return getattr(node, "site", None) or "an unknown line (the op was recorded outside detect_anomaly())"


def check_finite(xp, array, op_name, phase, site):
    """Raise AnomalyError if ``array`` holds NaN or Inf; ``phase`` is 'forward' or 'backward'."""
    if array.dtype.kind != "f" or bool(xp.isfinite(array).all()):
        return
    bad = "NaN" if bool(xp.isnan(array).any()) else "Inf"
    raise AnomalyError(
        f"{op_name} produced {bad} in its {phase} (shape {tuple(array.shape)}); "
        f"the op was created at {site}"
    )
