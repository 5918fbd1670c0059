"""GAN losses, written on the discriminator's raw logits l (no sigmoid: D(x) = sigmoid(l) where a
probability is meant), and the WGAN-GP gradient penalty.

Formulations (``kind``), each averaged over the batch:

    kind             discriminator loss L_D                      generator loss L_G
    "minimax"        -log D(x) - log(1 - D(G(z)))                log(1 - D(G(z)))    = -softplus(l_fake)
    "nonsaturating"  same as minimax                             -log D(G(z))        = softplus(-l_fake)
    "wasserstein"    mean(l_fake) - mean(l_real)   (a critic)    -mean(l_fake)
    "hinge"          mean(relu(1 - l_real)) + mean(relu(1 + l_fake))   -mean(l_fake)

with -log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l): stable for any logit.
"minimax" is Goodfellow et al.'s original game; its generator gradient vanishes when D confidently rejects
fakes, which is why "nonsaturating" (the same paper's fix) is the default.
See docs/derivations/gan-losses.md.
Tests: tests/test_gan_losses.py.
"""
from tinygen import creation
from tinygen.autograd.api import grad
from tinygen.autograd.grad_mode import enable_grad
from tinygen.losses.arguments import float_tensor
from tinygen.ops import checks
from tinygen.ops.elementwise import relu, softplus
from tinygen.tensor import Tensor

GAN_LOSS_KINDS = ("nonsaturating", "minimax", "wasserstein", "hinge")
#: added under the square root of each sample's squared gradient norm: the norm's gradient g / ||g|| is 0/0
#: at g = 0 (e.g. a critic flat around x_hat); this changes the norm by at most 1e-6.
NORM_EPSILON = 1e-12

__all__ = ["GAN_LOSS_KINDS", "discriminator_loss", "generator_loss", "gradient_penalty"]


def _check_kind(name, kind):
    if kind not in GAN_LOSS_KINDS:
        raise ValueError(f"{name}: kind must be one of {', '.join(map(repr, GAN_LOSS_KINDS))}, got {kind!r}")


def discriminator_loss(real_logits, fake_logits, kind="nonsaturating"):
    """The discriminator's (or critic's) loss: a scalar to minimize.

    real_logits: D's raw outputs on real data, fake_logits: on generated data (pass ``fake.detach()`` to D
    so this step does not reach the generator); any shapes (e.g. (N,) or (N, 1)), the batch sizes may differ.
    """
    name = "discriminator_loss"
    _check_kind(name, kind)
    float_tensor(name, real_logits, "real_logits")
    float_tensor(name, fake_logits, "fake_logits")
    if real_logits.backend is not fake_logits.backend:
        raise checks.device_error(name, real_logits, fake_logits)
    if kind == "wasserstein":
        return fake_logits.mean() - real_logits.mean()
    if kind == "hinge":
        return relu(1.0 - real_logits).mean() + relu(1.0 + fake_logits).mean()
    return softplus(-real_logits).mean() + softplus(fake_logits).mean()


def generator_loss(fake_logits, kind="nonsaturating"):
    """The generator's loss: a scalar to minimize, from D's raw outputs on generated data (not detached)."""
    name = "generator_loss"
    _check_kind(name, kind)
    float_tensor(name, fake_logits, "fake_logits")
    if kind == "nonsaturating":
        return softplus(-fake_logits).mean()
    if kind == "minimax":
        return -softplus(fake_logits).mean()
    return -fake_logits.mean()


def gradient_penalty(critic, real, fake, lambda_=10.0, generator=None):
    """WGAN-GP's penalty (Gulrajani et al. 2017): lambda_ * mean over samples of (||grad_x critic(x_hat)||_2 - 1)^2.

    x_hat = eps * real + (1 - eps) * fake with one eps ~ U[0, 1) per sample (shape (N, 1, 1, ...), drawn from
    ``generator``, else the default one). ``critic`` maps (N, ...) to one raw score per sample ((N,) or (N, 1),
    no sigmoid). ``real`` and ``fake`` (same shape (N, ...)) are detached here: the penalty trains the critic
    only and sends no gradient into the generator, whether or not the caller detached ``fake``.

    The input gradient is taken with ``create_graph=True`` so the penalty can be backpropagated into the
    critic's parameters (a second derivative). Each sample's norm is sqrt(sum g^2 + 1e-12), finite to
    differentiate where the critic is flat. The graph is recorded even under ``no_grad()``: the penalty
    cannot be computed without it.
    """
    name = "gradient_penalty"
    if not callable(critic):
        raise TypeError(f"{name}: critic must be callable (a Module or a function), got {type(critic).__name__}")
    float_tensor(name, real, "real")
    float_tensor(name, fake, "fake")
    if real.backend is not fake.backend:
        raise checks.device_error(name, real, fake)
    if real.shape != fake.shape or real.ndim == 0:
        raise ValueError(
            f"{name}: real and fake must have one shape with the batch first (N, ...), got {real.shape} and {fake.shape}"
        )
    if fake.dtype != real.dtype:
        raise TypeError(f"{name}: real and fake must have one dtype, got {real.dtype} and {fake.dtype}")
    if lambda_ < 0:
        raise ValueError(f"{name}: lambda_ must be non-negative, got {lambda_}")
    batch = real.shape[0]
    eps = creation.rand((batch,) + (1,) * (real.ndim - 1), generator=generator, dtype=real.dtype, device=real.device)
    with enable_grad():
        x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_()
        scores = critic(x_hat)
        if not isinstance(scores, Tensor) or scores.ndim == 0 or scores.shape[0] != batch or scores.numel() != batch:
            got = scores.shape if isinstance(scores, Tensor) else type(scores).__name__
            raise ValueError(
                f"{name}: the critic must return one score per sample, shape ({batch},) or ({batch}, 1); got {got}"
            )
        (input_gradient,) = grad(scores.sum(), x_hat, create_graph=True)
        squared_norms = (input_gradient * input_gradient).reshape(batch, -1).sum(dim=1)
        norms = (squared_norms + NORM_EPSILON).sqrt()
        return lambda_ * ((norms - 1.0) ** 2).mean()
