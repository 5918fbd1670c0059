"""A pytest plugin (``-p exercises.engine_plugin``) that runs a whole test session on a student's engine: the engine
exercise of the workspace $TINYGEN_ENGINE_WORKSPACE is bound in place of tinygen's engine, as the grader does, and
the number of backward walks it ran is written to $TINYGEN_ENGINE_COUNT at the end (a run that never used it shows)."""
import os

from tinygen.exercises.catalog import load_course, lookup
from tinygen.exercises.honesty import rebind
from tinygen.exercises.workspace import load_student_module

_walks = [0]
_swapped = []


def pytest_configure(config):
    exercise = lookup(load_course(), "engine")
    module = load_student_module(os.environ["TINYGEN_ENGINE_WORKSPACE"], exercise)
    walk = module.backward_walk

    def counted(*args):
        _walks[0] += 1
        return walk(*args)

    module.backward_walk = counted
    for reference, replacement in exercise.replacements(module):
        rebind(reference, replacement)
        _swapped.append((reference, replacement))


def pytest_unconfigure(config):
    for reference, replacement in reversed(_swapped):
        rebind(replacement, reference)
    with open(os.environ["TINYGEN_ENGINE_COUNT"], "w") as file:
        file.write(str(_walks[0]))
