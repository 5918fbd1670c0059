"""Backends and devices: the strict stand-in enforces CuPy's rules, devices never mix silently, tensors move
between devices with gradients flowing back, and CUDA tests skip cleanly without a GPU."""
import os

import numpy as np
import pytest

import tinygen
from tinygen import backend as backends
from tinygen.backend.strict import StrictArray

from helpers import assert_close, host


@pytest.fixture
def strict():
    return backends.get_backend("strict")


def test_strict_arrays_refuse_implicit_conversion_like_cupy(strict):
    array = strict.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match="implicit conversion to a NumPy array is not allowed"):
        np.asarray(array)
    with pytest.raises(TypeError, match="numpy.* was called on a device array"):
        np.concatenate([array, array])
    with pytest.raises(TypeError):
        np.exp(array)
    with pytest.raises(TypeError, match="a strict array and a numpy.ndarray"):
        array + np.ones(2)
    with pytest.raises(TypeError, match="CuPy refuses host arrays"):
        strict.xp.maximum(array, np.ones(2))


def test_strict_module_follows_cupy_api_limits(strict):
    xp = strict.xp
    array = xp.arange(6.0).reshape(2, 3)
    assert isinstance(array.sum(), StrictArray) and array.sum().ndim == 0, "reductions give 0-d arrays"
    with pytest.raises(TypeError):
        xp.lib.stride_tricks.as_strided(array, (2,), (8,), writeable=False)
    generator = xp.random.default_rng(0)
    assert not hasattr(generator, "normal") and not hasattr(generator, "permutation")
    with pytest.raises(TypeError, match="no int64 kernel"):
        xp.add.at(xp.zeros(3, dtype=np.int64), xp.asarray([0, 0]), xp.asarray([1, 1], dtype=np.int64))
    with pytest.raises(TypeError, match="Python list"):
        xp.add(array, [1.0, 2.0, 3.0])


def test_explicit_conversions_work(strict):
    array = strict.asarray([1.5, 2.5])
    assert strict.to_numpy(array).tolist() == [1.5, 2.5]
    assert float(array[0]) == 1.5 and array[1].item() == 2.5


@pytest.mark.parametrize("source, target", [("cpu", "strict"), ("strict", "cpu")])
def test_to_moves_values_and_gradients_flow_back(source, target):
    x = tinygen.tensor([1.0, 2.0], device=source, requires_grad=True)
    y = x.to(target)
    assert y.device == target
    (y * y).sum().backward()
    assert x.grad.device == source
    assert_close(x.grad, [2.0, 4.0])


def test_mixing_devices_names_both_and_says_how_to_move():
    a, b = tinygen.ones(2, device="cpu"), tinygen.ones(2, device="strict")
    for operation in (lambda: a * b, lambda: tinygen.cat([a, b]), lambda: tinygen.where(a > 0, a, b), lambda: a @ b):
        with pytest.raises(RuntimeError, match="'cpu' and 'strict'"):
            operation()


def test_a_cpu_tensor_cannot_be_built_from_a_device_array(strict):
    with pytest.raises(TypeError, match="it lives on another device"):
        tinygen.tensor(strict.asarray([1.0]), device="cpu").numpy()


def test_unknown_devices_are_clear_errors():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        tinygen.zeros(2, device="tpu")


def test_cuda_device_fails_clearly_or_works():
    if tinygen.cuda_is_available():
        assert tinygen.ones(2, device="cuda").device == "cuda"
    else:
        with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
            tinygen.ones(2, device="cuda")


@pytest.mark.cuda
def test_cuda_round_trip_with_gradient():
    x = tinygen.tensor([1.0, -2.0], device="cuda", requires_grad=True)
    (x.relu() * 3).sum().backward()
    assert host(x.grad).tolist() == [3.0, 0.0]
    assert x.cpu().device == "cpu"


def test_default_device_comes_from_the_environment(monkeypatch):
    expected = os.environ.get("TINYGEN_DEVICE", "cpu")
    assert tinygen.get_default_device() == expected
    assert tinygen.ones(1).device == expected


@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc", reason="the tuning is for glibc's malloc")
def test_freed_arrays_are_reused_instead_of_faulted_in_again():
    """glibc hands large freed blocks back to the kernel, so a loop that allocates and frees arrays of a few MB
    (as a training step does) pays ~1,000 page faults per array; with tinygen's settings the blocks are reused."""
    import subprocess
    import sys

    program = (
        "import resource, numpy, tinygen; tinygen.zeros(1)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(50):\n"
        "    a = numpy.ones(1_000_000, numpy.float32); b = numpy.ones(2_000_000, numpy.float32); del a\n"
        "    c = numpy.ones(500_000, numpy.float32); d = b * 2; del b, c, d\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )

    def faults(**environment):
        env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                                env=dict(env, PYTHONPATH=os.pathsep.join(sys.path), **environment))
        return int(result.stdout)

    assert faults(TINYGEN_MALLOC_TUNING="0") > 10 * faults(TINYGEN_MALLOC_TUNING="1")
