"""sum_to: broadcasting's reverse, the sum that every broadcast gradient needs."""
from tinygen.exercises.grading import Hints, check_forward, check_op_backward, noncontiguous, random_tensor

SUMMARY = "sum_to(x, shape): forward and backward of broadcasting's reverse"
READING = "docs/derivations/broadcasting.md"
AFTER = ("tanh",)
REPLACES = {"SumTo": "tinygen.ops.shape:SumTo"}
WRITES = {"SumTo": ("forward", "backward")}

FORWARD = Hints(
    what="sum_to gives a wrong result: check which dimensions you sum over, and that the result has exactly "
         "the target shape",
    direction="broadcasting `shape` up to x's shape copies along two kinds of dimensions: the leading ones that "
              "shape lacks, and those where shape has size 1 and x more; sum over exactly those",
    step="for x (2, 3, 4) and shape (3, 1): dim 0 is leading (x has one dimension more) and dim 2 has size 1 in "
         "shape; sum over axes (0, 2) with keepdims=True, giving (1, 3, 1), then reshape to (3, 1)",
    answer="lead = x.ndim - len(self.shape); axes = range(lead) plus lead + i for each i where self.shape[i] == 1 "
           "and x.shape[lead + i] != 1; return x.sum(axis=axes, keepdims=True).reshape(self.shape)",
)
BACKWARD = Hints(
    what="dL/dx is wrong: it must have x's shape",
    direction="every entry of x went into exactly one entry of y, with slope 1",
    step="so dL/dx at an entry is g at the entry of y it went into: g copied back along the summed dimensions, "
         "which is broadcasting",
    answer="return broadcast_to(g, self.input_shape)",
)
CASES = [((2, 3, 4), (3, 4)), ((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 4)), ((2, 3, 4), ()), ((2, 1, 4), (1, 4)),
         ((5, 3), (1, 3)), ((2, 3, 4), (2, 1, 1))]


def grade(student, reference):
    for seed, (shape, target) in enumerate(CASES):
        x = random_tensor(shape, seed)
        x = noncontiguous(x) if seed % 2 else x
        case = f"sum_to(x {shape}, {target})"
        check_forward(case, lambda x: student.SumTo(target)(x), lambda x: reference.SumTo(target)(x), [x], ["x"],
                      FORWARD)
        check_op_backward(case, lambda x: student.SumTo(target)(x), lambda x: reference.SumTo(target)(x), [x],
                          ["x"], {"x": BACKWARD}, seed=seed)
