"""A property of the command line: for any argument list (valid or not: out-of-range and non-finite numbers, odd
paths, missing files, FIFOs, directories, the checkpoint itself as an output), ``tinygen`` either finishes (exit 0,
its outputs written), or prints one line that says what is wrong (exit 2; argparse's own errors end with such a
line after the usage), or stops a diverging run with one line (exit 3). Never a traceback, never an "unexpected"
error (a bug).

Runs stay short: --epochs and --subset are always given, from small values, and the MNIST GANs are drawn less often.
Paths hold no control characters (a newline in a file name would make any message that names it two lines).
"""
import contextlib
import io
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.cli import main

from .conftest import TOY

MODELS = st.sampled_from(["toy", "toy", "toy", "toy", "vae", "vae", "gan", "dcgan", "wgan-gp"])
EPOCHS = st.sampled_from(["-1", "0", "1", "1", "1", "x", "1.5", ""])
SUBSETS = st.sampled_from(["-1", "0", "1", "64", "64", "64", "100000000", "x"])
BATCHES = st.sampled_from(["-3", "0", "1", "2", "32", "64", "1000000000000", "x"])
LATENTS = st.sampled_from(["-1", "0", "1", "2", "16", str(10**15), "1e3"])
SEEDS = st.sampled_from(["-1", "0", "7", str(2**63), str(2**64), "x"])
CRITICS = st.sampled_from(["-1", "0", "1", "1000000000000"])
NUMBERS = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e308", "-1", "0", "1e-3", "5", "x", ""]),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))
DEVICES = st.sampled_from(["cpu", "cpu", "strict", "cuda", "tpu"])
COUNTS = st.sampled_from(["-1", "0", "1", "2", "16", "10001", "1000000000000", "x"])
#: paths relative to the example's own directory, which holds the files made by ``example_directory``
PATHS = st.one_of(
    st.sampled_from(["run", "a b", "ü/ñ", "x" * 250, "deep/new/dir", "", ".", "file.txt", "empty", "empty/",
                     "finished", "finished/", "fifo.npz", "ckpt.npz", "finished/checkpoint.npz", "/dev/null",
                     "/dev/null/x", "-", "x.png", "x.jpg", "x.JPEG", "w.gif", "x.bmp", "x" * 246 + ".png",
                     "missing/x.png", "empty/x.png"]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12).filter(lambda p: not p.startswith("/")),
)


@st.composite
def train_arguments(draw):
    arguments = ["train", draw(MODELS), "--epochs", draw(EPOCHS), "--subset", draw(SUBSETS), "--no-progress"]
    options = {"--batch-size": BATCHES, "--lr": NUMBERS, "--latent-dim": LATENTS, "--seed": SEEDS,
               "--device": DEVICES, "--out": PATHS, "--n-critic": CRITICS, "--gp-lambda": NUMBERS, "--beta": NUMBERS}
    for option, values in options.items():
        if draw(st.booleans()):
            arguments += [option, draw(values)]
    if draw(st.booleans()):
        arguments += ["--betas", draw(NUMBERS), draw(NUMBERS)]
    for flag in ("--resume", "--overwrite"):
        if draw(st.integers(0, 3)) == 0:
            arguments.append(flag)
    return arguments


@st.composite
def sample_arguments(draw):
    arguments = ["sample", draw(st.one_of(st.just("ckpt.npz"), PATHS))]
    options = {"--out": PATHS, "--gif": PATHS, "--n": COUNTS, "--seed": SEEDS, "--device": DEVICES}
    for option, values in options.items():
        if draw(st.booleans()):
            arguments += [option, draw(values)]
    return arguments


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("property") / "finished"
    assert main(["train", "toy", *TOY, "--out", str(out)]) == 0
    return out


@contextlib.contextmanager
def example_directory(finished_run):
    """A fresh working directory with a finished run, its checkpoint, a file, an empty directory and a FIFO."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as directory:
        shutil.copytree(finished_run, os.path.join(directory, "finished"))
        shutil.copy(os.path.join(finished_run, "checkpoint.npz"), os.path.join(directory, "ckpt.npz"))
        with open(os.path.join(directory, "file.txt"), "w") as file:
            file.write("not a checkpoint")
        os.mkdir(os.path.join(directory, "empty"))
        if hasattr(os, "mkfifo"):
            os.mkfifo(os.path.join(directory, "fifo.npz"))
        os.chdir(directory)
        try:
            yield directory
        finally:
            os.chdir(previous)


def run(arguments):
    """(exit status, stdout, stderr) of ``tinygen ARGUMENTS``, argparse's own exits included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(arguments)
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def check(arguments, finished_run):
    with example_directory(finished_run):
        status, out, err = run(arguments)
        assert "Traceback" not in err and "unexpected" not in err, (arguments, err)
        lines = [line for line in err.splitlines() if line.strip()]
        if status == 0:
            return
        assert status in (2, 3), (arguments, status, err)
        assert lines and lines[-1].startswith(f"tinygen {arguments[0]}: "), (arguments, err)
        if not lines[-1].startswith(f"tinygen {arguments[0]}: error: argument") and "usage:" not in err:
            assert len(lines) == 1, (arguments, err)
        if status == 3:
            assert arguments[0] == "train" and " stopped at epoch " in lines[-1], (arguments, err)


QUICK = settings(max_examples=min(settings().max_examples, 30), deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@QUICK
@given(arguments=train_arguments())
def test_train_finishes_or_says_what_is_wrong_in_one_line(arguments, finished_run):
    check(arguments, finished_run)


@pytest.mark.slow
@QUICK
@given(arguments=sample_arguments())
def test_sample_finishes_or_says_what_is_wrong_in_one_line(arguments, finished_run):
    check(arguments, finished_run)
