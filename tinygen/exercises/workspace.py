"""A student's workspace: writing it (``start``), loading the student's files and grading them (``check``).

The stub of each exercise is made from its reference solution (``tinygen/exercises/solutions/NAME.py``):
the lines between ``# solution: begin`` and ``# solution: end`` become ``raise NotImplementedError``, so the
stub and its docstring can never drift from the solution they were cut from.
"""
import dataclasses
import importlib.resources
import importlib.util
import os
import re
import traceback

from tinygen.exercises.catalog import EXERCISES, lookup
from tinygen.exercises.grading import ExerciseFailure

BEGIN, END = "# solution: begin", "# solution: end"
PASS, FAIL, NOT_STARTED = "pass", "fail", "not started"
_DEFINITION = re.compile(r"^(\s*)(?:class|def) (\w+)")


@dataclasses.dataclass
class Result:
    name: str
    status: str      # PASS, FAIL or NOT_STARTED
    message: str = ""
    hint: str = ""


def solution_source(exercise):
    """The text of the reference solution of ``exercise``."""
    return (importlib.resources.files("tinygen.exercises.solutions") / exercise.filename).read_text()


def stub_source(solution):
    """The student's file: ``solution`` with every marked block replaced by a ``raise NotImplementedError``."""
    lines, inside, scopes = [], False, []
    for line in solution.splitlines(keepends=True):
        definition = _DEFINITION.match(line)
        if definition:  # keep (indent, name) of the enclosing class and def for the stub's message
            indent = len(definition.group(1))
            scopes = [scope for scope in scopes if scope[0] < indent] + [(indent, definition.group(2))]
        marker = line.strip()
        if marker == BEGIN:
            inside = True
            where = ".".join(name for _, name in scopes)
            indentation = line[: len(line) - len(line.lstrip())]
            lines.append(f'{indentation}raise NotImplementedError("{where}: not written yet (read its docstring)")\n')
        elif marker == END:
            inside = False
        elif not inside:
            lines.append(line)
    return "".join(lines)


def start_workspace(directory):
    """Write the README and one stub file per exercise into ``directory`` (created if needed). Files that
    already exist are kept, never overwritten: the student's work is safe. Returns (written, kept) names."""
    os.makedirs(directory, exist_ok=True)
    files = {"README.md": readme()}
    files.update((exercise.filename, stub_source(solution_source(exercise))) for exercise in EXERCISES)
    written, kept = [], []
    for filename, text in files.items():
        path = os.path.join(directory, filename)
        if os.path.exists(path):
            kept.append(filename)
            continue
        with open(path, "x") as file:
            file.write(text)
        written.append(filename)
    return written, kept


def readme():
    rows = "\n".join(f"| `{e.filename}` | {e.summary} | {e.reading} |" for e in EXERCISES)
    return f"""# tinygen exercises

Each file here is a piece of tinygen with its heart cut out: a `raise NotImplementedError` where the
derivative (or the stable formula) should be. The docstring above it says exactly what to write: the
shapes, what to derive, and hints. Your code plugs into the real engine: the classes subclass tinygen's own
ops, and the grader runs them through `tinygen.testing`.

| file | what you write | read first |
| --- | --- | --- |
{rows}

Grade your work (all exercises, or one) from the folder that holds this one:

    tinygen exercises check THIS_FOLDER
    tinygen exercises check THIS_FOLDER mul

The grader compares every gradient with finite differences in float64 for a random upstream gradient
(`tinygen.testing.gradcheck`), checks second derivatives (`gradgradcheck`) where a gradient penalty needs
them, and compares forwards with tinygen's. On a failure it names the case, the input, the worst element,
the value expected and the value you gave, and a hint.

Once an exercise passes, tinygen can run on your implementation:

    from tinygen.exercises import use_student_ops
    with use_student_ops("THIS_FOLDER"):      # every exercise that passes is swapped in
        ...                                    # e.g. train a model: it now uses your backward passes

`tinygen exercises start` never overwrites a file that exists: delete a file to get its stub back.
"""


def load_student_module(directory, exercise):
    """Import the student's file of ``exercise`` from ``directory`` afresh (not cached in ``sys.modules``)."""
    path = os.path.join(directory, exercise.filename)
    spec = importlib.util.spec_from_file_location(f"tinygen_workspace_{exercise.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade_exercise(directory, exercise):
    """Load and grade the student's file of ``exercise``: a ``Result``."""
    path = os.path.join(directory, exercise.filename)
    if not os.path.exists(path):
        return Result(exercise.name, NOT_STARTED,
                      f"{exercise.filename} is missing: `tinygen exercises start` writes it")
    try:
        exercise.grade(load_student_module(directory, exercise))
    except ExerciseFailure as failure:
        cause = failure.__cause__
        where = _location(cause, path) if cause is not None and not isinstance(cause, AssertionError) else ""
        return Result(exercise.name, FAIL, failure.message + where, failure.hint)
    except NotImplementedError as error:
        if _raised_in(error, path):
            return Result(exercise.name, NOT_STARTED, str(error))
        return Result(exercise.name, FAIL, _describe_error(error, path))
    except Exception as error:  # the student's code crashed: say where, in their file
        return Result(exercise.name, FAIL, _describe_error(error, path))
    return Result(exercise.name, PASS)


def check_workspace(directory, name=None):
    """Grade every exercise in ``directory`` (or only ``name``): a list of ``Result``."""
    if not os.path.isdir(directory):
        raise ValueError(f"no workspace at {directory!r}: create one with `tinygen exercises start {directory}`")
    exercises = EXERCISES if name is None else (lookup(name),)
    return [grade_exercise(directory, exercise) for exercise in exercises]


def _raised_in(error, path):
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename) == os.path.abspath(path)


def _location(error, path):
    """`` (in mul.py, line 31: <the line>)``: the last line of the student's file that ``error`` went through."""
    target = os.path.abspath(path)
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if os.path.abspath(frame.filename) == target]
    return f" (in {os.path.basename(path)}, line {frames[-1].lineno}: {frames[-1].line})" if frames else ""


def _describe_error(error, path):
    return f"{type(error).__name__}: {error}{_location(error, path)}"


def format_results(results):
    """The table ``check`` prints, then the full message and hint of each failure, then a count."""
    width = max(len("exercise"), *(len(r.name) for r in results)) + 2
    lines = [f"{'exercise':<{width}}{'status':<13}message"]
    for result in results:
        first_line = result.message.splitlines()[0] if result.message else ""
        if len(first_line) > 90:
            first_line = first_line[:87] + "..."
        lines.append(f"{result.name:<{width}}{result.status:<13}{first_line}".rstrip())
    for result in results:
        if result.status == FAIL:
            lines += ["", f"{result.name}: {FAIL}"] + ["  " + line for line in result.message.splitlines()]
            if result.hint:
                lines.append(f"  hint: {result.hint}")
    counts = {status: sum(r.status == status for r in results) for status in (PASS, FAIL, NOT_STARTED)}
    lines += ["", f"{len(results)} checked: {counts[PASS]} passed, {counts[FAIL]} failed, "
                  f"{counts[NOT_STARTED]} not started"]
    return "\n".join(lines)
