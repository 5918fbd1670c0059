"""Each exercise is graded in a process of its own: whatever a submission does (exits, crashes, loops, forges the
grader's report), that exercise fails and the others are graded; and the exit status says so."""
import collections
import os
import re
import subprocess
import sys
import threading
import time

try:
    import resource
except ImportError:  # not on Windows
    resource = None

import pytest

from tinygen.exercises import FAIL, NOT_STARTED, PASS, check_workspace

from .workspaces import grade, solution_text, stub_of, workspace, write_solution  # noqa: F401

BACKWARD_LINE = "        a, b = self.saved_inputs\n"


def _mul_doing(workspace, code):
    write_solution(workspace, "mul", (BACKWARD_LINE, code + BACKWARD_LINE))


@pytest.mark.parametrize("code, message", [
    ("        import sys\n        sys.exit(0)\n", "your code called sys.exit(0) (or exit()) (in mul.py, line"),
    ("        raise SystemExit\n", "your code called sys.exit(None)"),
    ("        raise KeyboardInterrupt\n", "your code raised KeyboardInterrupt (in mul.py, line"),
    ("        import os\n        os._exit(0)\n", "ended with exit status 0 before it reported a result"),
    ("        import os\n        os._exit(3)\n", "ended with exit status 3 before it reported a result"),
    ("        import os, signal\n        os.kill(os.getpid(), signal.SIGSEGV)\n", "crashed (SIGSEGV)"),
])
def test_a_submission_that_ends_the_process_fails_its_exercise(workspace, code, message):
    _mul_doing(workspace, code)
    result = grade(workspace, "mul", isolate=True)
    assert result.status == FAIL
    assert message in result.message


def test_a_submission_that_exits_when_it_is_imported_fails(workspace):
    (workspace / "tanh.py").write_text("import sys\nsys.exit(0)\n")
    result = grade(workspace, "tanh", isolate=True)
    assert result.status == FAIL and "sys.exit(0)" in result.message and "in tanh.py, line 2" in result.message


def test_a_submission_that_never_ends_is_stopped(workspace):
    _mul_doing(workspace, "        while True:\n            pass\n")
    result = grade(workspace, "mul", isolate=True, timeout=3)
    assert (result.status, result.check) == (FAIL, "timeout"), result.message
    assert "took longer than 3 s" in result.message
    # where it was, from the stack written shortly before the timeout
    assert re.search(r"; it was running mul.py, line 2[67]: (while True:|pass)$", result.message), result


def test_the_watchdog_never_crashes_a_submission_that_prints_in_a_loop(tmp_path):
    """The watchdog that says where a timed-out submission was used faulthandler, which reads the stack without the
    GIL: now and then it crashed the grading process (SIGSEGV in CI, a submission printing in a loop), and a slow
    but correct submission would have failed. Here it writes 1000 times while the main thread prints: the process
    must still be printing afterwards, and the stack written last must name the loop."""
    stack = tmp_path / "stack"
    code = ("import threading, time\n"
            "import numpy as np\n"
            "from tinygen.exercises.runner import _write_main_stack_later\n"
            "def watch():\n"
            f"    for _ in range(1000): _write_main_stack_later({str(stack)!r}, 0.0); time.sleep(0.002)\n"
            "    time.sleep(0.5); print('watched')\n"
            "threading.Thread(target=watch).start()\n"
            "def backward(g, depth):\n"
            "    if depth:\n"
            "        return backward(g, depth - 1)\n"
            "    while True:\n"
            "        print('debugging mul', g.shape)\n"
            "backward(np.zeros((3, 4)), 30)\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, watched = collections.deque(maxlen=50), threading.Event()

    def read():
        for line in process.stdout:
            output.append(line)
            if b"watched" in line:  # two threads print: a line may hold both
                watched.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert watched.wait(60), list(output)
        assert process.poll() is None, list(output)  # still printing: the watchdog did not crash it
    finally:
        process.kill()
        process.wait()
    assert re.match(r'File "<string>", line 1[12]\n', stack.read_text()), (stack.read_text(), list(output))


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX's")
@pytest.mark.parametrize("then, timeout", [("", 30), ("        while True:\n            pass\n", 3)],
                         ids=["passes", "never ends"])
def test_a_process_the_submission_starts_ends_with_its_grading(workspace, then, timeout):
    """A process started by the student's code (here a sleep that holds the output open) ran on after the grading
    process was stopped or had finished, and a submission that passes waited for it (a timeout)."""
    pid_file = str(workspace / "pid")
    start = ("        import subprocess, sys\n        if not hasattr(sys, 'started'):\n            sys.started = "
             "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
             f"            open({pid_file!r}, 'w').write(str(sys.started.pid))\n")
    _mul_doing(workspace, start + then)
    began = time.monotonic()
    result = grade(workspace, "mul", isolate=True, timeout=timeout)
    assert (result.status, result.check) == ((FAIL, "timeout") if then else (PASS, "")), result
    assert then or time.monotonic() - began < 20  # it did not wait for the sleep
    pid = int((workspace / "pid").read_text())
    deadline = time.monotonic() + 5  # the kill is sent; the process may take a moment to go
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid):
    """Whether process ``pid`` runs (a zombie, ended and not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = f"/proc/{pid}/stat"
    return not os.path.exists(stat) or open(stat).read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_forged_report_is_not_believed(workspace):
    """The grading process signs its result with a key it read before the student's file was loaded."""
    forge = ('        import json, os, sys\n        json.dump({"nonce": "guess", "result": {"name": "mul", "status": '
             '"pass"}}, open(sys.argv[2], "w"))\n        os._exit(0)\n')
    _mul_doing(workspace, forge)
    result = grade(workspace, "mul", isolate=True)
    assert (result.status, result.check) == (FAIL, "forged")
    assert "a report the grading process did not sign" in result.message


def test_a_report_changed_at_exit_is_not_believed(workspace):
    """The result file held the nonce next to the result, so an atexit handler of a wrong submission could read the
    grader's failure and rewrite it as a pass; the file now holds a signature, which cannot be made without the key."""
    forge = (
        "\n\nimport atexit as _atexit, json as _json, sys as _sys\n\n\n"
        "def _forge():\n"
        "    report = _json.load(open(_sys.argv[2]))\n"
        "    text = isinstance(report['result'], str)\n"
        "    result = _json.loads(report['result']) if text else report['result']\n"
        "    result.update(status='pass', points=1.0, message='', check='', hints=None)\n"
        "    report['result'] = _json.dumps(result) if text else result\n"
        "    _json.dump(report, open(_sys.argv[2], 'w'))\n\n\n"
        "_atexit.register(_forge)\n")
    write_solution(workspace, "mul", ("sum_to(g * b, a.shape)", "g * b"))
    (workspace / "mul.py").write_text((workspace / "mul.py").read_text() + forge)
    result = grade(workspace, "mul", isolate=True)
    assert (result.status, result.check) == (FAIL, "forged"), result


@pytest.mark.skipif(resource is None or not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's")
def test_a_print_in_an_endless_loop_keeps_only_the_end_of_the_output(workspace):
    """The grader kept everything a grading process printed, in memory (gigabytes by the end of a 300 s timeout):
    now only its end, as it comes."""
    _mul_doing(workspace, "        while True:\n            print('debugging mul', g.shape)\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = grade(workspace, "mul", isolate=True, timeout=4)
    assert (result.status, result.check) == (FAIL, "timeout"), result.message
    assert "debugging mul (3, 4)\ndebugging mul" in result.output and len(result.output) <= 2000
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # kilobytes on Linux
    assert grown < 20_000, f"the grader's memory grew by {grown} kB"


def test_what_the_submission_prints_is_kept_and_the_others_are_graded(workspace):
    _mul_doing(workspace, "        print('debugging mul', g.shape)\n        raise RuntimeError('oops')\n")
    write_solution(workspace, "tanh")
    (workspace / "sum.py").write_text(stub_of("sum"))
    results = {r.name: r for r in check_workspace(workspace, isolate=True, jobs=2)}
    assert results["mul"].status == FAIL and "RuntimeError: oops" in results["mul"].message
    assert "debugging mul" in results["mul"].output
    assert results["tanh"].status == PASS and results["sum"].status == NOT_STARTED
    assert results["engine"].status == NOT_STARTED and "engine.py is missing" in results["engine"].message


def test_the_command_line_exit_status(workspace, capsys):
    from tinygen.cli import main

    _mul_doing(workspace, "        import os\n        os._exit(0)\n")
    assert main(["exercises", "check", str(workspace), "mul"]) == 1
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["mul", "fail"]
    write_solution(workspace, "mul")
    assert main(["exercises", "check", str(workspace), "mul"]) == 0
    assert "1 checked: 1 passed, 0 failed, 0 not started (score 1/1)" in capsys.readouterr().out
    assert main(["exercises", "check", str(workspace), "mull"]) == 2
    assert "unknown exercise 'mull'" in capsys.readouterr().err
    assert main(["exercises", "check", str(workspace), "--timeout", "0"]) == 2
    assert solution_text("mul") == (workspace / "mul.py").read_text()


def test_ctrl_c_stops_the_grading_with_its_own_message(workspace, monkeypatch, capsys):
    from tinygen.cli import main
    from tinygen.exercises import command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "check_workspace", interrupted)
    assert main(["exercises", "check", str(workspace)]) == 130
    error = capsys.readouterr().err
    assert "interrupted: grading stopped; nothing was recorded" in error and "checkpoint" not in error
