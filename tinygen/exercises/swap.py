"""Run tinygen on a student's implementations: ``use_student_ops(directory)``.

Every exercise names the engine object its file stands in for (``tinygen.ops.arithmetic.Mul`` ...). Inside the
``with`` block, each name in a loaded ``tinygen`` module that is bound to that object is bound to the
student's instead (the op's own module, and every ``from ... import`` copy of it, such as
``tinygen.losses.gradient_penalty``); on leaving the block every binding is put back. The engine looks its
Function classes up by name at call time, so nothing in it has to know about exercises.
"""
import contextlib
import sys

from tinygen.exercises.catalog import EXERCISES, lookup
from tinygen.exercises.workspace import PASS, grade_exercise, load_student_module


@contextlib.contextmanager
def use_student_ops(directory, names=None, check=True):
    """Inside the block, tinygen uses the student's implementations from the workspace ``directory``.

    names: the exercises to swap in; ``None`` means every exercise that passes the grader.
    check: grade each named exercise first and raise ``ValueError`` (with the grader's message) if it does
    not pass. ``check=False`` swaps in the named files as they are, e.g. to watch a wrong gradient train.
    Yields the names swapped in. Usage::

        with use_student_ops("my-exercises", ["conv2d", "conv_transpose2d"]):
            train(TrainConfig("dcgan"))
    """
    chosen = _choose(directory, names, check)
    swapped = []  # (engine object, the student's) pairs
    try:
        for exercise in chosen:
            module = load_student_module(directory, exercise)
            for attribute, reference in exercise.references().items():
                student = getattr(module, attribute)
                swapped.append((reference, student))
                _rebind(reference, student)
        yield [exercise.name for exercise in chosen]
    finally:  # also undoes bindings made inside the block, by modules first imported there
        for reference, student in reversed(swapped):
            _rebind(student, reference)


def _choose(directory, names, check):
    if names is None:
        return [e for e in EXERCISES if grade_exercise(directory, e).status == PASS]
    chosen = [lookup(name) for name in ([names] if isinstance(names, str) else names)]
    for exercise in chosen if check else ():
        result = grade_exercise(directory, exercise)
        if result.status != PASS:
            raise ValueError(
                f"use_student_ops: exercise {exercise.name!r} does not pass the grader ({result.status}): "
                f"{result.message}; fix it or pass check=False"
            )
    return chosen


def _rebind(original, replacement):
    """Bind ``replacement`` to every name that a loaded tinygen module (other than the exercises') binds to
    ``original``."""
    for module_name, module in list(sys.modules.items()):
        inside = module_name == "tinygen" or module_name.startswith("tinygen.")
        if not inside or module_name.startswith("tinygen.exercises") or module is None:
            continue
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, replacement)
