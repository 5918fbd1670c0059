"""Test configuration: hypothesis profile, device selection and the skips for optional hardware/oracles.

The suite runs on the default device, so ``TINYGEN_DEVICE=strict pytest`` runs it on the CuPy-rules stand-in
and ``TINYGEN_DEVICE=cuda pytest`` on a GPU (skipping everything cleanly where there is none).

A run for a requested device that ran nothing on it says so at the end, in red: "all skipped" must not read as
"all passed". With ``TINYGEN_REQUIRE_DEVICE=1`` it fails instead (exit status 1): set it where the device must
be there, e.g. on a GPU runner, so a missing CuPy or driver cannot turn the GPU tests into a green no-op.
"""
import importlib.util
import os

import pytest

import tinygen
from tinygen.testing import strategies

strategies.load_profile()

HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_collection_modifyitems(config, items):
    device = tinygen.get_default_device()
    cuda_ok = tinygen.cuda_is_available()
    for item in items:
        if (device == "cuda" or "cuda" in item.keywords) and not cuda_ok:
            item.add_marker(pytest.mark.skip(reason="needs CuPy and a CUDA GPU"))
        if "torch" in item.keywords and not HAS_TORCH:
            item.add_marker(pytest.mark.skip(reason="PyTorch is not installed (pip install tinygen[bench])"))


@pytest.fixture
def device():
    """The device the suite runs on (``TINYGEN_DEVICE``)."""
    return tinygen.get_default_device()


class _Outcomes:
    """Tests that ran (passed or failed) and tests skipped, counted from the reports (with xdist, the controller
    receives every worker's reports)."""

    ran = 0
    skipped = 0


def pytest_runtest_logreport(report):
    if report.when == "call" and not report.skipped:
        _Outcomes.ran += 1
    elif report.skipped:
        _Outcomes.skipped += 1


def _device_problem():
    """Why a run for the device in ``TINYGEN_DEVICE`` tested nothing on it, or ``None``."""
    requested = os.environ.get("TINYGEN_DEVICE")
    if not requested:
        return None
    if tinygen.get_default_device() == "cuda" and not tinygen.cuda_is_available():
        return (f"TINYGEN_DEVICE={requested}, but CuPy or a CUDA GPU is missing: {_Outcomes.skipped} tests were "
                "skipped and none ran on a GPU")
    if _Outcomes.ran == 0 and _Outcomes.skipped:
        return f"TINYGEN_DEVICE={requested}: every selected test was skipped, none ran on {requested}"
    return None


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller has the whole picture
        return
    if _device_problem() and os.environ.get("TINYGEN_REQUIRE_DEVICE") == "1" and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    problem = _device_problem()
    if problem:
        required = os.environ.get("TINYGEN_REQUIRE_DEVICE") == "1"
        terminalreporter.write_sep("=", f"tinygen: {problem}" + (" (TINYGEN_REQUIRE_DEVICE=1: failing the run)"
                                                                 if required else ""), red=True, bold=True)
