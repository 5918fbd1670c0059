"""Install and error pitfalls: installing from source in a fresh environment, a device test run that tests
nothing, misspelled names, and NumPy / device arrays mixed with tensors."""
import ast
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygen
from tinygen.autograd import DeviceMismatchError

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run(command, cwd=None, env=None, timeout=600):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# --- installing ---------------------------------------------------------------------------------------------

def test_the_version_is_a_literal_setuptools_reads_without_importing_the_package():
    """``version = attr: tinygen.__version__`` is read statically only while ``__version__`` is a plain string
    literal; anything else (computed, imported from a submodule) makes setuptools import tinygen at build time,
    which fails in pip's isolated build environment, where NumPy is not installed."""
    assert "version = attr: tinygen.__version__" in (ROOT / "setup.cfg").read_text()
    tree = ast.parse((ROOT / "tinygen" / "__init__.py").read_text())
    values = [node.value for node in tree.body if isinstance(node, ast.Assign)
              and any(isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets)]
    assert len(values) == 1 and isinstance(values[0], ast.Constant) and isinstance(values[0].value, str)
    assert values[0].value == tinygen.__version__


def _fresh_venv(path):
    """A virtual environment with its own, empty site-packages (no --system-site-packages), or a skip."""
    created = _run([sys.executable, "-m", "venv", str(path)])
    if created.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {created.stderr.strip()[-300:]}")
    return path / "bin" / "python"


NO_INDEX_SIGNS = ("Could not find a version", "No matching distribution", "Failed to establish a new connection",
                  "Temporary failure in name resolution", "ProxyError", "Network is unreachable")


def _pip_install(python, *arguments, cwd):
    result = _run([str(python), "-m", "pip", "install", "--quiet", "--no-input", *arguments], cwd=cwd)
    if result.returncode != 0 and any(sign in result.stdout + result.stderr for sign in NO_INDEX_SIGNS):
        pytest.skip(f"pip cannot fetch the dependencies here: {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _source_copy(destination):
    """The files a source install reads (not the test suite, not build leftovers of the working tree)."""
    destination.mkdir()
    for name in ("pyproject.toml", "setup.cfg", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, destination / name)
    shutil.copytree(ROOT / "tinygen", destination / "tinygen", ignore=shutil.ignore_patterns("__pycache__"))
    return destination


@pytest.mark.slow
def test_pip_install_works_in_a_fresh_environment(tmp_path):
    """Installs that only work in the developer's environment: the build imports the package (and so needs its
    dependencies before they are installed), package data (the bundled digits, the judge's weights) is left
    out of the wheel, or the console script is missing. A fresh venv, an install from a copy of the source,
    then the package is imported and used from another directory; then the same for an editable install over it
    (one venv for both: its dependencies are installed once)."""
    source = _source_copy(tmp_path / "source")
    python = _fresh_venv(tmp_path / "venv")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for editable in (False, True):
        _pip_install(python, *(["-e", "."] if editable else ["."]), cwd=source)
        check = _run([str(python), "-c", (
            "import pathlib, tinygen\n"
            "from tinygen.data import load_mnist\n"
            "from tinygen.metrics import load_judge\n"
            "images, labels = load_mnist()\n"
            "load_judge()\n"
            "x = tinygen.randn(3, requires_grad=True)\n"
            "(x * x).sum().backward()\n"
            "print(pathlib.Path(tinygen.__file__).resolve().parent, images.shape)\n"
        )], cwd=outside)
        assert check.returncode == 0, check.stderr[-3000:]
        location = pathlib.Path(check.stdout.split()[0])
        if editable:
            assert location == (source / "tinygen").resolve()
        else:
            assert "site-packages" in location.parts
        assert "(10000, 1, 28, 28)" in check.stdout
        info = _run([str(python.parent / "tinygen"), "info"], cwd=outside)
        assert info.returncode == 0 and f"tinygen {tinygen.__version__}" in info.stdout, info.stderr


# --- a device run that tests nothing -------------------------------------------------------------------------

def _pytest_on_one_quick_test(**environment):
    env = {key: value for key, value in os.environ.items() if key not in ("TINYGEN_DEVICE", "TINYGEN_REQUIRE_DEVICE")}
    env.update(environment)
    target = f"{pathlib.Path(__file__).relative_to(ROOT)}::" \
             "test_the_version_is_a_literal_setuptools_reads_without_importing_the_package"
    return _run([sys.executable, "-m", "pytest", target, "-q", "-n", "0", "-p", "no:cacheprovider"], cwd=ROOT, env=env)


@pytest.mark.slow
@pytest.mark.skipif(tinygen.cuda_is_available(), reason="this machine has a GPU: the CUDA tests do run")
def test_a_cuda_run_without_a_gpu_says_it_tested_nothing_and_fails_when_the_gpu_is_required():
    """``TINYGEN_DEVICE=cuda pytest`` on a machine without CuPy skips every test and pytest reports success: a
    GPU CI job whose driver broke goes green for months. tinygen's conftest prints in red that nothing ran on
    the device, and with ``TINYGEN_REQUIRE_DEVICE=1`` fails the run. Normal runs are untouched."""
    warned = _pytest_on_one_quick_test(TINYGEN_DEVICE="cuda")
    assert warned.returncode == 0
    assert "none ran on a GPU" in warned.stdout and "1 skipped" in warned.stdout

    required = _pytest_on_one_quick_test(TINYGEN_DEVICE="cuda", TINYGEN_REQUIRE_DEVICE="1")
    assert required.returncode == 1
    assert "none ran on a GPU (TINYGEN_REQUIRE_DEVICE=1: failing the run)" in required.stdout

    present = _pytest_on_one_quick_test(TINYGEN_DEVICE="strict", TINYGEN_REQUIRE_DEVICE="1")
    assert present.returncode == 0 and "1 passed" in present.stdout and "tinygen:" not in present.stdout


# --- misspelled names -------------------------------------------------------------------------------------------

MISSPELLINGS = [  # (expression, the suggestion Python should make)
    ("tinygen.ones(3).matmaul", "matmul"),
    ("tinygen.ones(3).requires_gard", "requires_grad"),
    ("tinygen.nn.Linear(2, 3).wieght", "weight"),
    ("tinygen.nn.Sequential(tinygen.nn.Linear(2, 3)).trian", "train"),
    ("tinygen.models.VAE().to_logvr", "to_logvar"),
    ("tinygen.randnn", "randn"),
    ("tinygen.nn.functional.conv2dd", "conv2d"),
]


def test_a_misspelled_attribute_is_an_attribute_error_that_python_can_complete():
    """Python 3.10+ ends an AttributeError with "Did you mean: 'matmul'?" when it can see the object's names. A
    custom ``__getattr__`` that raises without them, or a ``__getattr__`` that returns something (None, a lazy
    op) for every name, loses that: a typo then fails somewhere far away. Tensor (with ``__slots__``) and
    Module (whose ``__getattr__`` looks up parameters and sub-modules) both keep it."""
    import tinygen.models  # noqa: F401  (for the expressions)

    for expression, _ in MISSPELLINGS:
        with pytest.raises(AttributeError) as error:
            eval(expression)
        assert error.value.name == expression.rsplit(".", 1)[1]
    script = "import sys, tinygen, tinygen.models\n" + "".join(
        f"try:\n    {expression}\nexcept AttributeError as error:\n"
        "    sys.__excepthook__(type(error), error, error.__traceback__)\n" for expression, _ in MISSPELLINGS)
    printed = _run([sys.executable, "-c", script], cwd=ROOT)   # the interpreter's own printing adds the hints
    for expression, suggestion in MISSPELLINGS:
        assert f"Did you mean: '{suggestion}'?" in printed.stderr, (expression, printed.stderr[-2000:])


def test_setting_a_misspelled_tensor_attribute_is_an_error_not_a_new_attribute():
    """``x.requires_gard = True`` on a plain Python object silently adds an attribute, and x never gets a
    gradient. Tensor has ``__slots__``: the assignment raises."""
    x = tinygen.ones(3)
    with pytest.raises(AttributeError, match="requires_gard"):
        x.requires_gard = True


# --- NumPy and device arrays next to tensors -------------------------------------------------------------------

def test_tensors_on_two_devices_are_an_error_that_names_both_and_how_to_move():
    """CuPy and NumPy arrays do not mix (CuPy raises a bare TypeError deep inside the op; NumPy may convert a
    device array by copying it, silently, every step). tinygen refuses at the op, names both devices, and says
    how to move one; the strict device stands in for CUDA here."""
    host_tensor, device_tensor = tinygen.ones(1, 1, 4, 4, device="cpu"), tinygen.ones(1, 1, 2, 2, device="strict")
    attempts = [
        lambda: host_tensor + device_tensor,
        lambda: host_tensor.reshape(4, 4) @ device_tensor.reshape(2, 2),
        lambda: tinygen.nn.functional.conv2d(host_tensor, device_tensor),
        lambda: tinygen.nn.Linear(4, 2).to("strict")(host_tensor),
        lambda: tinygen.cat([host_tensor.reshape(-1), device_tensor.reshape(-1)]),
        lambda: host_tensor.add_(device_tensor.sum()),
    ]
    for attempt in attempts:
        with pytest.raises(DeviceMismatchError) as error:
            attempt()
        message = str(error.value)
        assert "'cpu'" in message and "'strict'" in message and ".to('cpu')" in message and ".to('strict')" in message


@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_a_numpy_array_next_to_a_tensor_is_a_clear_error_and_a_numpy_scalar_just_works(device):
    """``ndarray + tensor`` let NumPy drive: it broadcast the tensor as an opaque object into an object array of
    tensors, silently, and ``np.float64(2) * x`` did the same. Tensors now opt out of NumPy's operators
    (``__array_ufunc__ = None``): a NumPy scalar is a number like a Python float (it does not upcast a float32
    tensor either), and an array is refused with the way to make it a tensor on the right device."""
    x = tinygen.ones(3, device=device)
    for attempt in (lambda: np.ones(3) + x, lambda: x * np.ones(3), lambda: tinygen.maximum(x, np.zeros(3))):
        with pytest.raises(TypeError, match=rf"numpy.ndarray \(host memory\) next to a tensor on '{device}'.*"
                                            rf"tinygen.tensor\(array, device='{device}'\)"):
            attempt()
    for result in (np.float64(2.0) * x, x * np.float32(2.0), np.int64(1) + x, x ** np.float64(2.0),
                   x.clamp(np.float64(0.0), np.float64(0.5)), tinygen.nn.functional.leaky_relu(x, np.float64(0.2))):
        assert isinstance(result, tinygen.Tensor) and result.dtype == tinygen.float32 and result.device == device
    assert (np.float64(0.5) < x).dtype == tinygen.bool_


def test_numpy_reads_a_cpu_tensor_and_refuses_a_device_tensor_or_one_that_needs_grad():
    """``np.asarray(x)`` built an object array of 0-d tensors for any tensor. Now a CPU tensor that needs no
    gradient gives its values (as in PyTorch); a device tensor or one in a graph is a clear error."""
    np.testing.assert_array_equal(np.asarray(tinygen.arange(3.0, device="cpu")), [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"on 'strict'.*x.detach\(\).numpy\(\)"):
        np.asarray(tinygen.ones(2, device="strict"))
    with pytest.raises(TypeError, match=r"requires grad.*x.detach\(\).numpy\(\)"):
        np.asarray(tinygen.ones(2, device="cpu", requires_grad=True))
