"""An instructor's mistakes in an exercise of their own (``--from DIR``) are the instructor's one-line error, naming
the exercise and what is wrong: never a traceback, never "a bug in tinygen", never a student's failure, and never
a stub that hands out the solution."""
import textwrap

import pytest

from tinygen.cli import main
from tinygen.exercises import FAIL, check_workspace, start_workspace

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


GRADE = '''
def grade(student, reference):
    x = random_tensor((6,), 0, low=-3.0, high=3.0)
    check_op_backward("softplus of x (6,)", lambda x: student.Softplus(1.0, 20.0)(x),
                      lambda x: reference.Softplus(1.0, 20.0)(x), [x], ["x"], {"x": HINTS})
'''


@pytest.mark.parametrize("isolate", [False, True])
@pytest.mark.parametrize("new, expected", [
    ("\ndef grade(student, reference):\n    student.Softplus(1.0, 20.0)\n",
     "exercise.py): its grade() returned without comparing an answer (no check_forward, check_op_backward, "
     "check_gradients or compare ran): it would pass any submission"),
    (GRADE.replace("check_op_backward(", "check_op_backwards("),
     "exercise.py, line 16): its grader raised NameError: name 'check_op_backwards' is not defined (a mistake in "
     "the exercise, not in the submission)"),
    (GRADE.replace('["x"], {"x": HINTS}', '["y"], {"x": HINTS}'),
     "exercise.py, line 16): its grader raised KeyError: 'y' (a mistake in the exercise, not in the submission)"),
])
def test_a_grade_that_checks_nothing_or_raises_on_its_own_is_the_instructors_error(tmp_path, capsys, isolate, new,
                                                                                    expected):
    """Before, a grade() that compared nothing gave every submission, a stub returning zeros included, full marks,
    and a grade() that raised on its own failed each student with the instructor's exception as theirs."""
    course = _break(tmp_path, "exercise.py", instructor.EXERCISE[instructor.EXERCISE.index("\ndef grade"):], new)
    work = tmp_path / "work"
    assert main(["exercises", "start", str(work), "--from", str(course)]) == 0
    (work / "softplus.py").write_text("from tinygen.ops import elementwise\n\n\nclass Softplus(elementwise.Softplus):\n"
                                      "    def backward(self, g):\n        return g * 0\n")
    with pytest.raises(ValueError, match="^exercise softplus") as error:
        check_workspace(work, "softplus", [course], isolate=isolate)
    assert expected in str(error.value)
    assert main(["exercises", "check", str(work), "softplus", "--from", str(course), "--json"]) == 2
    assert expected in capsys.readouterr().err


def test_an_exception_of_the_students_code_inside_an_instructors_grade_is_the_students(tmp_path):
    """The other side: what the student's code raises, also when an instructor's grade() calls it outside a
    check, is the student's failure (their line is on the traceback), not the exercise's error."""
    course = _break(tmp_path, "exercise.py", instructor.EXERCISE[instructor.EXERCISE.index("\ndef grade"):],
                    "\ndef grade(student, reference):\n    student.Softplus(1.0, 20.0)(random_tensor((3,), 0))\n"
                    + GRADE.replace("def grade(", "def rest("))
    work = tmp_path / "work"
    start_workspace(work, [course])
    (work / "softplus.py").write_text("from tinygen.ops import elementwise\n\n\nclass Softplus(elementwise.Softplus):\n"
                                      "    def __init__(self, *args):\n        raise TypeError('mine')\n")
    (result,) = check_workspace(work, "softplus", [course], isolate=False)
    assert (result.status, result.check) == (FAIL, "crash")
    assert "TypeError: mine (in softplus.py, line 6" in result.message


@pytest.mark.parametrize("old, new, expected", [
    ('AFTER = ("tanh",)', 'AFTER = ("tanh")', "AFTER is 'tanh'; expected a tuple of exercise names, e.g. ('tanh',)"),
    ("POINTS = 2", 'POINTS = "two"', "POINTS is 'two'; expected a number of points, 0 or more"),
    ("POINTS = 2", "POINTS = -1", "POINTS is -1; expected a number of points, 0 or more"),
    ("def grade(student, reference):", "def grade(student):",
     "grade is grade(student); expected grade(student, reference)"),
])
def test_a_definition_of_the_wrong_form_is_named(tmp_path, capsys, old, new, expected):
    """Before, AFTER = ("tanh") read as the exercises 't', 'a', 'n', 'h'; POINTS = "two" said only "could not
    convert string to float"; POINTS = -1 scored -1/-1; a grade() without reference failed every student with
    its TypeError."""
    course = _break(tmp_path, "exercise.py", old, new)
    assert main(["exercises", "list", "--from", str(course)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"exercise folder {course / 'softplus'}: {expected}" in error


def test_a_folder_of_exercises_given_twice_is_read_once(tmp_path, capsys):
    """Before: "two exercises are called softplus: rename the instructor's folder", for --from a --from a/."""
    course = instructor.write_course(tmp_path / "course")
    assert main(["exercises", "list", "--from", str(course), "--from", f"{course}/"]) == 0
    assert "the course path (20 exercises" in capsys.readouterr().out


def test_an_instructors_exercise_named_without_from_says_it_needs_from(tmp_path, capsys):
    """Before: "unknown exercise 'softplus': expected one of tanh, ...", for a student who forgot --from."""
    start_workspace(tmp_path / "work", [instructor.write_course(tmp_path / "course")])
    assert main(["exercises", "hint", "softplus", str(tmp_path / "work")]) == 2
    assert "(an instructor's exercise needs --from DIR, the folder that holds its folder)" in capsys.readouterr().err


@pytest.mark.parametrize("isolate", [False, True])
def test_a_grade_that_catches_a_failed_check_is_the_instructors_error(tmp_path, isolate):
    """Before, a grade() that caught ExerciseFailure (to grade on after a failed case, say) passed a wrong answer
    with full marks; the right answer still passes."""
    new = GRADE.replace("    check_op_backward(", "    try:\n        check_op_backward(").replace(
        "        lambda x: reference", "            lambda x: reference") + "    except Exception:\n        pass\n"
    course = _break(tmp_path, "exercise.py", instructor.EXERCISE[instructor.EXERCISE.index("\ndef grade"):], new)
    work = tmp_path / "work"
    start_workspace(work, [course])
    (work / "softplus.py").write_text((course / "softplus" / "solution.py").read_text())
    assert check_workspace(work, "softplus", [course], isolate=isolate)[0].status == "pass"
    solution = (course / "softplus" / "solution.py").read_text()
    (work / "softplus.py").write_text(solution.replace("x * self", "-x * self"))
    with pytest.raises(ValueError, match=r"^exercise softplus \(.*exercise.py\): its grade\(\) returned after 1 failed "
                                         r"check\(s\) \(it caught the ExerciseFailure\): it would pass a wrong answer"):
        check_workspace(work, "softplus", [course], isolate=isolate)


def test_a_reference_whose_gradient_cannot_be_differentiated_is_the_instructors_error(tmp_path):
    """Before, a reference backward that tinygen cannot differentiate (on raw arrays, or detached) failed every
    student, a right answer included, with "your first derivative is right, but it cannot be differentiated"."""
    course = _break(tmp_path, "solution.py", "return g * sigmoid(x * self.beta)",
                    "return (g * sigmoid(x * self.beta)).detach()")
    work = tmp_path / "work"
    start_workspace(work, [course])
    (work / "softplus.py").write_text(textwrap.dedent(instructor.SOLUTION))
    with pytest.raises(ValueError, match=r"exercise.py, line 16\): its grader raised ValueError: softplus of x \(6,\), "
                                         r"second derivative: the reference's dL/dx is not connected to the inputs"):
        check_workspace(work, "softplus", [course], isolate=False)
