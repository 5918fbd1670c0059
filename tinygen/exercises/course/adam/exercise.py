"""adam: the update rule of Adam, with bias correction.

Every form of the rule that differs from tinygen's only in where eps sits passes, e.g. Kingma and Ba's
"efficient" form (the bias corrections folded into the step size, which turns eps into eps / sqrt(1 - beta2^t)):
the tolerance is the most that any eps' in [0, eps / sqrt(1 - beta2)] can change the parameters, summed over the
steps (lr |m_hat| eps' / v_hat per step, twice over), plus float64 rounding.
"""
import math

from tinygen.exercises.grading import ExerciseFailure, Hints, attempting, compare, random_tensor, reference_mode

SUMMARY = "the update rule of Adam, with bias correction"
READING = "docs/derivations/adam.md"
REPLACES = {"Adam": "tinygen.optim.adam:Adam"}
WRITES = {"Adam": ("_update",)}

ANSWER = ("t += 1; g = g + wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; "
          "p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)")
HINTS = Hints(
    what="the parameters after this step differ from Adam's",
    direction="follow one parameter through the first step by hand: with m = v = 0 before it, what should the "
              "step be, for a gradient g?",
    step="at t = 1 the moving averages are m = (1 - b1) g and v = (1 - b2) g^2, far smaller than g and g^2; the "
         "bias corrections divide them by 1 - b1^t and 1 - b2^t, so that the first step is about lr * sign(g)",
    answer=ANSWER,
)


#: known wrong rules: (keyword arguments of ``rule``, what they are, what a student is told)
VARIANTS = [
    (dict(correct_m=False, correct_v=False), "Adam without its bias corrections",
     "both bias corrections are missing"),
    (dict(correct_v=False), "Adam without the second moment's bias correction",
     "the bias correction of the second moment (v) is missing"),
    (dict(correct_m=False), "Adam without the first moment's bias correction",
     "the bias correction of the first moment (m) is missing"),
    (dict(decoupled=True), "Adam with AdamW's decoupled weight decay",
     "weight decay shrinks the parameter directly (AdamW's form) instead of being added to the gradient"),
]
SETTINGS = [dict(), dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, eps=1e-6)]
SHAPES = [(3, 4), (5,)]
STEPS = 5


def rule(initial, gradients, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, correct_m=True,
         correct_v=True, decoupled=False):
    """The grader's own Adam (and its known wrong variants): the parameters after each step, and per step the
    tolerance for where eps sits (see the module's docstring)."""
    (beta1, beta2), params = betas, [p.detach().clone() for p in initial]
    m, v = [p * 0.0 for p in params], [p * 0.0 for p in params]
    effect, widest = [p * 0.0 for p in params], eps / math.sqrt(1 - beta2)
    trajectory, tolerances = [], []
    for t, step_gradients in enumerate(gradients, start=1):
        for k, g in enumerate(step_gradients):
            if decoupled:
                params[k] = params[k] * (1 - lr * weight_decay)
            elif weight_decay:
                g = g + weight_decay * params[k]
            m[k] = beta1 * m[k] + (1 - beta1) * g
            v[k] = beta2 * v[k] + (1 - beta2) * g * g
            m_hat = m[k] / (1 - beta1 ** t) if correct_m else m[k]
            v_hat = v[k] / (1 - beta2 ** t) if correct_v else v[k]
            params[k] = params[k] - lr * m_hat / (v_hat.sqrt() + eps)
            effect[k] = effect[k] + lr * m_hat.abs() * widest / v_hat
        trajectory.append(list(params))
        tolerances.append([2.0 * e + 1e-12 * (p.abs() + 1.0) for e, p in zip(effect, params)])
    return trajectory, tolerances


def run(optimizer_class, initial, gradients, settings):
    """The parameters after each step of ``optimizer_class`` (tinygen's Adam or the student's)."""
    params = [p.detach().clone().requires_grad_() for p in initial]
    optimizer = optimizer_class(params, **settings)
    trajectory = []
    for step_gradients in gradients:
        for p, g in zip(params, step_gradients):
            p.grad = g.clone()
        optimizer.step()
        trajectory.append([p.detach().clone() for p in params])
    return trajectory


class EpsilonTolerance:
    """The tolerance of one parameter after one step (computed by ``rule``)."""

    def __init__(self, bound):
        self.tensor = bound

    def bound(self, expected):
        return self.tensor

    def __str__(self):
        return "the most that where eps sits can change it, plus float64 rounding"


def grade(student, reference):
    for number, settings in enumerate(SETTINGS):
        initial = [random_tensor(shape, 50 + k, requires_grad=False) for k, shape in enumerate(SHAPES)]
        gradients = [[random_tensor(shape, 100 * step + k, requires_grad=False) for k, shape in enumerate(SHAPES)]
                     for step in range(1, STEPS + 1)]
        options = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0) | settings
        with reference_mode():
            expected = run(reference.Adam, initial, gradients, settings)
            tolerances = rule(initial, gradients, **options)[1]
            variants = [(rule(initial, gradients, **options, **changes)[0], f"your parameters match {note}",
                         Hints(what, HINTS.direction, HINTS.step, ANSWER)) for changes, note, what in VARIANTS]
        described = f"Adam({', '.join(f'{key}={value}' for key, value in settings.items())})"
        with attempting(described, HINTS, "update"):
            got = run(student.Adam, initial, gradients, settings)
        for step in range(STEPS):
            for k, shape in enumerate(SHAPES):
                tolerance = EpsilonTolerance(tolerances[step][k])
                known = [(trajectory[step][k], note, hints) for trajectory, note, hints in variants]
                if not isinstance(got[step][k], type(expected[step][k])):
                    raise ExerciseFailure(f"{described}: parameter {k} is not a Tensor after step {step + 1}", HINTS,
                                          "update")
                compare(f"{described}, parameter {k} {shape} after step {step + 1}", got[step][k], expected[step][k],
                        "the parameter", HINTS, "update", tolerance, known)
