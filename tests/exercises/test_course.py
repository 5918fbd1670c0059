"""The course: every exercise in tinygen/exercises/course/ has a stub cut from its reference solution, the reference
solutions pass, untouched stubs are "not started", and the course path puts each exercise after those it builds on."""
import os
import pathlib

import pytest

from tinygen.exercises import COURSE as COURSE_PATH
from tinygen.exercises import NOT_STARTED, PASS, check_workspace, format_results, given, start_workspace
from tinygen.exercises.catalog import BEGIN, COURSE_DIR, END, cut_stub, resolve

from .workspaces import COURSE, NAMES, SOLUTIONS, grade, solution_text, stub_of, workspace, write_solution  # noqa: F401


def test_the_course_holds_every_exercise_folder_and_each_comes_after_what_it_builds_on():
    assert sorted(NAMES) == sorted(entry.name for entry in os.scandir(COURSE_DIR) if entry.is_dir()
                                   and (pathlib.Path(entry.path) / "exercise.py").exists())
    assert tuple(NAMES) == COURSE_PATH
    for position, exercise in enumerate(COURSE):
        assert set(exercise.after) <= set(NAMES[:position]), (exercise.name, exercise.after)
    assert len(NAMES) == 19 and {"engine", "sum_to", "relu", "softmax", "max_pool2d", "dropout", "reparameterize",
                                 "wgan_gp_critic_step"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_stub_is_cut_from_its_reference_solution(name):
    solution = solution_text(name)
    assert BEGIN in solution and END in solution
    assert stub_of(name) == cut_stub(solution), f"stale stub: run `python exercises/update_stubs.py` ({name})"


@pytest.mark.parametrize("name", NAMES)
def test_each_stub_keeps_its_docstrings_compiles_and_is_not_started(workspace, name):
    stub = stub_of(name)
    assert BEGIN not in stub and END not in stub and "NotImplementedError" in stub and '"""' in stub
    compile(stub, f"{name}.py", "exec")
    (workspace / f"{name}.py").write_text(stub)
    result = grade(workspace, name)
    assert result.status == NOT_STARTED, result
    assert "not written yet" in result.message


@pytest.mark.parametrize("name", NAMES)
def test_each_reference_solution_passes(workspace, name):
    write_solution(workspace, name)
    result = grade(workspace, name)
    assert result.status == PASS, result
    assert result.points == result.max_points == 1


@pytest.mark.slow
def test_the_solutions_folder_is_a_finished_workspace():
    results = check_workspace(SOLUTIONS, isolate=False)
    assert [r.name for r in results] == NAMES
    assert all(r.status == PASS for r in results), format_results(results)


@pytest.mark.parametrize("exercise", [e for e in COURSE if e.writes], ids=[e.name for e in COURSE if e.writes])
def test_each_given_base_cuts_exactly_what_its_exercise_asks_for(exercise):
    """A stub's class subclasses a base from ``tinygen.exercises.given`` that has tinygen's class minus the methods
    the exercise says the student writes (and that the grader keeps out of reach)."""
    for name, methods in exercise.writes.items():
        reference = resolve(exercise.replaces[name])
        bases = [value for value in vars(given).values()
                 if isinstance(value, type) and getattr(value, "exercise_reference", None) is reference]
        assert len(bases) == 1, (exercise.name, name)
        assert bases[0].exercise_cut == methods
        assert f"({bases[0].__name__})" in stub_of(exercise.name)
        for method in methods:
            with pytest.raises(given.NotGiven, match=f"{reference.__name__}.{method} is not given"):
                getattr(bases[0], method)(object.__new__(bases[0]))


def test_start_writes_the_stubs_and_a_readme_with_the_course_path_and_keeps_existing_files(workspace):
    written, kept = start_workspace(workspace)
    assert written == ["README.md"] + [f"{name}.py" for name in NAMES] and kept == []
    readme = (workspace / "README.md").read_text()
    assert "## The course path" in readme
    assert "| 6 | `engine.py` | reverse mode itself: topological order and the backward walk | mul, sum |" in readme
    assert "tinygen exercises hint mul THIS_FOLDER" in readme and "--ops THIS_FOLDER" in readme
    (workspace / "mul.py").write_text("# my work\n")
    (workspace / "tanh.py").unlink()
    written, kept = start_workspace(workspace)
    assert written == ["tanh.py"] and "mul.py" in kept
    assert (workspace / "mul.py").read_text() == "# my work\n"


def test_a_missing_file_an_unknown_exercise_and_a_missing_workspace(workspace, tmp_path):
    result = grade(workspace, "sum")
    assert result.status == NOT_STARTED and "sum.py is missing" in result.message
    with pytest.raises(ValueError, match="unknown exercise 'mull'.*mul"):
        check_workspace(workspace, "mull")
    with pytest.raises(ValueError, match="tinygen exercises start"):
        check_workspace(tmp_path / "nowhere")


def test_list_shows_the_course_path_with_what_each_builds_on(capsys):
    from tinygen.cli import main

    assert main(["exercises", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == "the course path (19 exercises; each after those it builds on):"
    engine = listing.index(next(line for line in listing if line.lstrip().startswith("6. engine")))
    assert "reverse mode itself" in listing[engine]
    assert listing[engine + 1].split() == ["after:", "mul,", "sum;", "read", "docs/reverse-mode.md"]
