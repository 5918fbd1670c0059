"""A student's workspace: a folder with one file per exercise (``NAME.py``) and a README with the course path.

``start`` writes each exercise's stub (tinygen's ship as ``course/NAME/stub.py``, cut from the reference solution
in the repository; an instructor's may be cut from their ``solution.py`` when ``start`` runs) and never
overwrites a file: the student's work is safe.
"""
import os

from tinygen.exercises.catalog import load_course, load_module


def start_workspace(directory, from_dirs=()):
    """Write the README and one stub file per exercise (tinygen's, and those in the folders ``from_dirs``) into
    ``directory`` (created if needed). Existing files are kept. Returns (written, kept) file names."""
    course = load_course(from_dirs)
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"the workspace {directory!r} is a file, not a folder: name a folder for the "
                                 "exercises (it is created if needed)")
    os.makedirs(directory, exist_ok=True)
    files = {"README.md": readme(course)}
    files.update((exercise.filename, exercise.stub_text()) for exercise in course)
    written, kept = [], []
    for filename, text in files.items():
        path = os.path.join(directory, filename)
        if os.path.exists(path):
            kept.append(filename)
            continue
        with open(path, "x") as file:
            file.write(text)
        written.append(filename)
    return written, kept


def course_table(course):
    """The course path as a Markdown table: order, file, what to write, what it builds on, what to read."""
    rows = [f"| {number} | `{e.filename}` | {e.summary} | {', '.join(e.after) or '-'} | {e.reading or '-'} |"
            for number, e in enumerate(course, start=1)]
    return "\n".join(["| # | file | what you write | after | read first |", "| --- | --- | --- | --- | --- |", *rows])


def readme(course):
    return f"""# tinygen exercises

Each file here is a piece of tinygen with its heart cut out: a `raise NotImplementedError` where a backward
pass, a stable forward, an update rule or the engine's walk should be. The docstring above it says what to
write: the shapes, what to derive, what is given. Your code plugs into the real engine.

## The course path

Work through them in this order; "after" names the exercises each one builds on.

{course_table(course)}

## Checking your work

From the folder that holds this one (THIS_FOLDER is this folder's name):

    tinygen exercises check THIS_FOLDER            all exercises: a table, and for each failure what is wrong
    tinygen exercises check THIS_FOLDER mul        one exercise
    tinygen exercises hint mul THIS_FOLDER         the next hint for what failed: a direction, then a worked step
    tinygen exercises hint mul THIS_FOLDER --answer    the answer, when you decide you want it

The grader runs each exercise in a process of its own and compares your results with tinygen's own, computed
on its own copies of the inputs. While your code runs, tinygen's own implementation of that exercise is out of
reach: calling it (through `super()`, an import or another function) fails the exercise.

Once an exercise passes, tinygen can run on it:

    tinygen train dcgan --ops THIS_FOLDER      train a DCGAN on every op of yours that passes (output in runs/dcgan-ops)

`tinygen exercises start` never overwrites a file that exists: delete a file to get its stub back.
"""


def load_student_module(directory, exercise):
    """Import the student's file of ``exercise`` from ``directory`` afresh (not cached in ``sys.modules``)."""
    return load_module(os.path.join(directory, exercise.filename), f"tinygen_workspace_{exercise.name}")
