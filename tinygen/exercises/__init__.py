"""Exercise mode: tinygen with pieces cut out for a student to write, a grader, and a way to run the
engine on the student's versions.

    tinygen exercises list                 the exercises
    tinygen exercises start DIR            write a workspace: one stub file per exercise and a README
    tinygen exercises check DIR [NAME]     grade it: a table, and what went wrong with a hint

From Python: ``start_workspace``, ``check_workspace``, ``format_results``, and ``use_student_ops(DIR)``, a
context manager inside which tinygen runs on the student's implementations. See docs/exercises.md.
"""
from tinygen.exercises.catalog import EXERCISES, Exercise  # noqa: F401
from tinygen.exercises.swap import use_student_ops  # noqa: F401
from tinygen.exercises.workspace import (  # noqa: F401
    FAIL,
    NOT_STARTED,
    PASS,
    Result,
    check_workspace,
    format_results,
    start_workspace,
)

__all__ = ["EXERCISES", "Exercise", "FAIL", "NOT_STARTED", "PASS", "Result", "check_workspace", "format_results",
           "start_workspace", "use_student_ops"]
