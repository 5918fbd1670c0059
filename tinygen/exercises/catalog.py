"""The exercises: where they live, what each asks for and replaces in tinygen, and the course path.

An exercise is a folder. tinygen's own are in ``tinygen/exercises/course/``; an instructor's live in any folder
of such folders, given with ``--from DIR``. The format is the same:

    NAME/exercise.py   what it asks for and how it is graded (below)
    NAME/stub.py       the student's starting file; if missing, it is cut from solution.py
    NAME/solution.py   the reference solution, with the lines to write between ``# solution: begin`` and
                       ``# solution: end``. tinygen's own are kept out of the installed package: they are in the
                       repository's ``exercises/solutions/NAME.py`` (a finished workspace)

``exercise.py`` defines:

    SUMMARY = "one line for `tinygen exercises list`"
    READING = "docs/derivations/broadcasting.md"        the page that derives it (optional)
    AFTER = ("sum_to",)                                 the exercises it builds on (optional)
    REPLACES = {"Mul": "tinygen.ops.arithmetic:Mul"}    what the student's objects stand in for (optional)
    WRITES = {"Mul": ("backward",)}                     for a class: the methods the student writes
    HELPERS = ("tinygen.ops.conv:Conv2dWeightGrad",)    tinygen objects the student's code may not call (optional)
    POINTS = 1                                          (optional)
    def grade(student, reference): ...                  raises ExerciseFailure (see ``grading``) at a wrong answer
    def plug(student): ...                              optional: {"module:attribute": the student's object}

``reference`` is the reference solution's module for an instructor's exercise, and tinygen's own objects
(named as in REPLACES) for tinygen's. While the student's code runs, the objects in REPLACES (their WRITES
methods, for classes) and HELPERS are out of its reach (``honesty``).
"""
import dataclasses
import importlib
import importlib.util
import inspect
import os
import re
import sys
import traceback
import types

COURSE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")

#: tinygen's course path: each exercise comes after those it builds on (its AFTER)
COURSE = ("tanh", "sum_to", "mul", "sum", "matmul", "engine", "relu", "softmax", "bce_with_logits", "max_pool2d",
          "dropout", "conv2d", "conv_transpose2d", "batch_norm", "adam", "gaussian_kl", "reparameterize",
          "gradient_penalty", "wgan_gp_critic_step")

BEGIN, END = "# solution: begin", "# solution: end"
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_DEFINITION = re.compile(r"^(\s*)(?:class|def) (\w+)")
_loaded = {}  # exercise.py path -> Exercise


@dataclasses.dataclass(frozen=True, eq=False)
class Exercise:
    name: str
    folder: str
    summary: str
    reading: str
    after: tuple
    replaces: dict
    writes: dict
    helpers: tuple
    points: float
    grade: object        # grade(student module, reference namespace)
    plug: object         # plug(student module) -> {"module:attribute": object}, or None
    builtin: bool        # one of tinygen's own
    module: object = None  # its exercise.py, loaded (the guard checks that the student's code leaves it alone)

    @property
    def filename(self):
        return f"{self.name}.py"

    @property
    def grader_path(self):
        return os.path.join(self.folder, "exercise.py")

    @property
    def solution_path(self):
        """The reference solution's file, where it is available (never in tinygen's installed package)."""
        if self.builtin:
            path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(COURSE_DIR))), "exercises",
                                "solutions", self.filename)
        else:
            path = os.path.join(self.folder, "solution.py")
        return path if os.path.exists(path) else None

    def stub_text(self):
        stub = os.path.join(self.folder, "stub.py")
        if os.path.exists(stub):
            with open(stub) as file:
                return file.read()
        with open(os.path.join(self.folder, "solution.py")) as file:
            return cut_stub(file.read())

    def reference(self):
        """What ``grade`` compares with: the reference solution of an instructor's exercise, tinygen's own
        objects (by the names in REPLACES) for tinygen's."""
        if not self.builtin:
            return load_module(os.path.join(self.folder, "solution.py"), f"tinygen_reference_{self.name}")
        return types.SimpleNamespace(**{name: resolve(target) for name, target in self.replaces.items()})

    def targets(self):
        """[(tinygen object, methods the student writes or None for a function)] kept from the student's reach."""
        return [(resolve(target), tuple(self.writes[name]) if name in self.writes else None)
                for name, target in self.replaces.items()]

    def helper_objects(self):
        return [resolve(target) for target in self.helpers]

    def replacements(self, student):
        """[(tinygen object, the student's object that stands in for it)]."""
        if self.plug is not None:
            return [(resolve(target), value) for target, value in self.plug(student).items()]
        missing = [name for name in self.replaces if not hasattr(student, name)]
        if missing:
            raise AttributeError(f"{self.filename} defines no {', '.join(missing)}: keep the names of the stub")
        return [(resolve(target), getattr(student, name)) for name, target in self.replaces.items()]


def resolve(target):
    """The object named ``"module:attribute"`` (or ``"module:Class.attribute"``)."""
    module_name, _, path = target.partition(":")
    value = importlib.import_module(module_name)
    for part in path.split("."):
        value = getattr(value, part)
    return value


def load_module(path, name):
    """Import the Python file ``path`` afresh under ``name``: in ``sys.modules`` while it runs (``dataclasses``
    reads a class's module there, e.g. under ``from __future__ import annotations``), not kept there after.
    Compiled from its source each time, never from or into a ``__pycache__`` beside it: a cached copy is trusted
    by the file's size and its time to the second, so a file rewritten within a second at the same size (a
    one-character fix) ran as it was before."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        code = spec.loader.source_to_code(spec.loader.get_data(spec.origin), spec.origin)
        exec(code, vars(module))  # what exec_module does, without the cache
    finally:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
    return module


def load_exercise(folder, builtin=False):
    """The exercise in ``folder`` (its ``exercise.py``), loaded once per process."""
    folder = os.path.abspath(folder)
    grader = os.path.join(folder, "exercise.py")
    if grader in _loaded:
        return _loaded[grader]
    name = os.path.basename(folder)
    where = f"exercise folder {folder}"
    if not _NAME.match(name):
        raise ValueError(f"{where}: the folder's name is the exercise's name and must be a Python identifier "
                         "in lower case")
    if not os.path.exists(grader):
        raise ValueError(f"{where} has no exercise.py (what it asks for and how it is graded)")
    if not any(os.path.exists(os.path.join(folder, f)) for f in ("stub.py", "solution.py")):
        raise ValueError(f"{where} has neither stub.py nor solution.py: the student's file is made from one of them")
    try:
        module = load_module(grader, f"tinygen_exercise_{name}")
    except Exception as error:  # the instructor's mistake, named as such (not "a bug in tinygen")
        line = getattr(error, "lineno", None) if isinstance(error, SyntaxError) else _line_in(error, grader)
        raise ValueError(f"{where}: exercise.py does not load{f' (line {line})' if line else ''}: "
                         f"{type(error).__name__}: {getattr(error, 'msg', None) or error}") from error
    for required in ("SUMMARY", "grade"):
        if not hasattr(module, required):
            raise ValueError(f"{where}: exercise.py must define {required}")
    _check_definitions(where, module)
    replaces = dict(getattr(module, "REPLACES", {}))
    writes = {key: tuple(value) for key, value in getattr(module, "WRITES", {}).items()}
    unknown = set(writes) - set(replaces)
    if unknown:
        raise ValueError(f"{where}: WRITES names {sorted(unknown)}, which REPLACES does not")
    _check_targets(where, replaces, writes, tuple(getattr(module, "HELPERS", ())))
    if not builtin and not os.path.exists(os.path.join(folder, "stub.py")):
        _check_markers(where, os.path.join(folder, "solution.py"))
    exercise = Exercise(name, folder, module.SUMMARY, getattr(module, "READING", ""),
                        tuple(getattr(module, "AFTER", ())), replaces, writes, tuple(getattr(module, "HELPERS", ())),
                        float(getattr(module, "POINTS", 1)), module.grade, getattr(module, "plug", None), builtin,
                        module)
    _loaded[grader] = exercise
    return exercise


def _line_in(error, path):
    """The last line of ``path`` that ``error``'s traceback went through; None if none."""
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == path]
    return lines[-1] if lines else None


def _check_definitions(where, module):
    """What exercise.py defines has the form tinygen reads: AFTER = ("tanh") is the string "tanh", not a tuple of
    one name; a grade() that cannot take (student, reference) would fail every student with a TypeError."""
    after, points = getattr(module, "AFTER", ()), getattr(module, "POINTS", 1)
    if not isinstance(after, (tuple, list)) or not all(isinstance(name, str) for name in after):
        raise ValueError(f"{where}: AFTER is {after!r}; expected a tuple of exercise names, e.g. ('tanh',)")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points >= 0:
        raise ValueError(f"{where}: POINTS is {points!r}; expected a number of points, 0 or more")
    for name, arguments in (("grade", 2), ("plug", 1)):
        function = getattr(module, name, None)
        if function is None:
            continue
        try:
            inspect.signature(function).bind(*[None] * arguments)
        except (TypeError, ValueError):
            expected = "grade(student, reference)" if name == "grade" else "plug(student)"
            raise ValueError(f"{where}: {name} is {name}{_signature(function)}; expected {expected}") from None


def _signature(function):
    try:
        return str(inspect.signature(function))
    except (TypeError, ValueError):
        return " (not a function)"


def _check_targets(where, replaces, writes, helpers):
    """Every object REPLACES and HELPERS name must exist in tinygen, and every method WRITES names on its class:
    found now, the mistake is the instructor's one-line error, not a traceback in each student's grading."""
    named = [(f"REPLACES[{key!r}]", target, writes.get(key, ())) for key, target in replaces.items()]
    for label, target, methods in named + [("HELPERS", target, ()) for target in helpers]:
        try:
            value = resolve(target)
        except (ImportError, AttributeError, ValueError) as error:
            raise ValueError(f"{where}: {label} names {target!r}, which does not exist ({type(error).__name__}: "
                             f"{error}); expected 'module:attribute' of tinygen") from error
        missing = [method for method in methods if not callable(getattr(value, method, None))]
        if missing:
            raise ValueError(f"{where}: WRITES names {', '.join(f'{target}.{m}' for m in missing)}, which does not "
                             "exist")


def _check_markers(where, solution):
    """The student's file is cut from ``solution`` at its markers: without them (or with one unpaired) the stub
    would hand out the solution, so that is an error."""
    with open(solution) as file:
        markers = [line.strip() for line in file if line.strip() in (BEGIN, END)]
    paired = markers == [BEGIN, END] * (len(markers) // 2)
    if not markers or not paired:
        found = f"found {', '.join(markers)}" if markers else "found none"
        raise ValueError(f"{where}: solution.py needs its lines to write between '{BEGIN}' and '{END}' (the "
                         f"student's stub is cut there), in pairs; {found}. Or give a stub.py")


def load_course(extra_dirs=()):
    """tinygen's exercises in course order, then those of each folder in ``extra_dirs`` (an instructor's), each
    after the exercises it builds on."""
    exercises = [load_exercise(os.path.join(COURSE_DIR, name), builtin=True) for name in COURSE]
    given = {}  # a folder named twice (--from a --from ./a) is read once, not taken for two courses of the same names
    for directory in extra_dirs:
        given.setdefault(os.path.realpath(directory), directory)
    for directory in given.values():
        if not os.path.isdir(directory):
            raise ValueError(f"--from {directory}: no such folder of exercises")
        folders = sorted(entry.path for entry in os.scandir(directory)
                         if entry.is_dir() and os.path.exists(os.path.join(entry.path, "exercise.py")))
        if not folders:
            raise ValueError(f"--from {directory}: no exercise in it (a folder NAME/ with an exercise.py)")
        exercises += _in_order([load_exercise(folder) for folder in folders], {e.name for e in exercises})
    names = [exercise.name for exercise in exercises]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"two exercises are called {', '.join(duplicated)}: rename the instructor's folder")
    return tuple(exercises)


def _in_order(new, known):
    """``new`` exercises ordered so that each comes after those it builds on (ties by name)."""
    ordered, pending = [], list(new)
    while pending:
        ready = [e for e in pending if all(a in known or a in {o.name for o in ordered} for a in e.after)]
        if not ready:
            missing = {a for e in pending for a in e.after if a not in known and a not in {p.name for p in pending}}
            problem = f"unknown exercise(s) {sorted(missing)}" if missing else "a cycle"
            raise ValueError(f"the AFTER of {', '.join(e.name for e in pending)} names {problem}")
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered


def lookup(course, name):
    """The exercise called ``name``; a clear error listing the names otherwise."""
    for exercise in course:
        if exercise.name == name:
            return exercise
    raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(e.name for e in course)} (an "
                     "instructor's exercise needs --from DIR, the folder that holds its folder)")


def cut_stub(solution):
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
