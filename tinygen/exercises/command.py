"""``tinygen exercises list | start DIR | check DIR [NAME]``: the parser and what each subcommand does."""
from tinygen.exercises.catalog import EXERCISES
from tinygen.exercises.workspace import PASS, check_workspace, format_results, start_workspace


def add_exercises_parser(commands):
    parser = commands.add_parser("exercises", help="write a workspace of exercises and grade it",
                                 description="Exercise mode: rewrite pieces of tinygen and have them graded.")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the exercises, in the suggested order")
    start = actions.add_parser("start", help="write the stubs and a README into DIR (existing files are kept)")
    start.add_argument("directory", metavar="DIR")
    check = actions.add_parser("check", help="grade the exercises in DIR (exit status 1 unless all pass)")
    check.add_argument("directory", metavar="DIR")
    check.add_argument("name", metavar="NAME", nargs="?", help="grade only this exercise")


def run_exercises(args):
    """Run one exercises subcommand; returns the exit status."""
    if args.action == "list":
        width = max(len(exercise.name) for exercise in EXERCISES) + 2
        for exercise in EXERCISES:
            print(f"{exercise.name:<{width}}{exercise.summary}  (read {exercise.reading})")
        return 0
    if args.action == "start":
        written, kept = start_workspace(args.directory)
        print(f"wrote {', '.join(written) or 'nothing'} in {args.directory}")
        if kept:
            print(f"kept (already there): {', '.join(kept)}")
        print(f"next: read {args.directory}/README.md, then `tinygen exercises check {args.directory}`")
        return 0
    results = check_workspace(args.directory, args.name)
    print(format_results(results))
    return 0 if all(result.status == PASS for result in results) else 1
