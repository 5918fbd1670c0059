"""tanh: the backward of y = tanh(x), written from the saved output."""
from tinygen.exercises.grading import Hints, check_op_backward, noncontiguous, random_tensor

SUMMARY = "backward of tanh, from its saved output"
READING = "docs/derivations/elementwise.md"
REPLACES = {"Tanh": "tinygen.ops.elementwise:Tanh"}
WRITES = {"Tanh": ("backward",)}

HINTS = Hints(
    what="dL/dx has wrong values: your derivative of tanh is wrong (check it at x = 0, where it is 1, and for large "
         "|x|, where it goes to 0)",
    direction="write d tanh(x)/dx in terms of the output y = tanh(x), which backward has as self.saved_output",
    step="tanh = sinh / cosh; the quotient rule gives (cosh^2 - sinh^2) / cosh^2, and sinh / cosh = y",
    answer="return g * (1.0 - y * y) with y = self.saved_output",
)


def grade(student, reference):
    for seed, shape in enumerate([(5,), (2, 3, 4)]):
        x = random_tensor(shape, seed, low=-2.0, high=2.0)
        for layout, tensor in (("", x), (", non-contiguous", noncontiguous(x))):
            check_op_backward(f"tanh of x {tuple(shape)}{layout}", lambda x: student.Tanh()(x),
                              lambda x: reference.Tanh()(x), [tensor], ["x"], {"x": HINTS}, seed=seed)
