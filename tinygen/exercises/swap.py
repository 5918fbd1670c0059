"""Run tinygen on a student's implementations: ``use_student_ops(directory)``.

Every exercise names the tinygen objects its file stands in for (``tinygen.ops.arithmetic.Mul`` ...). Inside the
``with`` block, each name in a loaded ``tinygen`` module that is bound to such an object is bound to the
student's instead (the op's own module, and every ``from ... import`` copy of it, such as
``tinygen.losses.gradient_penalty``); on leaving the block every binding is put back. The engine looks its
Function classes up by name at call time, so nothing in it has to know about exercises.
"""
import contextlib
import os

from tinygen.exercises.catalog import load_course, lookup
from tinygen.exercises.honesty import rebind
from tinygen.exercises.runner import PASS, check_workspace
from tinygen.exercises.workspace import load_student_module


@contextlib.contextmanager
def use_student_ops(directory, names=None, check=True, from_dirs=(), isolate=True):
    """Inside the block, tinygen uses the student's implementations from the workspace ``directory``.

    names: the exercises to swap in; ``None`` means every exercise that passes the grader (and replaces
    something in tinygen). check: grade each named exercise first and raise ``ValueError`` (with the grader's
    message) if it does not pass; ``check=False`` swaps in the named files as they are, e.g. to watch a wrong
    gradient train. isolate: grade each exercise in a process of its own (as ``check`` does).
    Yields the names swapped in. Usage::

        with use_student_ops("my-exercises", ["conv2d", "conv_transpose2d"]):
            train(TrainConfig("dcgan"))
    """
    course = load_course(from_dirs)
    chosen = _choose(directory, course, names, check, from_dirs, isolate)
    swapped = []  # (tinygen's object, the student's) pairs
    try:
        for exercise in chosen:
            module = load_student_module(directory, exercise)
            for reference, student in exercise.replacements(module):
                swapped.append((reference, student))
                rebind(reference, student)
        yield [exercise.name for exercise in chosen]
    finally:  # also undoes bindings made inside the block, by modules first imported there
        for reference, student in reversed(swapped):
            rebind(student, reference)


def _choose(directory, course, names, check, from_dirs, isolate):
    if names is None:
        results = check_workspace(directory, from_dirs=from_dirs, isolate=isolate)
        passed = {result.name for result in results if result.status == PASS}
        return [e for e in course if e.name in passed and (e.replaces or e.plug)]
    chosen = [lookup(course, name) for name in ([names] if isinstance(names, str) else names)]
    for exercise in chosen if check else ():
        (result,) = check_workspace(directory, exercise.name, from_dirs, isolate)
        if result.status != PASS:
            raise ValueError(
                f"use_student_ops: exercise {exercise.name!r} does not pass the grader ({result.status}): "
                f"{result.message}; fix it or pass check=False"
            )
    return chosen


def train_on_student_ops(config, directory, log=print):
    """``train(config)`` with every exercise of the workspace ``directory`` that passes the grader swapped in
    (``tinygen train MODEL --ops DIR``); says first which ops are the student's. Returns the history."""
    from tinygen.training import train

    if not os.path.isdir(directory):
        raise ValueError(f"--ops {directory}: no such workspace (create one with `tinygen exercises start "
                         f"{directory}`)")
    with use_student_ops(directory) as swapped:
        if not swapped:
            raise ValueError(f"--ops {directory}: no exercise there passes the grader yet, so none of tinygen's ops "
                             f"would be yours; `tinygen exercises check {directory}` says why")
        log(f"training on your ops from {directory}: {', '.join(swapped)} (tinygen's own for everything else)")
        return train(config, log=log)
