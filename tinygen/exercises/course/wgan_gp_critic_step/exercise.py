"""wgan_gp_critic_step: one training step of WGAN-GP's critic (losses, penalty, zero_grad, step, detach).

The grader's own step (``reference_step``) is the expected one; it is not swapped into tinygen's training (the
exercise replaces nothing in tinygen), so ``tinygen train`` does not use it.
"""
from tinygen import nn
from tinygen.exercises.grading import ExerciseFailure, Hints, attempting, compare, random_tensor, reference_mode
from tinygen.losses import discriminator_loss, gradient_penalty
from tinygen.optim import Adam
from tinygen.random import Generator

SUMMARY = "one training step of WGAN-GP's critic"
READING = "docs/derivations/gan-losses.md"
AFTER = ("gradient_penalty", "adam")
STEPS = 3
LAMBDA = 4.0  # not WGAN-GP's usual 10: a step must pass on the lambda_ it is given

ANSWER = ("fake = fake.detach(); wasserstein = discriminator_loss(critic(real), critic(fake), 'wasserstein'); "
          "penalty = gradient_penalty(critic, real, fake, lambda_, generator=generator); loss = wasserstein + "
          "penalty; optimizer.zero_grad(); loss.backward(); optimizer.step(); return the three numbers")
HINTS = Hints(
    what="after this step the critic's weights differ from WGAN-GP's critic step",
    direction="the critic minimizes mean C(fake) - mean C(real) + lambda * penalty: build that loss, clear the old "
              "gradients, backpropagate, step",
    step="discriminator_loss(real_scores, fake_scores, 'wasserstein') is the first two terms; gradient_penalty "
         "(with the generator given) the third",
    answer=ANSWER,
)
NUMBERS = Hints(what="the returned numbers are wrong (or missing): loss_c, wasserstein and gradient_penalty",
                direction="return Python floats (.item()); wasserstein is the estimate mean C(real) - mean C(fake), "
                          "the negative of the loss's first part", step=HINTS.step, answer=ANSWER)
DETACH = Hints(what="the critic's step sent a gradient into the generator: it must train the critic only",
               direction="cut fake out of the generator's graph before the critic sees it",
               step="fake = fake.detach()", answer=ANSWER)
#: known wrong steps: (keyword arguments of ``reference_step``, what a student is told)
VARIANTS = [
    (dict(zero_grad=False), "the gradients of the previous step are not cleared before this one's backward "
                            "(they accumulate in .grad)"),
    (dict(sign=-1.0), "the Wasserstein terms have the wrong sign: the critic minimizes mean C(fake) - mean C(real)"),
    (dict(penalty=False), "the gradient penalty is missing from the loss"),
]


def reference_step(critic, optimizer, real, fake, lambda_, generator, zero_grad=True, sign=1.0, penalty=True):
    """The grader's critic step (and its known wrong variants)."""
    fake = fake.detach()
    wasserstein = discriminator_loss(critic(real), critic(fake), "wasserstein")
    term = gradient_penalty(critic, real, fake, lambda_, generator=generator)
    loss = sign * wasserstein + (term if penalty else 0.0)
    if zero_grad:
        optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"loss_c": loss.item(), "wasserstein": -wasserstein.item(), "gradient_penalty": term.item()}


class Critic(nn.Module):
    """A tiny critic: (N, 2, 3) -> linear 6 -> 8, leaky relu, linear 8 -> 1; weights from fixed seeds."""

    def __init__(self):
        super().__init__()
        self.hidden, self.score = nn.Linear(6, 8).double(), nn.Linear(8, 1).double()
        for seed, parameter in enumerate(self.parameters()):
            parameter.array[...] = random_tensor(tuple(parameter.shape), 60 + seed, requires_grad=False).array

    def forward(self, x):
        return self.score(nn.functional.leaky_relu(self.hidden(x.reshape(x.shape[0], -1)), 0.2))


def _train(step, generator_weight, **changes):
    """STEPS critic steps of ``step`` on fresh batches: the critic's parameters after each, and the numbers."""
    critic = Critic()
    optimizer = Adam(critic.parameters(), lr=1e-2, betas=(0.5, 0.9))
    trajectory, numbers = [], []
    for number in range(STEPS):
        real = random_tensor((5, 2, 3), 70 + number, requires_grad=False)
        fake = random_tensor((5, 2, 3), 80 + number, requires_grad=False) * generator_weight  # attached to "G"
        numbers.append(step(critic, optimizer, real, fake, LAMBDA, Generator(real.device, 90 + number), **changes))
        trajectory.append([p.detach().clone() for p in critic.parameters()])
    return trajectory, numbers


def grade(student, reference):
    with reference_mode():
        expected, expected_numbers = _train(reference_step, random_tensor((1,), 1))
        variants = [(_train(reference_step, random_tensor((1,), 1), **changes)[0], note)
                    for changes, note in VARIANTS]
    generator_weight = random_tensor((1,), 1)
    case = f"{STEPS} critic steps of a small critic (Adam, lr 0.01, lambda_ {LAMBDA:g}) on batches (5, 2, 3)"
    with attempting(case, HINTS, "step"):
        got, numbers = _train(student.critic_step, generator_weight)
    if generator_weight.grad is not None:
        raise ExerciseFailure(f"{case}: the generator's weight received a gradient", DETACH, "detach")
    for step in range(STEPS):
        for k, (mine, theirs) in enumerate(zip(got[step], expected[step])):
            known = [(trajectory[step][k], note, Hints(note, HINTS.direction, HINTS.step, ANSWER))
                     for trajectory, note in variants]
            compare(f"{case}: after step {step + 1}, critic parameter {k} {tuple(theirs.shape)}", mine, theirs,
                    "the parameter", HINTS, "step", variants=known)
        for key, value in expected_numbers[step].items():
            mine = numbers[step].get(key) if isinstance(numbers[step], dict) else None
            if not isinstance(mine, float) or abs(mine - value) > 1e-7 * abs(value) + 1e-9:
                raise ExerciseFailure(f"{case}: step {step + 1} returned {key} = {mine!r}, expected {value:.10g}",
                                      NUMBERS, "numbers")
