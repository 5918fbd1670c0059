"""Shared by the command-line tests: run ``tinygen`` in this process and read what it printed, and a finished toy
run to sample from (trained once per test process)."""
import shutil

import pytest

from tinygen.cli import main


class Outcome:
    """What one ``tinygen`` command did: its exit status and what it printed."""

    def __init__(self, status, out, err):
        self.status, self.out, self.err = status, out, err

    def __repr__(self):
        return f"Outcome(status={self.status}, err={self.err!r})"

    @property
    def one_line_error(self):
        """The error line, asserting it is one line and not a traceback."""
        assert "Traceback" not in self.err, self.err
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == 1, self.err
        return lines[0]


@pytest.fixture
def tinygen(capsys):
    """``tinygen("train", "toy", ...)``: run the command line in this process; returns an ``Outcome``."""

    def run(*arguments):
        capsys.readouterr()
        status = main([str(argument) for argument in arguments])
        captured = capsys.readouterr()
        return Outcome(status, captured.out, captured.err)

    return run


TOY = ["--epochs", "1", "--subset", "256", "--no-progress"]


@pytest.fixture(scope="session")
def finished_toy_run(tmp_path_factory):
    """A directory with a finished one-epoch toy run (do not change it: copy it with ``copy_run``)."""
    out = tmp_path_factory.mktemp("finished") / "toy"
    assert main(["train", "toy", *TOY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def toy_run(finished_toy_run, tmp_path):
    """A fresh copy of a finished toy run, in ``tmp_path / "run"``."""
    return copy_run(finished_toy_run, tmp_path / "run")


def copy_run(source, target):
    shutil.copytree(source, target)
    return target


def snapshot(directory):
    """Every file under ``directory`` with its bytes: to prove a command left a directory exactly as it was."""
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}
