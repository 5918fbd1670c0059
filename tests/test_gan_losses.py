"""GAN losses on logits and the WGAN-GP gradient penalty: gradients (first and second order) first."""
import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen.nn import Module, Parameter
from tinygen.testing import gradcheck, gradgradcheck

KINDS = ["nonsaturating", "minimax", "wasserstein", "hinge"]
ACTIVATIONS = {"tanh": tg.tanh, "leaky_relu": lambda h: tg.leaky_relu(h, 0.2)}


def uniform(shape, low, high, seed, requires_grad=False, dtype=tg.float64):
    generator = tg.Generator(tg.get_default_device(), seed)
    values = low + (high - low) * tg.rand(*shape, generator=generator, dtype=dtype)
    return values.detach().requires_grad_(requires_grad)


def away_from_hinge_kinks(logits):
    """Logits kept 0.2 from +-1, where relu(1 - l) and relu(1 + l) have kinks."""
    values = logits.detach()
    near = (abs(values.abs() - 1.0) < 0.2).double()
    return (values + 0.4 * near * tg.sign(values)).requires_grad_()


def mlp_critic(w1, b1, w2, activation="tanh"):
    """A tiny critic (N, ...) -> (N,): flatten, linear, activation, linear. Built from matmul and elementwise ops."""
    def critic(x):
        hidden = ACTIVATIONS[activation](x.reshape(x.shape[0], -1) @ w1 + b1)
        return (hidden @ w2).reshape(x.shape[0])

    return critic


def critic_parameters(in_features=6, hidden=4, seed=0):
    return [uniform((in_features, hidden), -0.8, 0.8, seed, True), uniform((hidden,), -0.5, 0.5, seed + 1, True),
            uniform((hidden, 1), -0.8, 0.8, seed + 2, True)]


def real_and_fake(seed=10, shape=(3, 1, 2, 3)):
    return uniform(shape, -1, 1, seed), uniform(shape, -1, 1, seed + 1)


def penalty_of(parameters, activation="tanh", seed=5, lambda_=10.0):
    """The penalty as a function of the critic's parameters, with eps drawn identically on every call."""
    real, fake = real_and_fake()
    generator = tg.Generator(tg.get_default_device(), seed)
    return F.gradient_penalty(mlp_critic(*parameters, activation), real, fake, lambda_, generator=generator)


# --- gradients -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_discriminator_loss_gradcheck(kind):
    real = away_from_hinge_kinks(uniform((4, 1), -3, 3, 0))
    fake = away_from_hinge_kinks(uniform((5, 1), -3, 3, 1))  # batch sizes may differ
    gradcheck(lambda r, f: F.discriminator_loss(r, f, kind), [real, fake])


@pytest.mark.parametrize("kind", KINDS)
def test_generator_loss_gradcheck(kind):
    fake = uniform((6,), -3, 3, 2, requires_grad=True)
    gradcheck(lambda f: F.generator_loss(f, kind), [fake])


@pytest.mark.parametrize("kind", ["nonsaturating", "minimax"])
def test_logit_gan_losses_gradgradcheck(kind):
    real, fake = uniform((3,), -3, 3, 0, True), uniform((3,), -3, 3, 1, True)
    gradgradcheck(lambda r, f: F.discriminator_loss(r, f, kind) + F.generator_loss(f, kind), [real, fake])


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradient_penalty_gradcheck_wrt_critic_parameters(activation):
    gradcheck(lambda *p: penalty_of(p, activation), critic_parameters())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradient_penalty_gradgradcheck_wrt_critic_parameters(activation):
    gradgradcheck(lambda *p: penalty_of(p, activation), critic_parameters(hidden=2),
                  check_noncontiguous=False)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_critic_input_gradient_gradcheck_wrt_inputs_and_parameters(activation):
    """What the penalty differentiates: x, parameters -> d critic(x) / dx, built with create_graph=True."""
    def input_gradient(x, *parameters):
        with tg.enable_grad():  # gradcheck evaluates fn under no_grad
            return tg.grad(mlp_critic(*parameters, activation)(x).sum(), x, create_graph=True)[0]

    x = uniform((3, 6), -1, 1, 20, requires_grad=True)
    gradcheck(input_gradient, [x] + critic_parameters())
    gradgradcheck(input_gradient, [x] + critic_parameters(), check_noncontiguous=False)


def test_gradient_penalty_reaches_every_critic_parameter():
    parameters = critic_parameters()
    grads = tg.grad(penalty_of(parameters), parameters)
    for gradient in grads:
        assert np.abs(gradient.numpy()).max() > 1e-3


# --- values --------------------------------------------------------------------------------------------

def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


@pytest.mark.parametrize("kind", KINDS)
def test_gan_losses_match_their_formulas(kind):
    real, fake = uniform((4, 1), -3, 3, 0), uniform((3, 1), -3, 3, 1)
    r, f = real.numpy(), fake.numpy()
    expected_d = {
        "nonsaturating": -log_sigmoid(r).mean() - log_sigmoid(-f).mean(),
        "minimax": -log_sigmoid(r).mean() - log_sigmoid(-f).mean(),
        "wasserstein": f.mean() - r.mean(),
        "hinge": np.maximum(1 - r, 0).mean() + np.maximum(1 + f, 0).mean(),
    }[kind]
    expected_g = {
        "nonsaturating": -log_sigmoid(f).mean(),
        "minimax": np.log1p(-1 / (1 + np.exp(-f))).mean(),  # log(1 - D(G(z)))
        "wasserstein": -f.mean(),
        "hinge": -f.mean(),
    }[kind]
    assert F.discriminator_loss(real, fake, kind).item() == pytest.approx(expected_d, rel=1e-12)
    assert F.generator_loss(fake, kind).item() == pytest.approx(expected_g, rel=1e-12)


def test_standard_discriminator_loss_is_bce_on_real_ones_and_fake_zeros():
    real, fake = uniform((5,), -4, 4, 0), uniform((5,), -4, 4, 1)
    bce = (F.binary_cross_entropy_with_logits(real, tg.ones_like(real))
           + F.binary_cross_entropy_with_logits(fake, tg.zeros_like(fake)))
    assert F.discriminator_loss(real, fake).item() == pytest.approx(bce.item(), rel=1e-12)


def test_nonsaturating_generator_loss_keeps_a_gradient_where_minimax_saturates():
    """A confident discriminator (fake logits -12): log(1 - D) is flat there, -log D is not."""
    fake = tg.full((4,), -12.0, dtype=tg.float64, requires_grad=True)
    minimax = tg.grad(F.generator_loss(fake, "minimax"), fake)[0].numpy()
    nonsaturating = tg.grad(F.generator_loss(fake, "nonsaturating"), fake)[0].numpy()
    assert np.abs(minimax).max() < 1e-5 < 0.2 < np.abs(nonsaturating).min()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_gan_losses_are_finite_at_huge_logits(kind, dtype):
    real = tg.tensor([1e4, -1e4], dtype=dtype, requires_grad=True)
    fake = tg.tensor([-1e4, 1e4], dtype=dtype, requires_grad=True)
    losses = [F.discriminator_loss(real, fake, kind), F.generator_loss(fake, kind)]
    for loss in losses:
        assert np.isfinite(loss.item())
        for gradient in tg.grad(loss, [real, fake], allow_unused=True):
            assert gradient is None or np.isfinite(gradient.numpy()).all()
    if kind in ("nonsaturating", "minimax"):
        assert losses[0].item() == pytest.approx(1e4)  # one wrong-side logit of two on each side: 1e4 / 2 twice


def test_gradient_penalty_of_a_linear_critic_has_a_closed_form():
    """critic(x) = <w, x> has input gradient w for every sample: penalty = lambda (||w|| - 1)^2,
    d penalty / dw = 2 lambda (||w|| - 1) w / ||w||."""
    w = uniform((6, 1), -1, 1, 3, requires_grad=True)
    real, fake = real_and_fake()
    penalty = F.gradient_penalty(lambda x: x.reshape(3, -1) @ w, real, fake, lambda_=4.0)
    norm = np.linalg.norm(w.detach().numpy())
    assert penalty.item() == pytest.approx(4.0 * (norm - 1) ** 2, rel=1e-10)
    (grad_w,) = tg.grad(penalty, w)
    np.testing.assert_allclose(grad_w.numpy(), 8.0 * (norm - 1) * w.detach().numpy() / norm, rtol=1e-10)


def test_gradient_penalty_interpolates_with_one_eps_per_sample():
    real, fake = real_and_fake(shape=(4, 2, 3))
    seen = []

    def recording_critic(x):
        seen.append(x.detach().numpy().copy())
        return (x * x).sum(dim=(1, 2))

    F.gradient_penalty(recording_critic, real, fake, generator=tg.Generator(tg.get_default_device(), 1))
    r, f, x_hat = real.numpy(), fake.numpy(), seen[0]
    eps = (x_hat - f) / (r - f)
    np.testing.assert_allclose(eps, eps[:, :1, :1] * np.ones_like(eps), rtol=1e-9)  # one eps per sample
    assert ((eps >= 0) & (eps < 1)).all() and np.ptp(eps[:, 0, 0]) > 0
    again = []
    F.gradient_penalty(lambda x: again.append(x.detach().numpy().copy()) or (x * x).sum(dim=(1, 2)), real, fake,
                       generator=tg.Generator(tg.get_default_device(), 1))
    np.testing.assert_array_equal(again[0], x_hat)  # reproducible with a seeded generator


def test_gradient_penalty_sends_no_gradient_into_the_generator():
    class Generator(Module):
        def __init__(self):
            super().__init__()
            self.weight = Parameter(uniform((2, 6), -1, 1, 0))

        def forward(self, z):
            return tg.tanh(z @ self.weight)

    class Critic(Module):
        def __init__(self):
            super().__init__()
            self.w1, self.b1, self.w2 = (Parameter(p.detach()) for p in critic_parameters())

        def forward(self, x):
            return mlp_critic(self.w1, self.b1, self.w2)(x)

    generator, critic = Generator(), Critic()
    fake = generator(uniform((3, 2), -1, 1, 1))  # not detached by the caller
    real = uniform((3, 6), -1, 1, 2)
    F.gradient_penalty(critic, real, fake).backward()
    assert generator.weight.grad is None
    assert all(p.grad is not None and np.abs(p.grad.numpy()).max() > 0 for p in critic.parameters())
    with pytest.raises(RuntimeError, match="not used"):
        tg.grad(F.gradient_penalty(critic, real, fake), fake)


def test_gradient_penalty_is_differentiable_where_the_critic_is_flat():
    """A dead-relu critic has input gradient 0: ||g|| has gradient 0/0 there, the 1e-12 under the root keeps it finite."""
    w = uniform((6, 1), -1, 1, 3, requires_grad=True)
    real, fake = real_and_fake()
    penalty = F.gradient_penalty(lambda x: tg.relu(x.reshape(3, -1) @ w - 100.0), real, fake, lambda_=10.0)
    assert penalty.item() == pytest.approx(10.0 * (1 - 1e-6) ** 2, rel=1e-12)
    (grad_w,) = tg.grad(penalty, w)
    np.testing.assert_array_equal(grad_w.numpy(), 0.0)


def test_gradient_penalty_works_under_no_grad_and_in_float32():
    parameters = [p.float() for p in critic_parameters()]
    real, fake = (t.float() for t in real_and_fake())
    with tg.no_grad():
        penalty = F.gradient_penalty(mlp_critic(*parameters), real, fake)
    assert penalty.dtype == tg.float32 and math.isfinite(penalty.item()) and penalty.item() > 0


# --- errors --------------------------------------------------------------------------------------------

def test_unknown_kind_is_an_error():
    x = tg.zeros(3)
    with pytest.raises(ValueError, match="kind must be one of.*'least_squares'"):
        F.discriminator_loss(x, x, kind="least_squares")
    with pytest.raises(ValueError, match="kind must be one of"):
        F.generator_loss(x, kind="ls")


def test_gan_losses_reject_non_tensors_and_integers():
    with pytest.raises(TypeError, match="real_logits"):
        F.discriminator_loss([1.0], tg.zeros(1))
    with pytest.raises(TypeError, match="fake_logits.*floating-point"):
        F.generator_loss(tg.zeros(2, dtype=tg.int64))


def test_gradient_penalty_bad_inputs():
    real, fake = real_and_fake()
    critic = mlp_critic(*critic_parameters())
    with pytest.raises(ValueError, match=r"\(3, 1, 2, 3\) and \(2, 1, 2, 3\)"):
        F.gradient_penalty(critic, real, fake[:2])
    with pytest.raises(ValueError, match=r"one score per sample.*\(1,\)"):
        F.gradient_penalty(lambda x: x.sum().reshape(1), real, fake)
    with pytest.raises(ValueError, match="lambda_"):
        F.gradient_penalty(critic, real, fake, lambda_=-1.0)
    with pytest.raises(TypeError, match="callable"):
        F.gradient_penalty("critic", real, fake)
    with pytest.raises(TypeError, match="one dtype"):
        F.gradient_penalty(critic, real, fake.float())


# --- against PyTorch -----------------------------------------------------------------------------------

@pytest.mark.torch
def test_gradient_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    parameters = critic_parameters()
    real, fake = real_and_fake()
    penalty = penalty_of(parameters, "tanh", seed=5)
    grads = tg.grad(penalty, parameters)

    eps = tg.rand(3, 1, 1, 1, generator=tg.Generator(tg.get_default_device(), 5), dtype=tg.float64).numpy()
    w1, b1, w2 = (torch.tensor(p.detach().numpy(), requires_grad=True) for p in parameters)
    x_hat = (torch.tensor(eps * real.numpy() + (1 - eps) * fake.numpy())).requires_grad_()
    scores = torch.tanh(x_hat.reshape(3, -1) @ w1 + b1) @ w2
    (input_gradient,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    expected = 10.0 * ((input_gradient.reshape(3, -1).norm(2, dim=1) - 1) ** 2).mean()
    expected_grads = torch.autograd.grad(expected, [w1, b1, w2])
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-9)
    for got, want in zip(grads, expected_grads):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-8, atol=1e-12)
