"""Graders of the loss exercises: bce_with_logits, gaussian_kl, gradient_penalty."""
from tinygen import creation
from tinygen.autograd.api import grad
from tinygen.backend.dtypes import float32, float64
from tinygen.exercises.grading import ExerciseFailure, check_close, check_gradients, describe, random_tensor
from tinygen.losses import classification, gan, vae
from tinygen.random import Generator
from tinygen.tensor import Tensor


def grade_bce_with_logits(module):
    student, reference = module.BinaryCrossEntropyWithLogits, classification.BinaryCrossEntropyWithLogits
    stable_hint = ("compute it as max(x, 0) - x t + log(1 + exp(-|x|)): every exp then has a non-positive "
                   "argument (xp.maximum, xp.abs, xp.log1p)")
    for dtype in (float64, float32):
        x = creation.tensor([-1000.0, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0, 1000.0], dtype=dtype)
        t = creation.tensor([0.0, 1.0, 0.3, 1.0, 0.5, 0.0, 0.7, 1.0, 0.0], dtype=dtype)
        rtol = 1e-6 if dtype == float32 else 1e-12
        check_close(f"forward at logits {x.tolist()}, targets {t.tolist()} ({dtype})",
                    student()(x, t), reference()(x, t), stable_hint, rtol=rtol, atol=rtol)
    hint = "dl/dx = sigmoid(x) - t and dl/dt = -x, each times g"
    for seed, shape in enumerate([(6,), (3, 4)]):
        x, t = random_tensor(shape, 2 * seed, low=-4.0, high=4.0), random_tensor(shape, 2 * seed + 1, low=0.0)
        check_gradients(f"gradient for {describe([x, t])}", lambda x, t: student()(x, t), [x, t], hint)


def grade_gaussian_kl(module):
    forward_hint = ("per dimension KL(N(mu, s^2) || N(0, 1)) = (s^2 + mu^2 - 1 - log s^2) / 2 with s^2 = "
                    "exp(logvar); derive it from E_p[log p - log q] (docs/derivations/vae.md)")
    mu, logvar = random_tensor((4, 3), 0, low=-2.0, high=2.0), random_tensor((4, 3), 1, low=-3.0, high=2.0)
    check_close(f"forward (per element) for {describe([mu, logvar])}", module.GaussianKL()(mu, logvar),
                _per_element_kl(mu, logvar), forward_hint)
    for reduction in ("none", "sum", "mean"):
        check_close(f"gaussian_kl(mu, logvar, reduction={reduction!r})", module.gaussian_kl(mu, logvar, reduction),
                    vae.gaussian_kl(mu, logvar, reduction), forward_hint)
    hint = "dKL/dmu = mu and dKL/dlogvar = (exp(logvar) - 1) / 2, each times g"
    check_gradients(f"gradient for {describe([mu, logvar])}", lambda mu, logvar: module.GaussianKL()(mu, logvar),
                    [mu, logvar], hint)


def _per_element_kl(mu, logvar):
    """The closed form, per element (``tinygen.losses.gaussian_kl`` sums it over each sample)."""
    return -0.5 * (1.0 + logvar - mu * mu - logvar.exp())


def _critic_weights(seed):
    """A tiny critic: (N, 2, 3) -> tanh layer of width 4 -> one score (N,); weights as float64 leaves."""
    return random_tensor((6, 4), seed), random_tensor((4,), seed + 1)


def _critic(first, second):
    return lambda x: (x.reshape(x.shape[0], -1) @ first).tanh() @ second


def grade_gradient_penalty(module):
    real, fake = random_tensor((5, 2, 3), 10, requires_grad=False), random_tensor((5, 2, 3), 11)
    first, second = _critic_weights(12)
    device = real.device

    def penalty(implementation, first, second):
        return implementation(_critic(first, second), real, fake, 10.0, generator=Generator(device, 7))

    got = penalty(module.gradient_penalty, first, second)
    if not isinstance(got, Tensor) or got.ndim != 0:
        raise ExerciseFailure(f"expected a 0-d Tensor, got {got!r}", "return lambda_ * (...).mean()")
    value_hint = ("draw eps exactly as rand((N, 1, ..., 1), generator=generator, dtype=real.dtype, "
                  "device=real.device), "
                  "x_hat = eps * real + (1 - eps) * fake, then lambda_ * mean((||gradient of each sample|| - 1)^2)")
    check_close("penalty value for a tanh critic, batch (5, 2, 3)", got, penalty(gan.gradient_penalty, first, second),
                value_hint)
    if not got.requires_grad:
        raise ExerciseFailure(
            "the penalty does not depend on the critic's weights (requires_grad is False)",
            "the input gradient must be recorded to be differentiated again: tinygen.grad(..., create_graph=True)",
        )
    (to_fake,) = grad(got, [fake], allow_unused=True, retain_graph=True)
    if to_fake is not None and float(to_fake.abs().amax()) > 0:
        raise ExerciseFailure("the penalty sends a gradient into `fake` (the generator's output)",
                              "detach real and fake before mixing them: the penalty trains the critic only")
    check_gradients("gradient of the penalty with respect to the critic's weights",
                    lambda first, second: penalty(module.gradient_penalty, first, second), [first, second],
                    "create_graph=True in tinygen.grad, and the norm per sample over all its elements",
                    second_order=False)
