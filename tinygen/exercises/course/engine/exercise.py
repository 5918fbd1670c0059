"""engine: reverse mode itself: the topological order of the nodes and the backward walk.

Graded in two parts. First the student's ``topological_order`` alone, on graphs the grader builds (a diamond, two
roots sharing a subgraph, a chain of 10,000 ops): every node once, each after all its consumers. Then tinygen's
own autograd checks run on the student's engine (order and walk, put in the engine's place by
``engine_harness``), each compared with tinygen's engine on the same graph.
"""
from tinygen.exercises import engine_checks
from tinygen.exercises.engine_harness import student_run_backward

SUMMARY = "reverse mode itself: topological order and the backward walk"
READING = "docs/reverse-mode.md"
AFTER = ("mul", "sum")
REPLACES = {"topological_order": "tinygen.autograd.engine:topological_order",
            "run_backward": "tinygen.autograd.engine:run_backward"}


def plug(student):
    """The student's order, and the engine's run_backward made of the student's order and walk."""
    return {"tinygen.autograd.engine:topological_order": student.topological_order,
            "tinygen.autograd.engine:run_backward": student_run_backward(student.topological_order,
                                                                         student.backward_walk)}


def grade(student, reference):
    engine_checks.check_order(student.topological_order)
    engine_checks.check_engine()
