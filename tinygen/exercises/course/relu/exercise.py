"""relu: relu and leaky relu, forward and backward, with PyTorch's convention at the kink."""
from tinygen import creation
from tinygen.exercises.grading import Hints, check_forward, check_op_backward, expect, random_tensor, upstream_for

SUMMARY = "relu and leaky relu: forward, backward and the kink at 0"
READING = "docs/derivations/elementwise.md"
AFTER = ("tanh",)
REPLACES = {"ReLU": "tinygen.ops.elementwise:ReLU", "LeakyReLU": "tinygen.ops.elementwise:LeakyReLU"}
WRITES = {"ReLU": ("forward", "backward"), "LeakyReLU": ("forward", "backward")}
HELPERS = ("tinygen.ops.elementwise:MaskedScale",)

FORWARD = {
    "relu": Hints(what="relu(x) has wrong values", direction="relu keeps the positive entries and zeroes the rest",
                  step="an elementwise maximum with 0 does exactly that", answer="xp.maximum(x, 0)"),
    "leaky": Hints(what="leaky_relu(x) has wrong values (look at the negative_slope of the failing case)",
                   direction="leaky relu keeps the positive entries and multiplies the others by negative_slope",
                   step="max(x, slope * x) picks the right one only while slope <= 1; a select on x > 0 works for "
                        "every slope",
                   answer="xp.where(x > 0, x, self.negative_slope * x)"),
}
BACKWARD = {
    "relu": Hints(what="dL/dx has wrong values", direction="relu's slope is 1 where x > 0 and 0 elsewhere",
                  step="keep x (save_inputs) and, in backward, build the mask x > 0 as a Tensor of g's dtype",
                  answer="g * (x > 0).to(dtype=g.dtype) with (x,) = self.saved_inputs"),
    "leaky": Hints(what="dL/dx has wrong values",
                   direction="leaky relu's slope is 1 where x > 0 and negative_slope elsewhere",
                   step="with the 0/1 mask m = (x > 0) as a Tensor: the slope is m + slope * (1 - m)",
                   answer="g * (m + self.negative_slope * (1.0 - m)) with m = (x > 0).to(dtype=g.dtype)"),
}
KINK = Hints(
    what="at x = 0 exactly your slope differs from the convention: tinygen (like PyTorch) takes the slope of the "
         "left side there (0 for relu, negative_slope for leaky relu)",
    direction="the derivative does not exist at the kink; every library picks one side, and so must you",
    step="x > 0 is False at 0 (the left side's slope); x >= 0 is True (the right side's)",
    answer="use the mask x > 0, not x >= 0",
)


def _with_zeros(shape, seed):
    """Random values in [-2, 2), a third of them exactly 0 (the kink)."""
    values = random_tensor(shape, seed, low=-2.0, high=2.0, requires_grad=False)
    count = values.numel()
    keep = creation.tensor([0.0 if i % 3 == 0 else 1.0 for i in range(count)], dtype=values.dtype)
    return (values * keep.reshape(shape)).requires_grad_()


def _right_side_gradient(x, upstream, slope):
    """dL/dx with the slope of the right side at x = 0: the known wrong convention."""
    right = (x >= 0).to(dtype=x.dtype)
    return upstream * (right + slope * (1.0 - right))


def grade(student, reference):
    cases = [("relu", None, lambda m: m.ReLU())] + [
        (f"leaky_relu(negative_slope={slope})", slope, (lambda s: lambda m: m.LeakyReLU(s))(slope))
        for slope in (0.01, 0.2, 1.5)]
    for seed, (what, slope, make) in enumerate(cases):
        kind = "relu" if slope is None else "leaky"
        for shape in [(9,), (2, 3, 4)]:
            x = _with_zeros(shape, seed)
            case = f"{what} of x {shape}"
            check_forward(case, lambda x: make(student)(x), lambda x: make(reference)(x), [x], ["x"], FORWARD[kind])
            kink = expect(_right_side_gradient, x, upstream_for(x, seed), slope or 0.0)
            note = "it has the slope of the right side at x = 0"
            check_op_backward(case, lambda x: make(student)(x), lambda x: make(reference)(x), [x], ["x"],
                              {"x": BACKWARD[kind]}, seed=seed, variants={"x": [(kink, note, KINK)]})
