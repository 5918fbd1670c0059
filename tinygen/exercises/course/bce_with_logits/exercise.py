"""bce_with_logits: binary cross-entropy on logits, a stable forward and its backward."""
from tinygen import creation
from tinygen.backend.dtypes import float32, float64
from tinygen.exercises.grading import Hints, check_forward, check_op_backward, random_tensor

SUMMARY = "stable forward and backward of BCE on logits"
READING = "docs/derivations/losses.md"
AFTER = ("softmax",)
REPLACES = {"BinaryCrossEntropyWithLogits": "tinygen.losses.classification:BinaryCrossEntropyWithLogits"}
WRITES = {"BinaryCrossEntropyWithLogits": ("forward", "backward")}

ANSWER = "xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))"
FORMULA = Hints(
    what="the loss has wrong values even at moderate logits (|x| <= 3): the formula itself is off, not only its "
         "stability",
    direction="the loss is BCE(p, t) = -(t log p + (1 - t) log(1 - p)) at p = sigmoid(x); write log p and "
              "log(1 - p) in terms of x",
    step="log sigmoid(x) = -log(1 + exp(-x)) and log(1 - sigmoid(x)) = -x - log(1 + exp(-x)); put them in and "
         "collect the terms",
    answer=ANSWER,
)
STABLE = Hints(
    what="the loss is not finite, or not exact, at logits of large magnitude: an exp overflows, or a log reaches "
         "log 0",
    direction="rewrite the loss so that every exp gets an argument <= 0, whatever the sign of x",
    step="log(1 + exp(-x)) is safe for x >= 0; for x < 0 write it as -x + log(1 + exp(x)); max(x, 0) and |x| "
         "join the two cases in one expression",
    answer=ANSWER,
)
HINTS = {
    "x": Hints(
        what="dL/dx has wrong values (dL/dt is checked separately)",
        direction="differentiate the loss in x; the result is short in terms of sigmoid(x)",
        step="d/dx log(1 + exp(-x)) = -exp(-x) / (1 + exp(-x)) = sigmoid(x) - 1; collect it with the -t term",
        answer="g * (sigmoid(x) - t)",
    ),
    "t": Hints(
        what="dL/dt has wrong values (dL/dx is checked separately)",
        direction="the loss is linear in t: which terms contain t?",
        step="-(t log p + (1 - t) log(1 - p)) = -t (log p - log(1 - p)) + ..., and log p - log(1 - p) = x",
        answer="-(g * x)",
    ),
}
STABLE_BACKWARD = Hints(
    what="dL/dx is not finite (or not exact) at logits of large magnitude: an exp overflows (inf / inf is nan)",
    direction="write dL/dx with a function that tinygen already computes stably at any logit",
    step=HINTS["x"].step,
    answer=HINTS["x"].answer,
)
MODERATE = [-3.0, -1.0, -0.5, 0.0, 0.5, 2.0, 3.0]
EXTREME = [-1000.0, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0, 1000.0]
TARGETS = [0.0, 1.0, 0.3, 1.0, 0.5, 0.0, 0.7, 1.0, 0.0]


def grade(student, reference):
    def loss(implementation):
        return lambda x, t: implementation.BinaryCrossEntropyWithLogits()(x, t)

    for logits, hints in ((MODERATE, FORMULA), (EXTREME, STABLE)):
        for dtype in (float64, float32):
            x = creation.tensor(logits, dtype=dtype)
            t = creation.tensor(TARGETS[:len(logits)], dtype=dtype)
            check_forward(f"forward at logits {logits}, targets {t.tolist()} ({dtype})", loss(student),
                          loss(reference), [x, t], ["x", "t"], hints)
    for seed, shape in enumerate([(6,), (3, 4)]):
        x, t = random_tensor(shape, 2 * seed, low=-4.0, high=4.0), random_tensor(shape, 2 * seed + 1, low=0.0)
        check_op_backward(f"backward at x {shape}, t {shape}", loss(student), loss(reference), [x, t], ["x", "t"],
                          HINTS, seed=seed)
    x = creation.tensor(EXTREME, dtype=float64).requires_grad_()
    t = creation.tensor(TARGETS, dtype=float64).requires_grad_()
    # first order only: 1 / (1 + exp(-x)) is an exact first derivative whose own derivative overflows at -1000
    check_op_backward(f"backward at logits {EXTREME}, targets {TARGETS}", loss(student), loss(reference), [x, t],
                      ["x", "t"], {**HINTS, "x": STABLE_BACKWARD}, second_order=False)
