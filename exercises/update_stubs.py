"""Write each exercise's stub, cut from its reference solution: exercises/solutions/NAME.py ->
tinygen/exercises/course/NAME/stub.py (the lines between the solution markers become a NotImplementedError).

    python exercises/update_stubs.py        after changing a solution; tests/exercises check that none is stale
"""
import pathlib

from tinygen.exercises.catalog import COURSE, COURSE_DIR, cut_stub

SOLUTIONS = pathlib.Path(__file__).resolve().parent / "solutions"

if __name__ == "__main__":
    for name in COURSE:
        stub = pathlib.Path(COURSE_DIR) / name / "stub.py"
        text = cut_stub((SOLUTIONS / f"{name}.py").read_text())
        if not stub.exists() or stub.read_text() != text:
            stub.write_text(text)
            print(f"wrote {stub}")
