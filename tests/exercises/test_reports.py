"""Instructors' tools: JSON, JUnit XML and Gradescope reports that carry the console's verdicts, an autograder's exit
status, graduated hints on request, and an instructor's own exercises picked up from a folder."""
import json
import os
import xml.etree.ElementTree as ElementTree

import pytest

from tinygen.cli import main
from tinygen.exercises import (FAIL, NOT_STARTED, PASS, check_workspace, format_results, gradescope_results,
                               json_report, junit_xml, start_workspace)

from . import instructor
from .workspaces import NAMES, grade, stub_of, workspace, write_solution  # noqa: F401

WRONG_MUL = ("sum_to(g * b, a.shape)", "g * b")


@pytest.fixture
def mixed(workspace):
    """A workspace with one pass (tanh), one failure (mul), the rest not started."""
    start_workspace(workspace)
    write_solution(workspace, "tanh")
    write_solution(workspace, "mul", WRONG_MUL)
    return workspace


def _console_verdicts(report):
    lines = report.splitlines()
    return {line.split()[0]: line.split()[1] if line.split()[1] != "not" else NOT_STARTED
            for line in lines[1:1 + len(NAMES)]}


def test_the_console_table_shows_each_verdict_the_first_hint_and_how_to_get_more(mixed):
    results = check_workspace(mixed, isolate=False)
    report = format_results(results, workspace="my-work")
    lines = report.splitlines()
    assert lines[0].split() == ["exercise", "status", "message"]
    assert lines[1].split()[:2] == ["tanh", "pass"] and lines[3].split()[:2] == ["mul", "fail"]
    assert "  hint: dL/da has the shape of z, not of a: a was broadcast" in report
    assert "  (the next hint: tinygen exercises hint mul my-work)" in report
    assert "sum_to(g * b, a.shape)" not in report  # the answer
    assert report.endswith(f"{len(NAMES)} checked: 1 passed, 1 failed, {len(NAMES) - 2} not started (score 1/19)")
    deeper = format_results(results, hint_level=3)
    assert "  hint 2: an entry of a that broadcasting copied" in deeper and "  hint 3: add the gradients" in deeper


def test_json_junit_and_gradescope_carry_the_console_verdicts(mixed):
    results = check_workspace(mixed, isolate=False)
    console = _console_verdicts(format_results(results))
    report = json.loads(json.dumps(json_report(results, str(mixed))))
    assert {e["name"]: e["status"] for e in report["exercises"]} == console
    assert (report["score"], report["max_score"], report["passed"]) == (1, 19, False)
    assert report["counts"] == {PASS: 1, FAIL: 1, NOT_STARTED: 17}
    mul = next(e for e in report["exercises"] if e["name"] == "mul")
    assert mul["score"] == 0 and mul["check"] == "shape of a" and "a was broadcast" in mul["hint"]

    suite = ElementTree.fromstring(junit_xml(results))
    counts = (suite.get("tests"), suite.get("failures"), suite.get("skipped"))
    assert suite.tag == "testsuite" and counts == ("19", "1", "17")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(NAMES) and list(cases["tanh"]) == []
    assert cases["mul"].find("failure").get("type") == "shape of a"
    assert "dL/da has shape (3, 4)" in cases["mul"].find("failure").get("message")
    assert cases["engine"].find("skipped") is not None

    gradescope = gradescope_results(results)
    assert gradescope["score"] == 1 and len(gradescope["tests"]) == 19
    statuses = {test["name"]: test["status"] for test in gradescope["tests"]}
    assert statuses["tanh"] == "passed" and statuses["mul"] == statuses["engine"] == "failed"
    assert all(test["max_score"] == 1 for test in gradescope["tests"])


def test_the_command_line_writes_the_reports_and_exits_for_an_autograder(mixed, tmp_path, capsys):
    junit, gradescope = tmp_path / "junit.xml", tmp_path / "results.json"
    status = main(["exercises", "check", str(mixed), "--json", "--junit", str(junit), "--gradescope", str(gradescope)])
    assert status == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in report["exercises"]] == NAMES
    assert ElementTree.parse(junit).getroot().get("failures") == "1"
    assert json.loads(gradescope.read_text())["score"] == 1
    assert main(["exercises", "check", str(mixed), "tanh", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


@pytest.mark.parametrize("option, target", [
    ("--junit", "run/checkpoint.npz"), ("--gradescope", "run/metrics.json"), ("--junit", "run/samples.png"),
    ("--junit", "work/mul.py"), ("--gradescope", "work/README.md"), ("--junit", "model.npz"),
])
def test_a_report_never_replaces_a_checkpoint_a_runs_output_or_the_students_work(tmp_path, capsys, option, target):
    """`--junit FILE` once opened FILE for writing after grading: a run's checkpoint or the student's mul.py named
    there by mistake was replaced by XML. Now it is refused before grading, and the file is kept."""
    (tmp_path / "run").mkdir()
    (tmp_path / "work").mkdir()
    for name in ("run/checkpoint.npz", "run/metrics.json", "run/samples.png", "work/mul.py", "work/README.md",
                 "model.npz"):
        (tmp_path / name).write_bytes(b"precious " + name.encode())
    status = main(["exercises", "check", str(tmp_path / "work"), "mul", option, str(tmp_path / target)])
    assert status == 2
    error = capsys.readouterr().err
    assert f"{option} {tmp_path / target}" in error and "would replace it" in error and len(error.splitlines()) == 1
    assert (tmp_path / target).read_bytes() == b"precious " + target.encode()


def test_report_paths_are_checked_before_grading(tmp_path, capsys):
    """A missing folder, a directory or one file named twice is an error before the grading, not after it."""
    for options, expected in [(["--junit", str(tmp_path / "missing" / "j.xml")], "does not exist"),
                              (["--gradescope", str(tmp_path)], "is a directory"),
                              (["--junit", str(tmp_path / "r"), "--gradescope", str(tmp_path / "r")], "both name")]:
        assert main(["exercises", "check", str(tmp_path / "nowhere"), *options]) == 2
        assert expected in capsys.readouterr().err


def test_hints_come_one_level_at_a_time_and_the_answer_only_on_request(workspace, capsys):
    write_solution(workspace, "mul", WRONG_MUL)
    assert main(["exercises", "hint", "mul", str(workspace)]) == 1
    first = capsys.readouterr().out
    assert "hint 1: dL/da has the shape of z" in first and "hint 2: an entry of a" in first
    assert "\nhint 3:" not in first and "sum_to(g * b, a.shape)" not in first
    assert main(["exercises", "hint", "mul", str(workspace)]) == 1
    second = capsys.readouterr().out
    assert "hint 3: add the gradients of the copies" in second and "--answer" in second
    assert "\nanswer:" not in second
    assert main(["exercises", "hint", "mul", str(workspace), "--answer"]) == 1
    assert "answer: sum_to(g * b, a.shape)" in capsys.readouterr().out
    write_solution(workspace, "mul", ("sum_to(g * a, b.shape)", "sum_to(g * b, b.shape)"))  # another failing check
    main(["exercises", "hint", "mul", str(workspace)])
    again = capsys.readouterr().out
    assert "hint 1: dL/db has wrong values" in again and "\nhint 2:" in again and "\nhint 3:" not in again
    write_solution(workspace, "mul")
    assert main(["exercises", "hint", "mul", str(workspace)]) == 0
    assert "mul passes: no hint needed." in capsys.readouterr().out


def test_check_shows_deeper_hints_on_request(workspace, capsys):
    write_solution(workspace, "mul", WRONG_MUL)
    main(["exercises", "check", str(workspace), "mul", "--hint", "2"])
    out = capsys.readouterr().out
    assert "  hint: dL/da has the shape of z" in out and "  hint 2: an entry of a" in out and "hint 3" not in out


# --- an instructor's own exercises ------------------------------------------------------------------------------

def test_an_instructors_exercise_is_listed_started_and_graded(tmp_path, capsys):
    course = instructor.write_course(tmp_path / "course")
    assert main(["exercises", "list", "--from", str(course)]) == 0
    listing = capsys.readouterr().out
    assert "the course path (20 exercises" in listing and "20. softplus" in listing and "after: tanh" in listing

    work = tmp_path / "work"
    assert main(["exercises", "start", str(work), "--from", str(course)]) == 0
    assert "softplus.py" in capsys.readouterr().out
    stub = (work / "softplus.py").read_text()
    assert "Softplus.backward: not written yet" in stub and "sigmoid(x * self.beta)" not in stub
    row = "| 20 | `softplus.py` | backward of softplus, log(1 + exp(x)) | tanh | - |"
    assert row in (work / "README.md").read_text()
    assert grade(work, "softplus", from_dirs=[course]).status == NOT_STARTED

    (work / "softplus.py").write_text((course / "softplus" / "solution.py").read_text())
    result = grade(work, "softplus", isolate=True, from_dirs=[course])
    assert (result.status, result.points, result.max_points) == (PASS, 2, 2)

    (work / "softplus.py").write_text(stub.replace('raise NotImplementedError("Softplus.backward: not written yet '
                                                   '(read its docstring)")', "return g * sigmoid(x)"))
    (work / "softplus.py").write_text((work / "softplus.py").read_text().replace(
        "return g * sigmoid(x)", "(x,) = self.saved_inputs\n        return g * sigmoid(2 * x)"))
    wrong = grade(work, "softplus", from_dirs=[course])
    assert (wrong.status, wrong.check) == (FAIL, "gradient of x") and wrong.hint == "dL/dx has wrong values"

    (work / "softplus.py").write_text("from tinygen.ops import elementwise\n\n\nclass Softplus(elementwise.Softplus):\n"
                                      "    def backward(self, g):\n        return super().backward(g)\n")
    cheat = grade(work, "softplus", from_dirs=[course])
    assert (cheat.status, cheat.check) == (FAIL, "delegation")

    assert main(["exercises", "check", str(work), "--from", str(course), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["exercises"][-1]["name"] == "softplus" and report["max_score"] == 21


def test_an_instructors_own_exercises_are_graded_and_scored_alone(tmp_path, capsys):
    """Probe: a TA grading a course of the instructor's own exercises could grade all 20 (the 19 built-in ones not
    started, scored out of 21) or one exercise per command, one report each: `check DIR NAME NAME ...` grades
    those named, in one report scored out of their points."""
    course = instructor.write_course(tmp_path / "course")
    work = tmp_path / "work"
    start_workspace(work, [course])
    (work / "softplus.py").write_text((course / "softplus" / "solution.py").read_text())
    assert main(["exercises", "check", str(work), "softplus", "tanh", "--from", str(course), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in report["exercises"]] == ["tanh", "softplus"]
    assert (report["score"], report["max_score"]) == (2, 3)
    assert main(["exercises", "check", str(work), "softplus", "tanhh", "--from", str(course)]) == 2
    assert "unknown exercise 'tanhh'" in capsys.readouterr().err


def test_a_broken_instructor_folder_is_a_clear_error(tmp_path, capsys):
    folder = tmp_path / "course" / "broken"
    folder.mkdir(parents=True)
    (folder / "exercise.py").write_text("SUMMARY = 'no grade function'\n")
    (folder / "stub.py").write_text("\n")
    assert main(["exercises", "list", "--from", str(tmp_path / "course")]) == 2
    assert "exercise.py must define grade" in capsys.readouterr().err
    assert main(["exercises", "list", "--from", str(tmp_path / "nowhere")]) == 2
    assert "no such folder of exercises" in capsys.readouterr().err


def test_junit_xml_holds_terminal_colours_and_nuls_a_submission_printed(workspace):
    """A progress bar's colours (ESC) in what a wrong submission printed made the whole JUnit file unreadable:
    characters XML cannot hold are written as their escapes."""
    write_solution(workspace, "mul", ("        a, b = self.saved_inputs\n",
                                      "        print('\\x1b[32m50%\\x1b[0m\\x00')\n        a, b = self.saved_inputs\n"))
    (workspace / "mul.py").write_text((workspace / "mul.py").read_text().replace(*WRONG_MUL))
    results = check_workspace(workspace, "mul", jobs=1)
    assert "\x1b[32m" in results[0].output
    case = ElementTree.fromstring(junit_xml(results)).find("testcase")
    assert "\\x1b[32m50%\\x1b[0m\\x00" in case.find("system-out").text
    assert case.find("failure").get("type") == "shape of a"


def test_a_workspace_that_is_a_file_is_named_as_such(tmp_path, capsys):
    """Probe: `tinygen exercises start notes.txt` said "[Errno 17] File exists: 'notes.txt'", and `check notes.txt`
    advised `exercises start notes.txt`, which fails."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    for action in ("start", "check"):
        assert main(["exercises", action, str(notes)]) == 2
        assert f"the workspace {str(notes)!r} is a file, not a folder" in capsys.readouterr().err
    assert notes.read_text() == "mine"


def test_a_folder_named_as_an_exercises_file_fails_that_exercise_only(mixed, capsys):
    """Probe: a submission with a folder softplus.py (an upload gone wrong) stopped the whole grading with "[Errno
    21] Is a directory" and exit status 2: no report, and no verdict on the exercises that were there."""
    (mixed / "sum.py").unlink()
    (mixed / "sum.py").mkdir()
    for isolate in (False, True):
        results = {result.name: result for result in check_workspace(mixed, isolate=isolate)}
        assert (results["sum"].status, results["sum"].check) == (FAIL, "file")
        assert results["sum"].message == "sum.py is a folder, expected the Python file of the exercise"
        assert results["tanh"].status == PASS and results["mul"].status == FAIL
    assert main(["exercises", "check", str(mixed), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["counts"] == {PASS: 1, FAIL: 2, NOT_STARTED: len(NAMES) - 3}


def test_a_file_in_a_folder_of_the_submission_is_pointed_at(tmp_path):
    """Probe: a submission uploaded as a folder (submission/my-exercises/tanh.py), or with Tanh.py, read "tanh.py is
    missing" for each exercise, with nothing that said where the file was."""
    (tmp_path / "my exercises").mkdir()
    write_solution(tmp_path / "my exercises", "tanh")
    (result,) = check_workspace(tmp_path, "tanh")
    assert result.status == NOT_STARTED
    assert result.message == ("tanh.py is missing (there is my exercises/tanh.py: the exercises' files belong at the "
                              "top of the workspace, not in a folder of it): `tinygen exercises start` writes it")
    (tmp_path / "Tanh.py").write_text("x = 1\n")
    if (tmp_path / "tanh.py").exists():
        return  # a file system that ignores case (macOS's, Windows'): Tanh.py is tanh.py there
    (result,) = check_workspace(tmp_path, "tanh")
    assert result.message == ("tanh.py is missing (there is Tanh.py: the name is tanh.py, in lower case): `tinygen "
                              "exercises start` writes it")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_report_into_a_stream_is_written_into_it_not_replaced(tmp_path):
    """`--junit /dev/stdout` or a pipe is written into (a CI log, a `| tee`), never replaced by a regular file."""
    import threading

    start_workspace(tmp_path / "work")
    pipe, got = tmp_path / "pipe", []
    os.mkfifo(pipe)
    reader = threading.Thread(target=lambda: got.append(pipe.read_text()))
    reader.start()
    main(["exercises", "check", str(tmp_path / "work"), "mul", "--junit", str(pipe), "--gradescope", os.devnull])
    reader.join(timeout=60)
    assert got and ElementTree.fromstring(got[0]).get("tests") == "1"
    assert not pipe.is_file() and not os.path.isfile(os.devnull)
