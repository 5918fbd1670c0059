"""Test configuration: hypothesis profile, device selection and the skips for optional hardware/oracles.

The suite runs on the default device, so ``TINYGEN_DEVICE=strict pytest`` runs it on the CuPy-rules stand-in
and ``TINYGEN_DEVICE=cuda pytest`` on a GPU (skipping everything cleanly where there is none).
"""
import importlib.util

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
