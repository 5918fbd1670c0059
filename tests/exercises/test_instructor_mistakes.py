"""An instructor's mistakes in an exercise of their own (``--from DIR``) are the instructor's one-line error, naming
the exercise and what is wrong: never a traceback, never "a bug in tinygen", never a student's failure, and never
a stub that hands out the solution."""
import pytest

from tinygen.cli import main

from . import instructor


def _break(tmp_path, file, old, new):
    course = instructor.write_course(tmp_path / "course")
    path = course / "softplus" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return course


@pytest.mark.parametrize("file, old, new, expected", [
    ("exercise.py", "POINTS = 2", "POINTS = 2 +", "exercise.py does not load (line 8): SyntaxError: invalid syntax"),
    ("exercise.py", "from tinygen", "import no_such_module\nfrom tinygen",
     "exercise.py does not load (line 2): ModuleNotFoundError: No module named 'no_such_module'"),
    ("exercise.py", "elementwise:Softplus", "elementwise:Softplux",
     "REPLACES['Softplus'] names 'tinygen.ops.elementwise:Softplux', which does not exist (AttributeError"),
    ("exercise.py", "tinygen.ops.elementwise:", "tinygen.ops.elementwize:",
     "REPLACES['Softplus'] names 'tinygen.ops.elementwize:Softplus', which does not exist (ModuleNotFoundError"),
    ("exercise.py", '("backward",)', '("backwards",)',
     "WRITES names tinygen.ops.elementwise:Softplus.backwards, which does not exist"),
    ("solution.py", "        # solution: begin\n", "",
     "solution.py needs its lines to write between '# solution: begin' and '# solution: end' (the student's stub "
     "is cut there), in pairs; found # solution: end"),
    ("solution.py", "        # solution: end\n", "", "in pairs; found # solution: begin"),
])
def test_a_mistake_in_an_instructors_exercise_is_a_one_line_error_naming_it(tmp_path, capsys, file, old, new,
                                                                             expected):
    """Before, a syntax or import error in exercise.py read "unexpected SyntaxError ... (a bug in tinygen)"; a
    REPLACES naming nothing listed and started fine, then failed every student with a traceback; a solution.py
    without its markers was handed out whole as the stub."""
    course = _break(tmp_path, file, old, new)
    for command in (["list"], ["start", str(tmp_path / "work")], ["hint", "softplus", str(tmp_path)]):
        assert main(["exercises", *command, "--from", str(course)]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and f"exercise folder {course / 'softplus'}: " in error and expected in error
    assert not (tmp_path / "work").exists()

