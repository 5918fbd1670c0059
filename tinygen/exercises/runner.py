"""Grading a workspace: each exercise in a process of its own (``check_workspace``, what ``tinygen exercises check``
runs), so that nothing a student's code does (``sys.exit``, ``os._exit``, a crash, an endless loop, patching
tinygen) can end the grading with a pass or reach another exercise; or one exercise in this process
(``grade_exercise``, what each of those processes runs).

A grading process runs ``grade_child([REQUEST, RESULT_FILE])``: it reads a key on stdin, grades, and writes the
result to RESULT_FILE signed with the key (HMAC-SHA256); a process that ends before, or writes no valid signature,
has failed. The key never appears in the file, so code that reads the result there cannot sign another.
"""
import concurrent.futures
import dataclasses
import glob
import hashlib
import hmac
import json
import linecache
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from tinygen.exercises.catalog import load_course, lookup
from tinygen.exercises.given import NotGiven
from tinygen.exercises.grading import RECURSION, ExerciseFailure, Hints
from tinygen.exercises.honesty import TINYGEN_DIR, Delegation, Guard, Tampering
from tinygen.exercises.workspace import load_student_module

PASS, FAIL, NOT_STARTED = "pass", "fail", "not started"
GRADER_ERROR = "grader error"  # a Result's check when the exercise's grade() is at fault, not the submission
DEFAULT_TIMEOUT = 300.0
_STUB_PARTS = re.compile(r'NotImplementedError\("([\w.]+): not written yet')

DELEGATION = Hints(
    what="the grader accepts only your own code: tinygen's own version of this exercise is out of reach while "
         "your code runs",
    direction="write the computation yourself, from the inputs (and what the docstring says is given); other "
              "tinygen operations are fine, the one you are writing is not",
    step="if you subclassed tinygen's op or imported it, subclass the class the stub gives instead, and do not "
         "call super() for the method you write",
)
TAMPERING = Hints(
    what="the grader checks your code with NumPy, tinygen and its own functions and data as they are: your code "
         "changes one of them (an assignment to a library's name or a function's __code__, the grader's cases)",
    direction="compute your answer with those libraries; do not assign to their names, even to restore them (to "
              "put your class or function in place of tinygen's is the grader's job: it does so itself)",
    step="delete the lines that assign to numpy.<name>, tinygen.<module>.<name> or a function's attributes",
)

#: constructs in a student's file an instructor may want to look at (reported, never failed on)
REVIEW = {
    "frame inspection": r"_getframe|\bf_back\b|\bf_locals\b|\btb_frame\b|\binspect\b",
    "the gc module": r"\bgc\.",
    "ctypes": r"\bctypes\b",
    "the grader's modules": r"tinygen\.exercises\.(?!given\b)|from\s+tinygen\.exercises\s+import\s+(?!given\b)",
    "code objects": r"__code__",
    "exec or eval": r"\bexec\(|\beval\(",
    "exiting the process": r"os\._exit|sys\.exit|\bexit\(|\bquit\(",
    "processes": r"\bsubprocess\b|os\.system|\bfork\(",
    "importlib": r"\bimportlib\b",
    "file access": r"\bopen\(|read_text|read_bytes",
    "another framework (torch, jax, tensorflow, scipy)":
        r"(?m)^\s*(?:import|from)\s+(?:[\w.]+\s*,\s*)*(?:torch|jax|tensorflow|scipy)\b"
        r"|__import__\(\s*['\"](?:torch|jax|tensorflow|scipy)\b",
}


@dataclasses.dataclass
class Result:
    name: str
    status: str                     # PASS, FAIL or NOT_STARTED
    message: str = ""
    hints: Hints = None             # the failed check's hints (level 1 is shown with the failure)
    check: str = ""                 # which check failed (hints are counted per check)
    points: float = 0.0
    max_points: float = 1.0
    output: str = ""                # the end of what the student's code printed (isolated runs)
    review: tuple = ()              # REVIEW entries found in the file

    @property
    def hint(self):
        return self.hints.what if self.hints else ""

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["review"] = list(self.review)
        return values

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["hints"] = Hints(**values["hints"]) if values.get("hints") else None
        values["review"] = tuple(values.get("review", ()))
        return cls(**values)


# --- one exercise, in this process ----------------------------------------------------------------------------

def grade_exercise(directory, exercise, course, interrupts=False):
    """Load and grade the student's file of ``exercise`` with the guard armed (``honesty``): a ``Result``.

    interrupts: report a ``KeyboardInterrupt`` raised by the student's code as a failure (in a grading process
    of its own); otherwise it propagates (Ctrl-C stops the grading).
    """
    path = os.path.join(directory, exercise.filename)
    absent = _absent(path, exercise)
    if absent is not None:
        return absent
    with open(path, encoding="utf-8", errors="replace") as file:  # a file in another encoding is Python's to judge
        source = file.read()
    review = tuple(what for what, pattern in REVIEW.items() if re.search(pattern, source))
    reference = exercise.reference()
    guard = Guard(exercise.targets(), exercise.helper_objects(), _forbidden_files(course, path),
                  [e.folder for e in course if not e.builtin], [e.module for e in course if e.module is not None])
    sys.path.insert(0, os.path.abspath(directory))  # the student's files may import each other, wherever run from
    try:
        with guard:
            guard.loading = path
            module = load_student_module(directory, exercise)
            guard.loading = None
            guard.plug(exercise.replacements(module))
            exercise.grade(module, reference)
            compared, failed = guard.comparisons, guard.failures
        result = Result(exercise.name, PASS, points=exercise.points)
        if not compared or failed:
            problem = (f"returned after {failed} failed check(s) (it caught the ExerciseFailure): it would pass a "
                       "wrong answer" if failed else "returned without comparing an answer (no check_forward, "
                       "check_op_backward, check_gradients or compare ran): it would pass any submission")
            result = Result(exercise.name, FAIL, f"exercise {exercise.name} ({exercise.grader_path}): its grade() "
                                                 f"{problem}", check=GRADER_ERROR)
    except KeyboardInterrupt as error:
        if not interrupts:
            raise
        result = Result(exercise.name, FAIL, f"your code raised KeyboardInterrupt{_location(error, path)}")
    except BaseException as error:  # noqa: B036: whatever the student's code raised is graded, not propagated
        result = _failure(exercise, error, path)
    finally:
        if os.path.abspath(directory) in sys.path:  # the student's code may have taken it out
            sys.path.remove(os.path.abspath(directory))
    if guard.tampered:
        result = Result(exercise.name, FAIL, guard.tampered[0], TAMPERING, "tampering")
    elif guard.tripped and result.check != "delegation":
        result = Result(exercise.name, FAIL, guard.tripped[0], DELEGATION, "delegation")
    result.max_points, result.review = exercise.points, review
    return result


def _failure(exercise, error, path):
    name = exercise.name
    if isinstance(error, ExerciseFailure):
        cause = error.__cause__
        where = _location(cause, path) if isinstance(cause, BaseException) and not isinstance(
            cause, (AssertionError, ExerciseFailure)) else ""
        return Result(name, FAIL, error.message + where, error.hints, error.check)
    if isinstance(error, Tampering):
        return Result(name, FAIL, str(error), TAMPERING, "tampering")
    if isinstance(error, Delegation):
        return Result(name, FAIL, f"{error}{_location(error, path)}", DELEGATION, "delegation")
    if isinstance(error, NotGiven):
        return Result(name, FAIL, f"{error}{_location(error, path)}", DELEGATION, "super")
    if isinstance(error, NotImplementedError) and _raised_in(error, path):
        return Result(name, NOT_STARTED, str(error))
    if isinstance(error, SystemExit):
        return Result(name, FAIL, f"your code called sys.exit({error.code!r}) (or exit()){_location(error, path)}: "
                                  "that would end the grading; a submission must return its answer", check="exit")
    if isinstance(error, SyntaxError) and error.filename and os.path.abspath(error.filename) == os.path.abspath(path):
        return Result(name, FAIL, f"SyntaxError: {error.msg} (in {exercise.filename}, line {error.lineno}: "
                                  f"{(error.text or '').strip()})", check="syntax")
    if isinstance(error, RecursionError):
        return Result(name, FAIL, f"your code calls itself without end (RecursionError){_location(error, path)}: "
                                  "while grading, tinygen's own functions for this exercise run your code, so "
                                  "calling them from your implementation recurses", RECURSION, "recursion")
    line = _grader_line(error, exercise, path)
    if line:
        return Result(name, FAIL, f"exercise {name} ({line}): its grader raised {type(error).__name__}: {error} (a "
                                  "mistake in the exercise, not in the submission)", check=GRADER_ERROR)
    if not isinstance(error, Exception):  # GeneratorExit and the like: report, never pass
        return Result(name, FAIL, f"your code raised {type(error).__name__}{_location(error, path)}")
    return Result(name, FAIL, f"{type(error).__name__}: {error}{_location(error, path)}", check="crash")


def _grader_line(error, exercise, path):
    """``"/course/softplus/exercise.py, line 14"``: where an instructor's exercise raised ``error`` on its own (its
    exercise.py or solution.py is on the traceback, the student's file is not); None otherwise. A mistake there
    (a misspelt check, a wrong argument) is the instructor's, not a failure of the submission."""
    if exercise.builtin:
        return None
    frames = traceback.extract_tb(error.__traceback__)
    if any(os.path.abspath(frame.filename) == os.path.abspath(path) for frame in frames):
        return None
    own = [frame for frame in frames if os.path.dirname(os.path.abspath(frame.filename)) == exercise.folder]
    return f"{own[-1].filename}, line {own[-1].lineno}" if own else None


def _forbidden_files(course, student_path):
    """Reference solutions and graders: the student's code may neither open nor run them."""
    files = [exercise.grader_path for exercise in course]
    files += [exercise.solution_path for exercise in course if exercise.solution_path]
    builtin_solutions = [e.solution_path for e in course if e.builtin and e.solution_path]
    if builtin_solutions:
        files += glob.glob(os.path.join(os.path.dirname(builtin_solutions[0]), "*.py"))
    student = os.path.realpath(student_path)
    return [path for path in files if os.path.realpath(path) != student]


def _raised_in(error, path):
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename) == os.path.abspath(path)


def _location(error, path):
    """`` (in mul.py, line 31: <the line>)``: the last line of the student's file that ``error`` went through."""
    if error is None:
        return ""
    target = os.path.abspath(path)
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if os.path.abspath(frame.filename) == target]
    if not frames:
        return ""
    frame = frames[-1]
    if isinstance(error, RecursionError):  # the line that recurses: the one most often on the stack
        frame = max(frames, key=lambda f: sum(other.lineno == f.lineno for other in frames))
    return f" (in {os.path.basename(path)}, line {frame.lineno}: {frame.line})"


# --- each exercise in a process of its own --------------------------------------------------------------------

def check_workspace(directory, name=None, from_dirs=(), isolate=True, jobs=None, timeout=DEFAULT_TIMEOUT):
    """Grade every exercise in ``directory`` (or only ``name``, or the names in a list ``name``), tinygen's and those
    of ``from_dirs``: a list of ``Result`` in course order. isolate: each in a process of its own (``jobs`` at a
    time), stopped after ``timeout`` seconds."""
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise ValueError(f"the workspace {directory!r} is a file, not a folder: name the folder that "
                         "`tinygen exercises start` wrote")
    if not os.path.isdir(directory):
        raise ValueError(f"no workspace at {directory!r}: create one with `tinygen exercises start {directory}`")
    course = load_course(from_dirs)
    if name is None:
        chosen = course
    else:
        wanted = {lookup(course, n).name for n in ([name] if isinstance(name, str) else name)}
        chosen = [exercise for exercise in course if exercise.name in wanted]
    if not isolate:
        results = [grade_exercise(directory, exercise, course) for exercise in chosen]
    else:
        jobs = jobs or min(4, os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(lambda exercise: grade_isolated(directory, exercise, from_dirs, timeout), chosen))
    for result in results:  # the exercise is at fault: an error for its author (exit status 2), not a verdict
        if result.check == GRADER_ERROR:
            raise ValueError(result.message)
    return results


def grade_isolated(directory, exercise, from_dirs=(), timeout=DEFAULT_TIMEOUT):
    """Grade one exercise in a fresh Python process: a ``Result`` whatever the student's code does."""
    path = os.path.join(directory, exercise.filename)
    untouched = _untouched_stub(path, exercise)
    if untouched is not None:
        return untouched
    nonce = secrets.token_hex(16)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(TINYGEN_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    with tempfile.TemporaryDirectory(prefix="tinygen-grade-") as scratch:
        result_file, watchdog = os.path.join(scratch, "result.json"), os.path.join(scratch, "watchdog")
        request = json.dumps({"directory": os.path.abspath(directory), "name": exercise.name,
                              "from": [os.path.abspath(d) for d in from_dirs],
                              "watchdog": [watchdog, time.time() + timeout - min(2.0, 0.25 * timeout)]})
        command = [sys.executable, "-c", "import sys; from tinygen.exercises.runner import grade_child; "
                   "grade_child(sys.argv[1:])", request, result_file]
        done, output = _run_grading_process(command, nonce, environment, timeout)
        if not done:
            return Result(exercise.name, FAIL, f"grading took longer than {timeout:g} s and was stopped (an endless "
                                               f"loop, or far too slow){_stopped_at(watchdog, path)}",
                          check="timeout", output=output, max_points=exercise.points)
        report = _read_report(result_file, nonce)
    if report is FORGED:
        return Result(exercise.name, FAIL, "the result file holds a report the grading process did not sign (written "
                      "or changed by other code: its signature does not match); the exercise counts as failed",
                      check="forged", output=output, max_points=exercise.points)
    if report is None:
        code = done.returncode
        if code < 0:
            why = f"crashed ({_signal_name(-code)})"
        elif code == 0:
            why = "ended with exit status 0 before it reported a result: your code ends the process (os._exit?)"
        else:
            why = f"ended with exit status {code} before it reported a result"
        return Result(exercise.name, FAIL, f"the grading process {why}; the exercise counts as failed",
                      check="exit", output=output, max_points=exercise.points)
    result = Result.from_dict(report)
    result.output = output
    return result


def _run_grading_process(command, nonce, environment, timeout):
    """Run a grading process in a process group of its own: ``(the process, or None if it ran past ``timeout``, the
    end of its output)``. Whatever the student's code started (a subprocess, a fork) is ended with it: it would run
    on after the grading. Of the output only the end is kept, as it comes: a print in an endless loop writes
    gigabytes before the timeout."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=environment, start_new_session=_GROUPS)
    tail = _Tail(process.stdout)
    timed_out = False
    try:
        try:
            process.stdin.write(f"{nonce}\n".encode())
            process.stdin.close()
        except OSError:  # the process ended before it read the key: reported below as having no result
            pass
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _end_group(process)
        process.wait()
        tail.join(5.0)  # the output closes once the group is gone
    return (None if timed_out else process), tail.text()


class _Tail(threading.Thread):
    """Reads a stream to its end, keeping only the last ``limit`` bytes."""

    def __init__(self, stream, limit=4096):
        super().__init__(daemon=True)
        self.stream, self.limit, self.kept = stream, limit, bytearray()
        self.start()

    def run(self):
        while chunk := self.stream.read1(65536):
            self.kept += chunk
            del self.kept[:-self.limit]

    def text(self):
        return _tail(bytes(self.kept))


_GROUPS = hasattr(os, "killpg")  # POSIX: each grading process leads a process group of its own


def _end_group(process):
    """Kill ``process`` and every process of its group (those the student's code started)."""
    if not _GROUPS:
        if process.poll() is None:
            process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # no process of the group is left
        pass


def _stopped_at(watchdog, path):
    """`` while running mul.py, line 27: <the line>``: the innermost line of the student's file in the stack that
    the grading process's watchdog (``_write_main_stack_later``) wrote shortly before the timeout; "" if none."""
    try:
        with open(watchdog) as file:
            stack = file.read()
    except OSError:
        return ""
    target = os.path.abspath(path)
    for filename, line in re.findall(r'File "(.+)", line (\d+)', stack):  # the most recent call first
        if os.path.abspath(filename) == target:
            text = linecache.getline(target, int(line)).strip()
            return f"; it was running {os.path.basename(path)}, line {line}" + (f": {text}" if text else "")
    return ""


def _absent(path, exercise):
    """The verdict on the student's file ``path`` if there is none to grade: missing (not started), or a folder or
    other non-file of that name (failed: a submission's upload gone wrong is that exercise's, not the grading's)."""
    if not os.path.exists(path):
        folder, name = os.path.split(path)
        nested = sorted(glob.glob(os.path.join(glob.escape(folder), "*", name))
                        + glob.glob(os.path.join(glob.escape(folder), "*", "*", name)))
        cased = sorted(entry for entry in os.listdir(folder) if entry.lower() == name.lower())
        where = (f" (there is {cased[0]}: the name is {name}, in lower case)" if cased else
                 f" (there is {os.path.relpath(nested[0], folder)}: the exercises' files belong at the top of the "
                 "workspace, not in a folder of it)" if nested else "")
        return Result(exercise.name, NOT_STARTED, f"{exercise.filename} is missing{where}: `tinygen exercises start` "
                      "writes it", max_points=exercise.points)
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "not a regular file"
        return Result(exercise.name, FAIL, f"{exercise.filename} is {what}, expected the Python file of the exercise",
                      check="file", max_points=exercise.points)
    return None


def _untouched_stub(path, exercise):
    absent = _absent(path, exercise)
    if absent is not None:
        return absent
    with open(path, encoding="utf-8", errors="replace") as file:
        if file.read() != exercise.stub_text():
            return None
    parts = _STUB_PARTS.findall(exercise.stub_text())
    return Result(exercise.name, NOT_STARTED, f"{', '.join(parts) or exercise.filename}: not written yet (still the "
                  "stub)", max_points=exercise.points)


FORGED = object()  # a report whose signature does not match


def _read_report(result_file, nonce):
    """The result the grading process wrote, as a dict; None if there is none, FORGED if it is not signed."""
    try:
        with open(result_file) as file:
            report = json.load(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return FORGED
    if not isinstance(report, dict) or not isinstance(report.get("result"), str):
        return FORGED
    if not hmac.compare_digest(str(report.get("signature")), _signature(nonce, report["result"])):
        return FORGED
    return json.loads(report["result"])


def _signature(key, text):
    """The HMAC-SHA256 of ``text`` under ``key``, in hex: only who holds the key can sign a result."""
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _tail(*streams, limit=2000):
    text = "".join(s.decode("utf-8", "replace") if isinstance(s, bytes) else (s or "") for s in streams)
    return text[-limit:]


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _write_main_stack_later(path, seconds):
    """After ``seconds``, write the main thread's stack to ``path``, the most recent call first, one
    ``File "...", line N`` per frame (what ``_stopped_at`` reads): where the student's code is shortly before a timeout.

    A daemon thread reads the stack with ``sys._current_frames()``, which holds the GIL. faulthandler's watchdog
    reads it without the GIL, and so can crash the process it watches (SIGSEGV, seen on a submission printing in a
    loop): a slow but correct submission would fail. Code that never releases the GIL (a C loop) gets no stack."""
    main = threading.main_thread().ident

    def write():
        frame = sys._current_frames().get(main)
        stack = traceback.extract_stack(frame)[::-1] if frame is not None else []
        with open(path, "w") as file:
            file.writelines(f'File "{entry.filename}", line {entry.lineno}\n' for entry in stack)

    timer = threading.Timer(seconds, write)
    timer.daemon = True
    timer.start()


def grade_child(argv):
    """The grading process: grade one exercise (``argv`` = [REQUEST, RESULT_FILE]) and report it."""
    request, result_file = json.loads(argv[0]), argv[1]
    nonce = sys.stdin.readline().strip()
    if request.get("watchdog"):  # where the student's code is, shortly before a timeout stops it
        path, deadline = request["watchdog"]
        _write_main_stack_later(path, max(deadline - time.time(), 0.0))
    sys.path[:] = [entry for entry in sys.path if entry not in ("", ".")]  # `-c` put the current directory first
    course = load_course(request["from"])
    result = grade_exercise(request["directory"], lookup(course, request["name"]), course, interrupts=True)
    with open(result_file, "w") as file:
        text = json.dumps(result.to_dict())
        json.dump({"result": text, "signature": _signature(nonce, text)}, file)
