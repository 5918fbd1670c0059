"""gradient_penalty: WGAN-GP's penalty, which needs the gradient of a gradient."""
from tinygen.autograd.api import grad
from tinygen.exercises.grading import (ExerciseFailure, Hints, attempting, check_gradients, compare, expect,
                                       random_tensor)
from tinygen.random import Generator
from tinygen.tensor import Tensor

SUMMARY = "WGAN-GP's gradient penalty (double backward)"
READING = "docs/derivations/gan-losses.md"
AFTER = ("engine", "matmul")
REPLACES = {"gradient_penalty": "tinygen.losses.gan:gradient_penalty"}

ANSWER = ("eps = rand((N, 1, ..., 1), generator=generator, dtype=real.dtype, device=real.device); with "
          "enable_grad(): x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(); "
          "(gradient,) = tinygen.grad(critic(x_hat).sum(), [x_hat], create_graph=True); norms = "
          "((gradient ** 2).reshape(N, -1).sum(dim=1) + 1e-12).sqrt(); return lambda_ * ((norms - 1) ** 2).mean()")
VALUE = Hints(
    what="the penalty's value differs from WGAN-GP's for the same critic, batch and generator",
    direction="check each step against the docstring: the same draws of eps (same call, same shape), the mix "
              "x_hat, the gradient of the summed scores, one norm per sample, then the mean",
    step="the norm is taken per sample over all of that sample's elements: reshape the gradient to (N, -1) "
         "before summing the squares over dim 1",
    answer=ANSWER,
)
SCALE = Hints(
    what="your penalty is not scaled by the lambda_ it is given: 10 is WGAN-GP's usual choice, not the only one",
    direction="the penalty is lambda_ times the mean of (||gradient|| - 1)^2; lambda_ is an argument",
    step="multiply by the argument lambda_, not by a number",
    answer=ANSWER,
)
GRAPH = Hints(
    what="the penalty does not depend on the critic's weights in the graph, so it cannot train the critic",
    direction="the input gradient must itself be recorded, to be differentiated again",
    step="one argument of tinygen.grad asks for the gradient computation to be recorded",
    answer="tinygen.grad(critic(x_hat).sum(), [x_hat], create_graph=True)",
)
DETACH = Hints(
    what="the penalty sends a gradient into `fake` (the generator's output): it must train the critic only",
    direction="cut real and fake out of the graph before mixing them",
    step="x_hat must be a new leaf: built from detached tensors, then marked as requiring grad",
    answer="x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_()",
)
WEIGHTS = Hints(
    what="the penalty's gradient with respect to the critic's weights is wrong",
    direction="the penalty's own graph must go through the recorded input gradient",
    step="create_graph=True in tinygen.grad, and the norm per sample over all its elements",
    answer=ANSWER,
)


def critic_for(first, second):
    """A tiny critic: (N, 2, 3) -> tanh layer of width 4 -> one score (N,)."""
    return lambda x: (x.reshape(x.shape[0], -1) @ first).tanh() @ second


def grade(student, reference):
    real, fake = random_tensor((5, 2, 3), 10, requires_grad=False), random_tensor((5, 2, 3), 11)
    first, second = random_tensor((6, 4), 12), random_tensor((4,), 13)
    device = real.device

    def penalty(implementation, lambda_=10.0):
        return lambda first, second, fake: implementation(critic_for(first, second), real, fake, lambda_,
                                                          generator=Generator(device, 7))

    expected = expect(penalty(reference.gradient_penalty), first, second, fake)
    case = "penalty for a tanh critic, batch (5, 2, 3)"
    with attempting(case, VALUE, "value"):
        got = penalty(student.gradient_penalty)(first, second, fake)
    if not isinstance(got, Tensor) or got.ndim != 0:
        raise ExerciseFailure(f"{case}: expected a 0-d Tensor, got {got!r}", VALUE, "value")
    compare(case, got, expected, "the penalty", VALUE, "value")
    scaled = expect(penalty(reference.gradient_penalty, 2.5), first, second, fake)
    with attempting(f"{case}, lambda_ 2.5", VALUE, "value"):
        got_scaled = penalty(student.gradient_penalty, 2.5)(first, second, fake)
    compare(f"{case}, lambda_ 2.5", got_scaled, scaled, "the penalty", VALUE, "value",
            variants=[(expected, "it is the penalty for lambda_ = 10", SCALE)])
    if not got.requires_grad:
        raise ExerciseFailure(f"{case}: the penalty does not depend on the critic's weights (requires_grad is "
                              "False)", GRAPH, "graph")
    (to_fake,) = grad(got, [fake], allow_unused=True, retain_graph=True)
    if to_fake is not None and float(to_fake.abs().amax()) > 0:
        raise ExerciseFailure(f"{case}: the penalty sends a gradient into `fake` (the generator's output)", DETACH,
                              "detach")
    check_gradients(f"{case}, gradient with respect to the critic's weights",
                    lambda first, second: penalty(student.gradient_penalty)(first, second, fake.detach()),
                    lambda first, second: penalty(reference.gradient_penalty)(first, second, fake.detach()),
                    [first, second], ["first layer", "second layer"], {"first layer": WEIGHTS, "second layer": WEIGHTS})
