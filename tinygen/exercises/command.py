"""``tinygen exercises list | start | check | hint``: the parser and what each subcommand does.

Exit status of ``check``: 0 when every exercise checked passes, 1 otherwise, 2 for a usage error (an unknown
exercise, a missing workspace): usable as is by an autograder.
"""
import json
import os
import sys

from tinygen.exercises.catalog import load_course, lookup
from tinygen.exercises.hints import next_hint
from tinygen.exercises.report import format_results, gradescope_results, json_report, junit_xml
from tinygen.exercises.runner import DEFAULT_TIMEOUT, PASS, check_workspace
from tinygen.exercises.workspace import start_workspace


def add_exercises_parser(commands):
    parser = commands.add_parser("exercises", help="write a workspace of exercises and grade it",
                                 description="Exercise mode: rewrite pieces of tinygen and have them graded.")
    actions = parser.add_subparsers(dest="action", required=True)
    course = dict(metavar="DIR", action="append", default=[], dest="from_dirs",
                  help="also an instructor's exercises from this folder (NAME/exercise.py ...); repeatable")
    listing = actions.add_parser("list", help="the course path: each exercise and what it builds on")
    listing.add_argument("--from", **course)
    start = actions.add_parser("start", help="write the stubs and a README into DIR (existing files are kept)")
    start.add_argument("directory", metavar="DIR")
    start.add_argument("--from", **course)
    check = actions.add_parser("check", help="grade the exercises in DIR (exit status 1 unless all pass)")
    check.add_argument("directory", metavar="DIR")
    check.add_argument("name", metavar="NAME", nargs="?", help="grade only this exercise")
    check.add_argument("--from", **course)
    check.add_argument("--json", action="store_true", help="print the verdicts as JSON instead of a table")
    check.add_argument("--junit", metavar="FILE", help="also write the verdicts as JUnit XML to FILE")
    check.add_argument("--gradescope", metavar="FILE", help="also write Gradescope's results.json to FILE")
    check.add_argument("--hint", type=int, choices=(1, 2, 3), default=1,
                       help="show hints up to this level with each failure (1: what is wrong, 2: a direction, "
                            "3: a worked step)")
    check.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                       help=f"seconds before an exercise's grading is stopped (default {DEFAULT_TIMEOUT:g})")
    check.add_argument("--jobs", type=int, help="exercises graded at once (default: up to 4)")
    hint = actions.add_parser("hint", help="the next hint for what fails in exercise NAME (--answer: the answer)")
    hint.add_argument("name", metavar="NAME")
    hint.add_argument("directory", metavar="DIR", nargs="?", default=".", help="the workspace (default: here)")
    hint.add_argument("--answer", action="store_true", help="show the answer of the failing check")
    hint.add_argument("--from", **course)


def run_exercises(args):
    """Run one exercises subcommand; returns the exit status."""
    try:
        return ACTIONS[args.action](args)
    except KeyboardInterrupt:
        print("\ninterrupted: grading stopped; nothing was recorded", file=sys.stderr)
        return 130


def _list(args):
    course = load_course(args.from_dirs)
    width = max(len(exercise.name) for exercise in course) + 2
    print(f"the course path ({len(course)} exercises; each after those it builds on):")
    for number, exercise in enumerate(course, start=1):
        print(f"{number:>3}. {exercise.name:<{width}}{exercise.summary}")
        print(f"{'':>5}{'':<{width}}after: {', '.join(exercise.after) or '-'}"
              + (f"; read {exercise.reading}" if exercise.reading else ""))
    return 0


def _start(args):
    written, kept = start_workspace(args.directory, args.from_dirs)
    print(f"wrote {', '.join(written) or 'nothing'} in {args.directory}")
    if kept:
        print(f"kept (already there): {', '.join(kept)}")
    print(f"next: read {os.path.join(args.directory, 'README.md')} (the course path), then "
          f"`tinygen exercises check {args.directory}`")
    return 0


def _check(args):
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if not args.timeout > 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    results = check_workspace(args.directory, args.name, args.from_dirs, jobs=args.jobs, timeout=args.timeout)
    if args.json:
        print(json.dumps(json_report(results, args.directory), indent=1))
    else:
        print(format_results(results, args.hint, args.directory))
    if args.junit:
        with open(args.junit, "w") as file:
            file.write(junit_xml(results))
    if args.gradescope:
        with open(args.gradescope, "w") as file:
            json.dump(gradescope_results(results), file, indent=1)
    return 0 if all(result.status == PASS for result in results) else 1


def _hint(args):
    course = load_course(args.from_dirs)
    exercise = lookup(course, args.name)
    (result,) = check_workspace(args.directory, exercise.name, args.from_dirs)
    text, status = next_hint(args.directory, result, args.answer)
    print(text)
    return status


ACTIONS = {"list": _list, "start": _start, "check": _check, "hint": _hint}
