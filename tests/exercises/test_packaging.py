"""``pip install .`` ships the exercises' stubs and graders but no reference solution: a built wheel is inspected."""
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from tinygen.exercises.catalog import BEGIN, COURSE

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_carries_the_stubs_and_graders_and_no_reference_solution(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info/ beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".ci-venv", "build", "*.egg-info",
                                                                "runs", "__pycache__", ".pytest_cache", ".hypothesis"))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = tmp_path.glob("tinygen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        texts = {name: archive.read(name).decode("utf-8", "replace") for name in names if name.endswith(".py")}
    for exercise in COURSE:
        assert f"tinygen/exercises/course/{exercise}/exercise.py" in names
        assert f"tinygen/exercises/course/{exercise}/stub.py" in names
    assert "tinygen/exercises/runner.py" in names and "tinygen/exercises/honesty.py" in names
    assert not [name for name in names if "solution" in name.split("/")[-1] or name.startswith("exercises/")]
    marked = [name for name, text in texts.items() if any(line.strip() == BEGIN for line in text.splitlines())]
    assert marked == []  # no file holds a solution block
