"""Honest grading: while a student's code runs, tinygen's own implementation of the exercise is out of reach.

A ``Guard`` is armed for one exercise before the student's file is imported and stays armed while the grader
runs the student's code:

- tripwires: the methods of tinygen's class that the exercise asks for (``Mul.backward``) and tinygen's
  function that it replaces (``gaussian_kl``) raise ``Delegation`` when called by any path: ``super()``, a
  class or function imported from tinygen, an instance made by another of tinygen's functions.
- names: after the student's file is loaded, every name in tinygen's modules bound to a replaced object is
  bound to the student's, so tinygen's public functions (``a * b``, ``tinygen.losses.gaussian_kl``) run the
  student's code, not tinygen's.
- helpers: tinygen objects that would do part of the exercise (``Conv2dWeightGrad`` for a convolution's weight
  gradient) raise ``Delegation`` when the student's code calls them directly; tinygen's own code may use them.
- an audit hook: opening a reference solution or a grader's file, running a second copy of a loaded tinygen
  module, compiling text that holds a reference solution or the source of a replaced object, and searching
  the process's objects through ``gc`` raise ``Delegation``.
- untouched libraries: the functions, classes and modules bound in NumPy, tinygen (the grader and the
  exercise.py modules included) and the standard modules the grader computes with (``WATCHED``), and the
  methods and code of the Python ones, are noted when the guard is armed. When the grader is about to compute
  expected values, and when grading ends, every one is checked and put back: a rebinding (``numpy.abs = ...``,
  ``grading.compare = ...``, ``f.__code__ = ...``) raises ``Tampering``; so does ``check_untouched()``, which the
  grader calls each time the student's code returns. So no patch is in place while the grader computes expected
  values or compares.

``reference_mode()`` lifts the tripwires while the grader computes its expected values with tinygen's own code.
Every ``Delegation`` and ``Tampering`` is recorded when raised, so a student's ``except BaseException`` cannot
hide it.
"""
import contextlib
import copy
import dataclasses
import inspect
import itertools
import operator
import os
import sys
import sysconfig
from types import ModuleType

import numpy

import tinygen

TINYGEN_DIR = os.path.dirname(os.path.realpath(tinygen.__file__))
MARKER = "# solution: begin"
_GC_EVENTS = ("gc.get_objects", "gc.get_referrers", "gc.get_referents")
#: the top-level modules whose bindings a student's code may add to but not change (see ``bindings``)
WATCHED = frozenset({"tinygen", "numpy", "cupy", "builtins", "math", "operator", "functools", "itertools",
                     "contextlib", "dataclasses", "json", "os", "posixpath", "ntpath", "re", "traceback"})
_FUNCTION_PARTS = {part: operator.attrgetter(part) for part in ("__code__", "__defaults__", "__kwdefaults__")}
_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: a type whose attributes cannot be set (Python 3.10+)
_MISSING = object()
_active = None       # the armed Guard, if any
_library = None      # the last ``Library``, reused while it is current
_hook_installed = False


class Delegation(BaseException):
    """The student's code reached tinygen's own implementation of what the exercise asks for. A BaseException,
    so that ``except Exception`` in the student's code does not catch it."""


def tripped(what):
    """Record (in the armed guard) and return the ``Delegation`` for reaching ``what``."""
    message = (f"your code reached {what}, which the grader keeps out of reach while it grades this exercise: "
               "only your own code may compute it (not super(), not tinygen's op or function imported or called "
               "by another path, not a reference solution)")
    if _active is not None and _active.loading is not None:
        message += ("; this happened while your file was being imported, when tinygen's public names (x.tanh(), "
                    "a * b) still run tinygen's own code: put checks you run yourself under "
                    "`if __name__ == \"__main__\":`")
    if _active is not None:
        _active.tripped.append(message)
    return Delegation(message)


def reference_mode():
    """A context in which tinygen's own implementations work again (for the grader's expected values)."""
    return _active.reference_mode() if _active is not None else contextlib.nullcontext()


def check_untouched():
    """Raise ``Tampering`` if the student's code changed what the grader computes with (``Guard.check_untouched``);
    the grader calls it each time the student's code returns, so no patch outlives the call that made it."""
    if _active is not None and _active.armed:
        with _active.reference_mode():  # which checks on entry
            pass


def note_comparison():
    """Count one comparison of an answer in the armed guard: a grade() that compares nothing would pass anything."""
    if _active is not None:
        _active.comparisons += 1


def note_failure():
    """Count one failed check in the armed guard: a grade() that returns after one (it caught the failure) would
    pass a wrong answer."""
    if _active is not None:
        _active.failures += 1


def _describe(reference, method=None):
    where = f"{reference.__module__}.{reference.__qualname__}"
    return f"tinygen's own {where}.{method}" if method else f"tinygen's own {where}"


def _function_tripwire(*args, **kwargs):
    """Put in place of a replaced function's code (so it runs with that function's globals: it imports what it
    uses); its name (``co_name``) says which function was reached."""
    import sys as system

    from tinygen.exercises import honesty

    raise honesty.tripped(f"tinygen's own {system._getframe().f_code.co_name}")


def _method_tripwire(reference, method):
    what = _describe(reference, method)

    def tripwire(*args, **kwargs):
        raise tripped(what)

    tripwire.__name__ = method
    return tripwire


def _attributed(what, original):
    """``original``, except when the student's code calls it directly (then a ``Delegation``)."""

    def helper(*args, **kwargs):
        if _active is not None and _active.armed and _active.is_student_code(sys._getframe(1)):
            raise tripped(what)
        return original(*args, **kwargs)

    helper.__name__ = getattr(original, "__name__", "helper")
    return helper


def binding_sites(value):
    """Every (module, name) of a loaded tinygen module (the exercises' own aside) bound to ``value``."""
    sites = []
    for module_name, module in list(sys.modules.items()):
        inside = module_name == "tinygen" or module_name.startswith("tinygen.")
        if not inside or module_name.startswith("tinygen.exercises") or module is None:
            continue
        sites += [(module, name) for name, bound in list(vars(module).items()) if bound is value]
    return sites


def rebind(original, replacement):
    """Bind ``replacement`` to every name of a loaded tinygen module bound to ``original``."""
    for module, name in binding_sites(original):
        setattr(module, name, replacement)


def _real(path, cache={}):
    if path not in cache:
        cache[path] = os.path.realpath(path)
    return cache[path]


def _as_folder(path):
    """``path`` resolved, with a trailing separator: a prefix that matches only what is inside it."""
    return os.path.join(os.path.realpath(path), "")


_LIBRARY_DIRS = tuple({_as_folder(sysconfig.get_paths()[key])
                       for key in ("stdlib", "platstdlib", "purelib", "platlib")})


def _normalized(text):
    return " ".join(text.split())


def _install_hook():
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True


def _audit(event, args):
    guard = _active
    if guard is None or not guard.armed:
        return
    if event == "open":
        guard.check_open(args[0])
    elif event == "exec":
        guard.check_exec(args[0])
    elif event == "compile":
        guard.check_compile(args[0], args[1])
    elif event in _GC_EVENTS:
        raise tripped(f"the grading process's own objects (through {event})")


class Tampering(BaseException):
    """The student's code rebound a function, class or module the grader computes with (``bindings``). A
    BaseException, as ``Delegation``."""


def watched_modules():
    """[(name, module)]: the loaded modules of ``WATCHED``, in ``sys.modules``' order."""
    return [(name, module) for name, module in list(sys.modules.items())
            if module is not None and name.partition(".")[0] in WATCHED]


def bindings(modules, graders=()):
    """[(owner, name, value)]: what a grader relies on staying as it is. For every module of ``modules`` ([(name,
    module)], as ``watched_modules()`` gives): its functions, classes and submodules (``callable`` or a module; for
    tinygen's exercise modules and the ``graders`` (exercise.py modules, not in ``sys.modules``), every name: a
    tolerance is a number); the methods, descriptors and modules bound on each class it defines whose attributes
    can be set (``NumpyBackend.xp``; an immutable type, as NumPy's ndarray, refuses ``setattr``); and the code,
    defaults and keyword defaults of each Python function it defines."""
    found = []
    modules = [(name, module, name.startswith("tinygen.exercises.") and name != __name__)
               for name, module in modules]
    for module_name, module, every_name in modules + [(grader.__name__, grader, True) for grader in graders]:
        for name, value in list(vars(module).items()):
            if every_name or callable(value) or inspect.ismodule(value):
                found.append((module, name, value))
            if getattr(value, "__module__", None) != module_name:
                continue  # defined elsewhere: noted with its own module
            if inspect.isclass(value) and not value.__flags__ & _IMMUTABLE_TYPE:
                found += [(value, key, member) for key, member in list(vars(value).items())
                          if callable(member) or hasattr(type(member), "__get__") or inspect.ismodule(member)]
            elif inspect.isfunction(value):
                found += [(value, part, getattr(value, part)) for part in _FUNCTION_PARTS]
    return found


class Library:
    """The watched modules' ``bindings()`` as a ``Snapshot``, noted once and reused by the next guard while it is
    what ``bindings()`` would note again: the same modules; in them and in the classes they define, the same kind of
    object at each place (what ``bindings()`` selects on: a callable, a module, in a class a descriptor too); and
    the same object at each binding it noted. Noting takes ~20 ms, this check ~3 ms (a few C-level passes); a test
    session arms hundreds of guards."""

    def __init__(self):
        self.modules = watched_modules()
        self.snapshot = Snapshot(bindings(self.modules))
        self.classes = list({id(owner): owner for owner, _, _ in self.snapshot.found if inspect.isclass(owner)}
                            .values())
        self.kinds = self._kinds()

    def _kinds(self):
        """For each object bound in the modules, then in the classes, in order: whether ``bindings()`` would note
        it (in a module: a callable or a module; in a class, a descriptor too)."""
        objects = list(itertools.chain.from_iterable(dict.values(vars(module)) for _, module in self.modules))
        kinds = list(map(operator.or_, map(callable, objects), map(isinstance, objects, itertools.repeat(ModuleType))))
        objects = list(itertools.chain.from_iterable(map(operator.methodcaller("values"), map(vars, self.classes))))
        kinds += map(any, zip(map(callable, objects), map(hasattr, map(type, objects), itertools.repeat("__get__")),
                              map(isinstance, objects, itertools.repeat(ModuleType))))
        return kinds

    def is_current(self):
        """Whether ``bindings()`` would note what this did (a renamed binding it noted is a changed one)."""
        modules = watched_modules()
        if len(modules) != len(self.modules) or any(name != noted or module is not noted_module
                                                    for (name, module), (noted, noted_module)
                                                    in zip(modules, self.modules)):
            return False
        return self._kinds() == self.kinds and not self.snapshot.changed()


def library_snapshot():
    """``Snapshot(bindings(watched_modules()))``: the last one, where it is still current (``Library``)."""
    global _library
    if _library is None or not _library.is_current():
        _library = Library()
    return _library.snapshot


def _current(owner, name):
    if name in _FUNCTION_PARTS:
        return getattr(owner, name)
    return vars(owner).get(name, _MISSING)


class Snapshot:
    """``bindings()`` as found, with ``changed()``: those that are no longer so. The check runs each time the
    student's code returns, so it looks them all up in a few C-level passes (``map``), ~1.5 ms for ~14,000
    bindings, and goes through them in Python only once something has changed."""

    def __init__(self, found):
        self.found = found
        groups = {}  # lookup -> (its arguments, one list each; the values noted)
        for owner, name, value in found:
            if name in _FUNCTION_PARTS:  # function.__code__ and the like
                arguments, values = groups.setdefault(_FUNCTION_PARTS[name], (([],), []))
                arguments[0].append(owner)
            else:  # a module's dict or a class's mappingproxy: type(namespace).get(namespace, name, _MISSING)
                namespace = vars(owner)
                arguments, values = groups.setdefault(type(namespace).get, (([], [], itertools.repeat(_MISSING)), []))
                arguments[0].append(namespace)
                arguments[1].append(name)
            values.append(value)
        self._groups = list(groups.items())

    def changed(self):
        """[(owner, name, value noted)] for each binding that changed, in ``found``'s order."""
        if not any(any(map(operator.is_not, map(lookup, *arguments), values))
                   for lookup, (arguments, values) in self._groups):
            return []
        return [(owner, name, value) for owner, name, value in self.found if _current(owner, name) is not value]


class Contents:
    """The grader's own data, as found: the lists, dicts, sets, tuples and dataclass instances (cases, hints,
    tolerances) bound to public names of the ``modules`` (tinygen's exercise modules and the exercise.py graders).
    ``changed()`` finds those changed in place (``CASES.clear()``, ``object.__setattr__`` on a frozen tolerance),
    which a rebinding check cannot see, and puts them back. ~0.3 ms: each is compared by its repr."""

    def __init__(self, modules):
        self.found = []
        for module in modules:
            for name, value in list(vars(module).items()):
                if name.startswith("_") or not _is_data(value):
                    continue
                try:
                    self.found.append((module, name, value, copy.deepcopy(value), repr(value)))
                except Exception:  # noqa: BLE001 (data that cannot be copied is not watched)
                    continue

    def changed(self):
        """[(module, name)] of the data changed in place since it was found; each is put back where it can be."""
        altered = [(module, name, value, saved) for module, name, value, saved, text in self.found
                   if repr(value) != text]
        for _, _, value, saved in altered:
            _put_back(value, saved)
        return [(module, name) for module, name, _, _ in altered]


def _is_data(value):
    return isinstance(value, (list, dict, set, tuple)) or (dataclasses.is_dataclass(value)
                                                           and not isinstance(value, type))


def _put_back(value, saved):
    """Give ``value`` (changed in place) the contents of ``saved``, a deep copy made before (a tuple cannot be)."""
    if isinstance(value, list):
        value[:] = copy.deepcopy(saved)
    elif isinstance(value, (dict, set)):
        value.clear()
        value.update(copy.deepcopy(saved))
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            object.__setattr__(value, field.name, copy.deepcopy(getattr(saved, field.name)))


def _where(owner, name):
    if inspect.ismodule(owner):
        return f"{owner.__name__}.{name}"
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


class Guard:
    """Keeps tinygen's implementation of one exercise out of the student's reach (see the module's docstring).

    targets: ``[(reference, methods)]``: a class of tinygen with the methods the student writes, or a function of
        tinygen that the student's replaces (``methods`` None).
    helpers: classes or functions of tinygen the student's code may not call directly.
    forbidden: files (reference solutions, graders) the student's code may not open or run.
    trusted_dirs: folders of grading code besides tinygen's (an instructor's exercises): not the student's code.
    """

    def __init__(self, targets=(), helpers=(), forbidden=(), trusted_dirs=(), graders=()):
        self.targets, self.helpers = list(targets), list(helpers)
        self.trusted_dirs = tuple(_as_folder(d) for d in (TINYGEN_DIR, *trusted_dirs))
        self.forbidden = {os.path.realpath(path) for path in forbidden}
        self.graders = tuple(graders)
        self.tripped = []
        self.tampered = []          # the messages of ``Tampering``, in order
        self.armed = False
        self.loading = None         # the student's file while it is imported (its own compile is allowed)
        self.comparisons = 0        # how many answers the grader compared (``grading.compare``): none is no grading
        self.failures = 0           # how many checks failed (``grading.ExerciseFailure``): each must end the grading
        self._undo = []             # restores the poisoned attributes, last first
        self._plugged = []          # (reference, replacement, binding sites)
        self._sources = [_normalized(source) for source in self._target_sources()]
        self._loaded = set()

    # --- arming and disarming ---------------------------------------------------------------------------------
    def __enter__(self):
        global _active
        if _active is not None:
            raise RuntimeError("honesty.Guard: another guard is armed (grading does not nest)")
        _install_hook()
        self._loaded = {_real(module.__file__) for name, module in list(sys.modules.items())
                        if name.split(".")[0] == "tinygen" and getattr(module, "__file__", None)}
        _active = self
        self._bindings = library_snapshot()
        self._graders = Snapshot(bindings([], self.graders))
        self._contents = Contents([module for name, module in list(sys.modules.items())
                                   if name.startswith("tinygen.exercises.") and name != __name__] + list(self.graders))
        self._numpy_errors = numpy.geterr()  # how NumPy treats overflow and the like, for expected values
        self._poison()
        self.armed = True
        return self

    def __exit__(self, *exc_info):
        global _active
        self.armed = False
        self._unpoison()
        for reference, replacement, _ in reversed(self._plugged):
            rebind(replacement, reference)  # a full scan: also modules first imported while armed
        self._plugged.clear()
        _active = None
        numpy.seterr(**self._numpy_errors)  # a student's np.seterr does not outlive the grading
        try:
            self.check_untouched()
        except Tampering:
            pass  # recorded; the runner reports it
        return False

    def plug(self, pairs):
        """Bind each student's object in place of tinygen's: ``pairs`` is ``[(reference, replacement)]``."""
        for reference, replacement in pairs:
            sites = binding_sites(reference)
            for module, name in sites:
                setattr(module, name, replacement)
            self._plugged.append((reference, replacement, sites))

    @contextlib.contextmanager
    def reference_mode(self):
        if not self.armed:
            yield
            return
        self.armed = False
        self._unpoison()
        for reference, _, sites in self._plugged:
            for module, name in sites:
                setattr(module, name, reference)
        try:
            self.check_untouched()
            with numpy.errstate(**self._numpy_errors):  # a student's np.seterr(all="raise") is the student's
                yield
        finally:
            for _, replacement, sites in self._plugged:
                for module, name in sites:
                    setattr(module, name, replacement)
            self._poison()
            self.armed = True

    def check_untouched(self):
        """Put back every binding noted when armed (``bindings``) that the student's code changed, and raise (and
        record) ``Tampering`` naming them. Called disarmed: tripwires and the student's objects out of place."""
        changed = self._bindings.changed() + self._graders.changed()
        for owner, name, value in changed:
            setattr(owner, name, value)
        where = [_where(owner, name) for owner, name, _ in changed]
        where += [f"{_where(owner, name)} (in place)" for owner, name in self._contents.changed()]
        if where:
            names = ", ".join(where[:3])
            more = f" and {len(where) - 3} more" if len(where) > 3 else ""
            message = (f"your code changed {names}{more}, which the grader computes with: a submission may use "
                       "NumPy and tinygen but must leave their functions (and the grader's) as they are")
            self.tampered.append(message)
            raise Tampering(message)

    # --- tripwires ----------------------------------------------------------------------------------------------
    def _poison(self):
        for reference, methods in self.targets:
            if methods is None:
                self._poison_function(reference)
            else:
                for method in methods:
                    self._set(reference, method, _method_tripwire(reference, method))
        for helper in self.helpers:
            what = _describe(helper)
            if isinstance(helper, type):
                self._set(helper, "__call__", _attributed(what, helper.__call__))
            else:
                wrapper = _attributed(what, helper)
                for module, name in binding_sites(helper):
                    self._set(module, name, wrapper)

    def _poison_function(self, function):
        if function.__closure__ is not None:  # its code cannot be swapped; its names are still rebound
            return
        code = function.__code__
        function.__code__ = _function_tripwire.__code__.replace(co_name=f"{function.__module__}.{function.__name__}")
        self._undo.append(lambda: setattr(function, "__code__", code))

    def _set(self, owner, name, value):
        missing = object()
        previous = vars(owner).get(name, missing)
        setattr(owner, name, value)
        self._undo.append(lambda: delattr(owner, name) if previous is missing else setattr(owner, name, previous))

    def _unpoison(self):
        while self._undo:
            self._undo.pop()()

    def _target_sources(self):
        for reference, methods in self.targets:
            own = vars(reference)
            for item in [reference] if methods is None else [own[method] for method in methods if method in own]:
                try:
                    yield inspect.getsource(item)
                except (OSError, TypeError):
                    pass

    # --- who is calling, and what the audit hook refuses ---------------------------------------------------------
    def is_student_code(self, frame):
        """Whether ``frame`` (skipping the Python library and exec'd text) is the student's code: not tinygen's,
        not the exercise folders'."""
        while frame is not None:
            filename = frame.f_code.co_filename
            if not filename.startswith("<"):
                path = _real(filename)
                if path.startswith(self.trusted_dirs):
                    return False
                if not path.startswith(_LIBRARY_DIRS):
                    return True
            frame = frame.f_back
        return False

    def check_open(self, path):
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        target = os.path.realpath(os.fsdecode(path))
        if target in self.forbidden and not _reading_for_a_traceback(sys._getframe(2)):
            raise tripped(f"the file {target} (a reference solution or a grader)")

    def check_exec(self, code):
        filename = getattr(code, "co_filename", "")
        if not filename or filename.startswith("<"):
            return
        path = os.path.realpath(filename)
        if path in self._loaded:
            raise tripped(f"a second copy of tinygen's {path}, run again to get an implementation without tripwires")
        if path in self.forbidden:
            raise tripped(f"the file {path} (a reference solution or a grader)")

    def check_compile(self, source, filename):
        if isinstance(filename, (str, bytes)) and self.loading is not None:
            if os.path.realpath(os.fsdecode(filename)) == os.path.realpath(self.loading):
                return
        if isinstance(source, bytes):
            source = source.decode("utf-8", "replace")
        if not isinstance(source, str):
            return
        if MARKER in source:
            raise tripped("a reference solution (text with its `# solution: begin` marker)")
        text = _normalized(source)
        if any(snippet in text for snippet in self._sources):
            raise tripped("a copy of tinygen's own source of this exercise, compiled at run time")


def _reading_for_a_traceback(frame):
    """Whether an ``open`` comes from ``linecache`` on behalf of a traceback or a warning (showing source lines)."""
    while frame is not None and frame.f_globals.get("__name__") in ("tokenize", "linecache", "io"):
        frame = frame.f_back
    return frame is not None and frame.f_globals.get("__name__") in ("traceback", "warnings")
