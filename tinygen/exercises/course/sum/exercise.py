"""sum: the backward of y = x.sum(dims, keepdim)."""
from tinygen.exercises.grading import Hints, check_op_backward, random_tensor

SUMMARY = "backward of a sum over dimensions, broadcast back"
READING = "docs/derivations/reductions.md"
AFTER = ("tanh",)
REPLACES = {"Sum": "tinygen.ops.reduction:Sum"}
WRITES = {"Sum": ("backward",)}

HINTS = Hints(
    what="dL/dx is wrong: it must have x's shape, with the upstream gradient of each sum in every entry that "
         "went into it",
    direction="each x_i enters exactly one sum, with slope 1: dL/dx_i is the gradient g of that sum",
    step="g has y's shape; first give it x's number of dimensions (size 1 where a dimension was summed and "
         "keepdim=False removed it), then copy it along those dimensions",
    answer="kept = (1 if axis in self.dims else size for each axis of self.input_shape); "
           "return broadcast_to(reshape(g, kept), self.input_shape)",
)
CASES = [((2, 3, 4), (0, 1, 2), False), ((2, 3, 4), (1,), False), ((2, 3, 4), (0, 2), True), ((3, 1, 2), (2,), False)]


def grade(student, reference):
    for seed, (shape, dims, keepdim) in enumerate(CASES):
        x = random_tensor(shape, seed)
        check_op_backward(f"sum over dims {dims} (keepdim={keepdim}) of x {shape}",
                          lambda x: student.Sum(dims, keepdim)(x), lambda x: reference.Sum(dims, keepdim)(x),
                          [x], ["x"], {"x": HINTS}, seed=seed)
