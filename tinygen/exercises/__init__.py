"""Exercise mode: tinygen with pieces cut out for a student to write, an honest grader, and a way to run the
engine on the student's versions.

    tinygen exercises list                    the course path: each exercise and what it builds on
    tinygen exercises start DIR               write a workspace: one stub file per exercise and a README
    tinygen exercises check DIR [NAME]        grade it (each exercise in a process of its own)
    tinygen exercises hint NAME [DIR]         the next hint for what failed (--answer for the answer)

From Python: ``start_workspace``, ``check_workspace``, ``format_results``, and ``use_student_ops(DIR)``, a
context manager inside which tinygen runs on the student's implementations. See docs/exercises.md.
"""
from tinygen.exercises.catalog import COURSE, Exercise, load_course  # noqa: F401
from tinygen.exercises.grading import ExerciseFailure, Hints  # noqa: F401
from tinygen.exercises.report import format_results, gradescope_results, json_report, junit_xml  # noqa: F401
from tinygen.exercises.runner import FAIL, NOT_STARTED, PASS, Result, check_workspace  # noqa: F401
from tinygen.exercises.swap import use_student_ops  # noqa: F401
from tinygen.exercises.workspace import start_workspace  # noqa: F401

__all__ = ["COURSE", "Exercise", "ExerciseFailure", "FAIL", "Hints", "NOT_STARTED", "PASS", "Result",
           "check_workspace", "format_results", "gradescope_results", "json_report", "junit_xml", "load_course",
           "start_workspace", "use_student_ops"]
