"""adam: the update rule of Adam, with bias correction.

Every form of the rule that differs from tinygen's only in where eps sits passes, e.g. Kingma and Ba's
"efficient" form (the bias corrections folded into the step size, which turns eps into eps / sqrt(1 - beta2^t)):
the tolerance is the most that any eps' in [0, eps / sqrt(1 - beta2)] can change the parameters, summed over the
steps (lr |m_hat| eps' / v_hat per step, twice over), plus float64 rounding.
"""
import math

from tinygen import creation
from tinygen.exercises.grading import ExerciseFailure, Hints, attempting, compare, random_tensor, reference_mode
from tinygen.ops.elementwise import where

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
EPSILON = Hints(
    what="your parameters differ from Adam's where a gradient is 0 (so v is 0) or tiny (4e-5): look at eps",
    direction="eps keeps the step finite where sqrt(v_hat) is 0, and sets its size where sqrt(v_hat) is near eps",
    step="the denominator is sqrt(v_hat) + eps: eps is added after the square root, not inside it",
    answer=ANSWER,
)
GRADIENT_CHANGED = Hints(
    what="your step writes into a parameter's gradient (p.grad): weight decay added in place, say",
    direction="grad += ... and grad *= ... change the array the caller keeps in p.grad",
    step="make a new array instead: grad = grad + weight_decay * param.array",
    answer="grad = grad + group['weight_decay'] * param.array (not grad += ...)",
)
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
            effect[k] = effect[k] + lr * m_hat.abs() * widest / where(v_hat > 0, v_hat, v_hat + 1.0)  # m = 0 at v = 0
        trajectory.append(list(params))
        tolerances.append([2.0 * e + 1e-12 * (p.abs() + 1.0) for e, p in zip(effect, params)])
    return trajectory, tolerances


def run(optimizer_class, initial, gradients, settings):
    """The parameters after each step of ``optimizer_class`` (tinygen's Adam or the student's), and the first
    (step, parameter) whose ``.grad`` the step changed (None if none: a step reads the gradients, never writes)."""
    params = [p.detach().clone().requires_grad_() for p in initial]
    optimizer = optimizer_class(params, **settings)
    trajectory, changed = [], None
    for step, step_gradients in enumerate(gradients, start=1):
        for p, g in zip(params, step_gradients):
            p.grad = g.clone()
        optimizer.step()
        trajectory.append([p.detach().clone() for p in params])
        touched = [k for k, (p, g) in enumerate(zip(params, step_gradients)) if not bool((p.grad == g).all())]
        changed = changed or ((step, touched[0]) if touched else None)
    return trajectory, changed


class EpsilonTolerance:
    """The tolerance of one parameter after one step (computed by ``rule``)."""

    def __init__(self, bound):
        self.tensor = bound

    def bound(self, expected):
        return self.tensor

    def __str__(self):
        return "the most that where eps sits can change it, plus float64 rounding"


def zero_and_tiny(shape, step):
    """A gradient whose first two entries are 0 at every step (v stays 0: only eps keeps the step finite) and whose
    others are +-(3 to 5)e-5 (sqrt(v) is then near enough eps that eps inside the square root is far off)."""
    draws = random_tensor(shape, 200 * step, requires_grad=False)
    count = draws.numel()
    kept = creation.tensor([0.0, 0.0] + [1.0] * (count - 2), dtype=draws.dtype).reshape(shape)
    return draws.sign() * (3.0 + 2.0 * draws.abs()) * 1e-5 * kept


def grade(student, reference):
    for settings in SETTINGS:
        initial = [random_tensor(shape, 50 + k, requires_grad=False) for k, shape in enumerate(SHAPES)]
        gradients = [[random_tensor(shape, 100 * step + k, requires_grad=False) for k, shape in enumerate(SHAPES)]
                     for step in range(1, STEPS + 1)]
        check_steps(student, reference, settings, initial, gradients, "", HINTS)
    initial = [random_tensor(shape, 60 + k, requires_grad=False) for k, shape in enumerate(SHAPES)]
    gradients = [[zero_and_tiny(shape, step) for shape in SHAPES] for step in range(1, STEPS + 1)]
    check_steps(student, reference, {}, initial, gradients, " with gradients 0 in some entries, 4e-5 in the others",
                EPSILON)


def check_steps(student, reference, settings, initial, gradients, about, hints):
    """Run the student's Adam and tinygen's for ``STEPS`` steps of ``gradients`` and compare each parameter after
    each step; a match with a known wrong rule is named (``VARIANTS``), and so is a ``.grad`` the step changed."""
    options = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0) | settings
    with reference_mode():
        expected = run(reference.Adam, initial, gradients, settings)[0]
        tolerances = rule(initial, gradients, **options)[1]
        variants = [(rule(initial, gradients, **options, **changes)[0], f"your parameters match {note}",
                     Hints(what, HINTS.direction, HINTS.step, ANSWER)) for changes, note, what in VARIANTS]
    described = f"Adam({', '.join(f'{key}={value}' for key, value in settings.items())}){about}"
    with attempting(described, hints, "update"):
        got, changed = run(student.Adam, initial, gradients, settings)
    if changed is not None:
        raise ExerciseFailure(f"{described}: your step {changed[0]} changed parameter {changed[1]}'s gradient (.grad) "
                              "in place; a step reads the gradients and leaves them as they were", GRADIENT_CHANGED,
                              "gradient changed")
    for step in range(STEPS):
        for k, shape in enumerate(SHAPES):
            tolerance = EpsilonTolerance(tolerances[step][k])
            known = [(trajectory[step][k], note, named) for trajectory, note, named in variants]
            if not isinstance(got[step][k], type(expected[step][k])):
                raise ExerciseFailure(f"{described}: parameter {k} is not a Tensor after step {step + 1}", hints,
                                      "update")
            compare(f"{described}, parameter {k} {shape} after step {step + 1}", got[step][k], expected[step][k],
                    "the parameter", hints, "update", tolerance, known)
