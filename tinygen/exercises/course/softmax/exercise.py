"""softmax: softmax and log-softmax (stable forwards, backwards) and cross-entropy on them."""
from tinygen import creation
from tinygen.backend.dtypes import float32, float64
from tinygen.exercises.grading import (Hints, check_forward, check_gradients, check_op_backward, random_tensor,
                                       sums_to_zero)

SUMMARY = "softmax and log-softmax (stable forwards, backwards) and cross-entropy"
READING = "docs/derivations/activations.md"
AFTER = ("sum", "tanh")
REPLACES = {"Softmax": "tinygen.ops.activation:Softmax", "LogSoftmax": "tinygen.ops.activation:LogSoftmax",
            "cross_entropy": "tinygen.losses.multiclass:cross_entropy"}
WRITES = {"Softmax": ("forward", "backward"), "LogSoftmax": ("forward", "backward")}
HELPERS = ("tinygen.losses.multiclass:nll_loss", "tinygen.ops.reduction:LogSumExp")

SHIFT = "subtract each slice's maximum first: the largest exponent becomes exp(0) = 1"
FORWARD = {
    "softmax": Hints(what="softmax has wrong values at moderate logits", direction="exp of each entry, divided by "
                     "the sum of the exps along dim", step="xp.exp(x) / xp.exp(x).sum(axis=dim, keepdims=True)",
                     answer="e = xp.exp(x - x.max(axis=self.dim, keepdims=True)); return e / e.sum(axis=self.dim, "
                            "keepdims=True)"),
    "log_softmax": Hints(what="log_softmax has wrong values at moderate logits",
                         direction="log softmax(x) = x - log(sum of exp(x) along dim)",
                         step="the log of a quotient is a difference of logs", answer=(
                             "s = x - x.max(axis=self.dim, keepdims=True); return s - xp.log(xp.exp(s).sum("
                             "axis=self.dim, keepdims=True))")),
}
STABLE = {
    name: Hints(what=f"{name} is not finite (or not exact) at logits of +-1000: an exp overflows, or a log sees 0",
                direction="a constant subtracted from a whole slice changes nothing; choose it so that no exp "
                          "overflows", step=SHIFT, answer=hints.answer)
    for name, hints in FORWARD.items()
}
BACKWARD = {
    "softmax": Hints(what="dL/dx of softmax has wrong values",
                     direction="dy_i/dx_j = y_i (1 - y_i) for i == j and -y_i y_j otherwise; sum g_i dy_i/dx_j over i",
                     step="sum_i g_i y_i ([i == j] - y_j) = y_j g_j - y_j sum_i g_i y_i",
                     answer="y * (g - (g * y).sum(dim=self.dim, keepdim=True)) with y = self.saved_output"),
    "log_softmax": Hints(what="dL/dx of log_softmax has wrong values",
                         direction="y_i = x_i - log sum_k exp(x_k): dy_i/dx_j = [i == j] - softmax(x)_j",
                         step="sum over i of g_i ([i == j] - p_j) = g_j - p_j sum_i g_i, with p = exp(y)",
                         answer="g - y.exp() * g.sum(dim=self.dim, keepdim=True) with y = self.saved_output"),
}
SUMS_TO_ZERO = Hints(
    what="dL/dx of log_softmax does not sum to zero along dim, as it must (adding one constant to a whole slice "
         "changes nothing)",
    direction="the gradient has a direct term (g) and a term through the normalizer log sum exp(x), which every "
              "entry of the slice shares",
    step=BACKWARD["log_softmax"].step,
    answer=BACKWARD["log_softmax"].answer,
)
CROSS_ENTROPY = Hints(
    what="cross_entropy has wrong values: -log of each sample's softmax probability of its target class, then "
         "the reduction",
    direction="take your log_softmax over dim 1, pick each row's target entry, negate, reduce",
    step="log_probabilities.gather(1, target.unsqueeze(1)).squeeze(1) picks log p[n, target[n]]",
    answer="reduce(-LogSoftmax(1)(input).gather(1, target.unsqueeze(1)).squeeze(1), reduction)",
)

STABLE_CROSS_ENTROPY = Hints(
    what="cross_entropy is not finite (or not exact) at logits of +-1000: a log sees a probability that rounded "
         "to 0",
    direction="log(softmax(x)) rounds first and takes the log after; a function you wrote computes the log of the "
              "probabilities in one stable step",
    step="log_softmax(x) = (x - max) - log(sum of exp(x - max)) never takes the log of 0",
    answer=CROSS_ENTROPY.answer,
)


def grade(student, reference):
    for name, make in (("softmax", lambda m, dim: m.Softmax(dim)), ("log_softmax", lambda m, dim: m.LogSoftmax(dim))):
        for seed, (shape, dim) in enumerate([((3, 5), 1), ((4, 3), 0), ((2, 3, 4), 2)]):
            x = random_tensor(shape, seed, low=-3.0, high=3.0)
            case = f"{name} of x {shape} along dim {dim}"
            check_forward(case, lambda x: make(student, dim)(x), lambda x: make(reference, dim)(x), [x], ["x"],
                          FORWARD[name])
            symptoms = {"x": sums_to_zero(dim, "dL/dx does not sum to zero along dim", SUMS_TO_ZERO,
                                          "sums to zero")} if name == "log_softmax" else None
            check_op_backward(case, lambda x: make(student, dim)(x), lambda x: make(reference, dim)(x), [x], ["x"],
                              {"x": BACKWARD[name]}, seed=seed, symptoms=symptoms)
        for dtype in (float64, float32):
            x = creation.tensor([[-1000.0, 0.0, 1000.0, 999.0], [1000.0, 1000.0, -5.0, 3.0]], dtype=dtype)
            check_forward(f"{name} of logits {x.tolist()} ({dtype}) along dim 1", lambda x: make(student, 1)(x),
                          lambda x: make(reference, 1)(x), [x], ["x"], STABLE[name])
    logits = random_tensor((5, 4), 10, low=-3.0, high=3.0)
    target = creation.tensor([0, 3, 1, 1, 2])
    for reduction in ("mean", "sum", "none"):
        case = f"cross_entropy of logits (5, 4), target {target.tolist()}, reduction={reduction!r}"
        students = (lambda r: lambda x, t: student.cross_entropy(x, t, reduction=r))(reduction)
        references = (lambda r: lambda x, t: reference.cross_entropy(x, t, reduction=r))(reduction)
        check_forward(case, students, references, [logits, target], ["logits", "target"], CROSS_ENTROPY)
        check_gradients(case, students, references, [logits, target], ["logits", "target"], {"logits": CROSS_ENTROPY})
    check_stable_cross_entropy(student, reference)


def check_stable_cross_entropy(student, reference):
    """cross_entropy at logits of +-1000: finite and exact, as log_softmax makes it (log(softmax(x)) is inf)."""
    logits = creation.tensor([[-1000.0, 0.0, 1000.0, 999.0], [1000.0, 1000.0, -5.0, 3.0]], dtype=float64)
    target = creation.tensor([0, 2])
    case = f"cross_entropy of logits {logits.tolist()}, target {target.tolist()}, reduction='none'"

    def mine(x, t):
        return student.cross_entropy(x, t, reduction="none")

    def theirs(x, t):
        return reference.cross_entropy(x, t, reduction="none")

    check_forward(case, mine, theirs, [logits, target], ["logits", "target"], STABLE_CROSS_ENTROPY)
    check_gradients(case, mine, theirs, [logits.requires_grad_(), target], ["logits", "target"],
                    {"logits": STABLE_CROSS_ENTROPY})
