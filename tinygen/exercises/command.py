"""``tinygen exercises list | start | check | hint``: the parser and what each subcommand does.

Exit status of ``check``: 0 when every exercise checked passes, 1 otherwise, 2 for a usage error (an unknown
exercise, a missing workspace): usable as is by an autograder.
"""
import json
import os
import sys

from tinygen.exercises.catalog import load_course, lookup
from tinygen.exercises.hints import STATE_FILE, next_hint
from tinygen.exercises.report import format_results, gradescope_results, json_report, junit_xml
from tinygen.exercises.runner import DEFAULT_TIMEOUT, PASS, check_workspace
from tinygen.exercises.workspace import start_workspace
from tinygen.files import atomic_write, not_a_regular_file
from tinygen.training.run_directory import run_owning


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
    check.add_argument("names", metavar="NAME", nargs="*",
                       help="grade only these exercises (say, an instructor's own, scored out of their points alone)")
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
    reports = _report_paths(args)
    results = check_workspace(args.directory, args.names or None, args.from_dirs, jobs=args.jobs, timeout=args.timeout)
    if args.json:
        print(json.dumps(json_report(results, args.directory), indent=1))
    else:
        print(format_results(results, args.hint, args.directory))
    if "--junit" in reports:
        _write_report(args.junit, junit_xml(results))
    if "--gradescope" in reports:
        _write_report(args.gradescope, json.dumps(gradescope_results(results), indent=1))
    return 0 if all(result.status == PASS for result in results) else 1


#: files a report never replaces, by suffix: a student's source, a checkpoint (``tinygen.save``), a notebook
PRECIOUS_SUFFIXES = {".py": "Python source", ".npz": "a checkpoint", ".ipynb": "a notebook"}


def _report_paths(args):
    """The report options given (``--junit``, ``--gradescope``), checked before any grading time is spent: each
    names a file in a directory that exists, not a directory, not the other report, and never a file of the
    workspace, source code, a checkpoint or a training run's output (a report replaces the file it names)."""
    reports = {option: path for option, path in (("--junit", args.junit), ("--gradescope", args.gradescope))
               if path is not None}
    example = {"--junit": "junit.xml", "--gradescope": "results.json"}
    for option, path in reports.items():
        if not path:
            raise ValueError(f"{option} is empty: name a file, e.g. {example[option]!r}")
        if path.endswith(("/", os.sep)) or os.path.isdir(path):
            raise ValueError(f"{option} {path!r} is a directory: name a file, e.g. "
                             f"{os.path.join(path, example[option])!r}")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"{option} {path}: the directory {directory} does not exist")
        stream = os.path.exists(path) and not_a_regular_file(path)  # /dev/stdout, a pipe: written into, not replaced
        refusal = _precious(path, args.directory) if os.path.lexists(path) and not stream else None
        if refusal:
            raise ValueError(f"{option} {path} is {refusal}: writing the report there would replace it; "
                             f"choose another name, e.g. {example[option]!r}")
    if len(reports) == 2 and _same_file(*reports.values()):
        raise ValueError(f"--junit and --gradescope both name {args.junit}: one would replace the other; give two "
                         "names")
    return reports


def _write_report(path, text):
    """A file is replaced whole (``atomic_write``); a stream (``/dev/stdout``, a pipe, a device) is written into."""
    if os.path.exists(path) and not_a_regular_file(path):
        with open(path, "w") as stream:
            stream.write(text)
    else:
        atomic_write(path, lambda file: file.write(text), binary=False)


def _precious(path, workspace):
    """What the existing file ``path`` is, if a report must not replace it; else None."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in PRECIOUS_SUFFIXES:
        return PRECIOUS_SUFFIXES[suffix]
    if os.path.basename(path) in ("README.md", STATE_FILE) and _same_file(os.path.dirname(os.path.abspath(path)),
                                                                         workspace):
        return f"a file of the workspace {workspace}"
    run = run_owning(path)
    if run is not None:
        return f"one of the outputs of the training run in {run}"
    return None


def _same_file(first, second):
    if os.path.abspath(first) == os.path.abspath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False  # one of them does not exist (yet)


def _hint(args):
    course = load_course(args.from_dirs)
    exercise = lookup(course, args.name)
    (result,) = check_workspace(args.directory, exercise.name, args.from_dirs)
    text, status = next_hint(args.directory, result, args.answer)
    print(text)
    return status


ACTIONS = {"list": _list, "start": _start, "check": _check, "hint": _hint}
