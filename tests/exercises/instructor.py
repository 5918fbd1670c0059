"""An instructor's own exercise, in the format of tinygen's: a folder softplus/ with exercise.py and solution.py."""
import textwrap

EXERCISE = '''
"""softplus: the backward of softplus (an instructor's exercise)."""
from tinygen.exercises.grading import Hints, check_op_backward, random_tensor

SUMMARY = "backward of softplus, log(1 + exp(x))"
AFTER = ("tanh",)
REPLACES = {"Softplus": "tinygen.ops.elementwise:Softplus"}
WRITES = {"Softplus": ("backward",)}
POINTS = 2

HINTS = Hints(what="dL/dx has wrong values", direction="the derivative of log(1 + exp(x)) is a function you know",
              step="d/dx log(1 + exp(x)) = exp(x) / (1 + exp(x))", answer="g * sigmoid(x)")


def grade(student, reference):
    x = random_tensor((6,), 0, low=-3.0, high=3.0)
    check_op_backward("softplus of x (6,)", lambda x: student.Softplus(1.0, 20.0)(x),
                      lambda x: reference.Softplus(1.0, 20.0)(x), [x], ["x"], {"x": HINTS})
'''

SOLUTION = '''
"""Exercise softplus: write Softplus.backward (beta = 1, no threshold in the cases graded)."""
from tinygen.ops import elementwise
from tinygen.ops.elementwise import sigmoid


class Softplus(elementwise.Softplus):
    def backward(self, g):
        # solution: begin
        (x,) = self.saved_inputs
        return g * sigmoid(x * self.beta)
        # solution: end
'''


def write_course(directory):
    """Write the instructor's course folder (one exercise, softplus) into ``directory``; returns its path."""
    folder = directory / "softplus"
    folder.mkdir(parents=True)
    (folder / "exercise.py").write_text(textwrap.dedent(EXERCISE).lstrip())
    (folder / "solution.py").write_text(textwrap.dedent(SOLUTION).lstrip())
    return directory
