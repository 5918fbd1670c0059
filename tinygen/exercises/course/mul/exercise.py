"""mul: the backward of z = a * b with broadcasting."""
from tinygen.exercises.grading import Hints, check_op_backward, describe, noncontiguous, random_tensor

SUMMARY = "backward of a * b with broadcasting"
READING = "docs/derivations/broadcasting.md"
AFTER = ("sum_to",)
REPLACES = {"Mul": "tinygen.ops.arithmetic:Mul"}
WRITES = {"Mul": ("backward",)}


def _hints(name, other):
    return {
        name: Hints(
            what=f"dL/d{name} has wrong values (the other gradient, dL/d{other}, is checked separately)",
            direction=f"z_i = a_i * b_i: how much does z_i change when {name}_i changes, and which g multiplies it?",
            step=f"without broadcasting dz_i/d{name}_i = {other}_i, so dL/d{name}_i = g_i * {other}_i; with "
                 f"broadcasting, add up the gradients of every z_i that one entry of {name} reached",
            answer=f"sum_to(g * {other}, {name}.shape)",
        ),
        f"shape {name}": Hints(
            what=f"dL/d{name} has the shape of z, not of {name}: {name} was broadcast",
            direction=f"an entry of {name} that broadcasting copied to several entries of z gets the gradient of "
                      "every copy",
            step=f"add the gradients of the copies: sum g * {other} over the dimensions along which {name} was "
                 "broadcast (sum_to does exactly that)",
            answer=f"sum_to(g * {other}, {name}.shape)",
        ),
    }


HINTS = {**_hints("a", "b"), **_hints("b", "a")}
CASES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((), (2, 3)), ((2, 3), (3,))]


def grade(student, reference):
    for seed, (a_shape, b_shape) in enumerate(CASES):
        a, b = random_tensor(a_shape, 2 * seed), random_tensor(b_shape, 2 * seed + 1)
        inputs = [a, noncontiguous(b)] if b.ndim and seed == 4 else [a, b]
        check_op_backward(f"mul of {describe('ab', inputs)}", lambda a, b: student.Mul()(a, b),
                          lambda a, b: reference.Mul()(a, b), inputs, ["a", "b"], HINTS, seed=seed)
