"""Helpers: the repository's reference solutions (a finished workspace) and submissions made from them."""
import pathlib

import pytest

from tinygen.exercises.catalog import load_course, lookup
from tinygen.exercises.runner import check_workspace

SOLUTIONS = pathlib.Path(__file__).resolve().parents[2] / "exercises" / "solutions"
COURSE = load_course()
NAMES = [exercise.name for exercise in COURSE]


def solution_text(name):
    return (SOLUTIONS / f"{name}.py").read_text()


def write_solution(directory, name, replace=None, text=None):
    """Put the reference solution of ``name`` in ``directory`` (or ``text``), with ``replace = (old, new)`` applied
    once (it must occur exactly once)."""
    text = solution_text(name) if text is None else text
    if replace is not None:
        old, new = replace
        assert text.count(old) == 1, f"{old!r} should occur once in the solution of {name}"
        text = text.replace(old, new)
    (pathlib.Path(directory) / f"{name}.py").write_text(text)


def grade(directory, name, isolate=False, **options):
    """The one ``Result`` of grading exercise ``name`` in ``directory`` (in this process unless ``isolate``)."""
    (result,) = check_workspace(directory, name, isolate=isolate, **options)
    return result


def stub_of(name):
    return lookup(COURSE, name).stub_text()


@pytest.fixture
def workspace(tmp_path):
    """An empty workspace folder (the tests put the files they need in it)."""
    return tmp_path
