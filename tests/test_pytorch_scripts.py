"""Six training scripts written for PyTorch (tests/pytorch_scripts/torch_*.py: a VAE, a DCGAN, an MLP GAN with
Variable and FloatTensor, a WGAN-GP with autograd.grad and .data clipping, a CNN classifier with Adadelta and
StepLR, a conditional GAN with an AMP-ready loop, a warm-up, a frozen layer and a forward hook) run on tinygen with
only their import lines changed (tinygen_*.py).

- The two variants of each script differ in import lines only (a diff, fast).
- Each tinygen variant runs a few steps as it is (slow). Three scripts use PyTorch's ``.data`` (a tensor sharing
  memory, cut out of the graph: ``p.data.clamp_``, ``init.normal_(m.weight.data, ...)``, ``x.data.size(0)``).
- With PyTorch installed, both variants run a few steps in float64 (the FloatTensor script in float32, the type
  it asks for) drawing from one shared random stream (see pytorch_scripts/run_script.py), and every logged loss
  must agree.
"""
import functools
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygen.data import encode_idx, load_mnist

SCRIPTS = Path(__file__).resolve().parent / "pytorch_scripts"
#: name -> (dtype of the comparison, its relative tolerance, uses .data, command-line arguments; {root} = MNIST)
CASES = {
    "vae": ("float64", 1e-9, False, ["--batch-size", "16", "--epochs", "2", "--max-batches", "3",
                                     "--log-interval", "1", "--dataroot", "{root}", "--out", "results"]),
    "dcgan": ("float64", 1e-9, True, ["--dataroot", "{root}", "--batchSize", "8", "--imageSize", "32", "--nz", "16",
                                      "--ngf", "8", "--ndf", "8", "--niter", "1", "--max-batches", "3",
                                      "--workers", "0",
                                      "--manualSeed", "1", "--outf", "out"]),
    "gan": ("float32", 1e-4, True, ["--n_epochs", "1", "--batch_size", "8", "--max_batches", "3", "--sample_interval",
                                    "2", "--dataroot", "{root}"]),
    "wgan_gp": ("float64", 1e-9, True, ["--n_epochs", "1", "--batch_size", "8", "--max_batches", "5", "--n_critic", "2",
                                        "--latent_dim", "16", "--clip_value", "0.5", "--sample_interval", "2",
                                        "--dataroot", "{root}", "--out", "samples"]),
    "mnist_classifier": ("float64", 1e-9, False, ["--batch-size", "16", "--test-batch-size", "32", "--epochs", "2",
                                                  "--max-batches", "2", "--log-interval", "1", "--save-model",
                                                  "--dataroot", "{root}", "--out", "."]),
    "cgan": ("float64", 1e-9, False, ["--n_epochs", "2", "--batch_size", "8", "--max_batches", "3", "--latent_dim",
                                      "16", "--freeze_steps", "2", "--dataroot", "{root}"]),
}
IMPORT_LINE = re.compile(r"^(import|from) ")
LOGGED_NUMBER = re.compile(r"(\w+)=(-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|-?inf)\b")
TORCH_DATA = re.compile(r"(?<!utils)\.data\b")


def test_each_script_has_both_variants_differing_in_import_lines_only():
    for name in CASES:
        theirs = (SCRIPTS / f"torch_{name}.py").read_text().splitlines()
        ours = (SCRIPTS / f"tinygen_{name}.py").read_text().splitlines()
        assert len(theirs) == len(ours), name
        changed = [(a, b) for a, b in zip(theirs, ours) if a != b]
        assert changed, f"{name}: the variants are identical"
        for a, b in changed:
            assert IMPORT_LINE.match(a) and IMPORT_LINE.match(b), f"{name}: a non-import line differs:\n{a}\n{b}"
            assert "torch" in a and "tinygen" in b and "tinygen" not in a


def test_dot_data_is_used_exactly_by_the_scripts_marked_for_it():
    for name, (_, _, uses_data, _) in CASES.items():
        assert bool(TORCH_DATA.search((SCRIPTS / f"torch_{name}.py").read_text())) == uses_data, name


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    """A torchvision-layout MNIST folder: 512 "training" digits (the bundled test digits' first 512) and the test
    split, unpacked as torchvision keeps them."""
    root = tmp_path_factory.mktemp("mnist")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = (tensor.numpy() for tensor in load_mnist("test", device="cpu"))
    for prefix, count in (("train", 512), ("t10k", len(labels))):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(encode_idx(images[:count, 0]))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(encode_idx(labels[:count].astype(np.uint8)))
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@functools.lru_cache(maxsize=None)
def _run_cached(library, name, root, workspace):
    """One run's standard output; each configuration runs once per test session, in its own folder."""
    workdir = Path(workspace) / f"{library}-{name}"
    workdir.mkdir(exist_ok=True)
    dtype, _, _, arguments = CASES[name]
    script = SCRIPTS / f"{library}_{name}.py"
    command = [sys.executable, str(SCRIPTS / "run_script.py"), library, dtype, "0", str(script)]
    command += [argument.format(root=root) for argument in arguments]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"{script.name} with {library} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def run(library, name, root, workspace):
    """The script's logged numbers, [(name, value), ...], from one run (runs are cached per configuration)."""
    output = _run_cached(library, name, str(root), str(workspace))
    numbers = [(key, float(value)) for key, value in LOGGED_NUMBER.findall(output)]
    assert numbers, f"{name} with {library} logged no losses:\n{output[-2000:]}"
    return numbers


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_tinygen_variant_runs_as_written(name, mnist_root, workspace):
    numbers = run("tinygen", name, mnist_root, workspace)
    assert all(math.isfinite(value) for _, value in numbers)


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize("name", list(CASES))
def test_losses_match_pytorch_step_for_step(name, mnist_root, workspace):
    pytest.importorskip("torch")
    _, rtol, _, _ = CASES[name]
    theirs = run("torch", name, mnist_root, workspace)
    ours = run("tinygen", name, mnist_root, workspace)
    assert [key for key, _ in ours] == [key for key, _ in theirs]
    np.testing.assert_allclose([value for _, value in ours], [value for _, value in theirs], rtol=rtol,
                               atol=rtol * 1e-3)
    assert len(theirs) >= 4
