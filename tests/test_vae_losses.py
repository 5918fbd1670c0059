"""VAE losses: reparameterization, Gaussian KL, Bernoulli/Gaussian likelihoods and the ELBO. Gradients first."""
import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def uniform(shape, low, high, seed, requires_grad=False, dtype=tg.float64):
    generator = tg.Generator(tg.get_default_device(), seed)
    values = low + (high - low) * tg.rand(*shape, generator=generator, dtype=dtype)
    return values.detach().requires_grad_(requires_grad)


def seeded(seed=0):
    return tg.Generator(tg.get_default_device(), seed)


def closed_form_kl(mu, logvar):
    """Per-sample KL(N(mu, e^logvar) || N(0, 1)) summed over latent dims, in NumPy."""
    return -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(axis=1)


# --- gradients -----------------------------------------------------------------------------------------

def test_reparameterize_gradcheck():
    mu, logvar = uniform((3, 2), -1, 1, 0, True), uniform((3, 2), -2, 1, 1, True)
    gradcheck(lambda m, lv: F.reparameterize(m, lv, generator=seeded(4)), [mu, logvar])
    gradgradcheck(lambda m, lv: F.reparameterize(m, lv, generator=seeded(4)), [mu, logvar])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_kl_gradcheck(reduction):
    mu, logvar = uniform((3, 4), -1, 1, 0, True), uniform((3, 4), -2, 2, 1, True)
    gradcheck(lambda m, lv: F.gaussian_kl(m, lv, reduction), [mu, logvar])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bernoulli_nll_gradcheck(reduction):
    logits, target = uniform((2, 1, 3, 2), -4, 4, 0, True), uniform((2, 1, 3, 2), 0, 1, 1, True)
    gradcheck(lambda x, t: F.bernoulli_nll(x, t, reduction), [logits, target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_gradcheck(reduction):
    mean, target = uniform((2, 5), -1, 1, 0, True), uniform((2, 5), -1, 1, 1, True)
    per_pixel_logvar, shared_logvar = uniform((2, 5), -1, 1, 2, True), uniform((1, 1), -1, 1, 3, True)
    gradcheck(lambda m, t, lv: F.gaussian_nll(m, t, logvar=lv, reduction=reduction), [mean, target, per_pixel_logvar])
    gradcheck(lambda m, t, lv: F.gaussian_nll(m, t, logvar=lv, reduction=reduction), [mean, target, shared_logvar])
    gradcheck(lambda m, t: F.gaussian_nll(m, t, sigma=0.3, reduction=reduction), [mean, target])


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_elbo_gradcheck_and_gradgradcheck(likelihood):
    decoded, target = uniform((2, 6), -2, 2, 0, True), uniform((2, 6), 0, 1, 1)
    mu, logvar = uniform((2, 3), -1, 1, 2, True), uniform((2, 3), -1, 1, 3, True)
    sigma = 0.5 if likelihood == "gaussian" else None

    def loss(d, m, lv):
        return F.elbo(d, target, m, lv, beta=2.0, likelihood=likelihood, sigma=sigma).loss

    gradcheck(loss, [decoded, mu, logvar])
    gradgradcheck(loss, [decoded, mu, logvar])


# --- values --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_kl_matches_the_closed_form(reduction):
    mu, logvar = uniform((5, 3), -2, 2, 0), uniform((5, 3), -3, 2, 1)
    per_sample = closed_form_kl(mu.numpy(), logvar.numpy())
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(F.gaussian_kl(mu, logvar, reduction).numpy(), expected, rtol=1e-12)


def test_gaussian_kl_sums_every_non_batch_dim_and_is_zero_at_the_prior():
    mu, logvar = uniform((2, 3, 4), -1, 1, 0), uniform((2, 3, 4), -1, 1, 1)
    flat = F.gaussian_kl(mu.reshape(2, -1), logvar.reshape(2, -1), "none")
    np.testing.assert_allclose(F.gaussian_kl(mu, logvar, "none").numpy(), flat.numpy(), rtol=1e-12)
    assert F.gaussian_kl(tg.zeros(4, 3), tg.zeros(4, 3)).item() == 0.0
    assert (F.gaussian_kl(mu, logvar, "none").numpy() > 0).all()


def test_gaussian_kl_matches_a_monte_carlo_estimate():
    """KL = E_q[log q(z) - log p(z)], estimated with 40,000 reparameterized draws per sample."""
    mu, logvar = tg.tensor([[0.5, -1.0, 0.0]], dtype=tg.float64), tg.tensor([[-0.5, 0.3, -1.2]], dtype=tg.float64)
    draws = 40_000
    z = F.reparameterize(mu.broadcast_to((draws, 3)), logvar.broadcast_to((draws, 3)), generator=seeded(7)).numpy()
    m, lv = mu.numpy(), logvar.numpy()
    log_q = -0.5 * (np.log(2 * np.pi) + lv + (z - m) ** 2 / np.exp(lv))
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2)
    samples = (log_q - log_p).sum(axis=1)
    standard_error = samples.std() / math.sqrt(draws)
    assert abs(samples.mean() - F.gaussian_kl(mu, logvar).item()) < 4 * standard_error


def test_reparameterize_draws_from_the_posterior_and_has_the_textbook_gradients():
    mu, logvar = tg.tensor([[2.0, -1.0]], dtype=tg.float64), tg.tensor([[0.0, math.log(0.25)]], dtype=tg.float64)
    draws = F.reparameterize(mu.broadcast_to((20_000, 2)), logvar.broadcast_to((20_000, 2)), generator=seeded(3)).numpy()
    np.testing.assert_allclose(draws.mean(axis=0), [2.0, -1.0], atol=0.03)
    np.testing.assert_allclose(draws.std(axis=0), [1.0, 0.5], rtol=0.03)

    mu, logvar = uniform((4, 2), -1, 1, 0, True), uniform((4, 2), -1, 1, 1, True)
    z = F.reparameterize(mu, logvar, generator=seeded(9))
    grad_mu, grad_logvar = tg.grad(z.sum(), [mu, logvar])
    np.testing.assert_allclose(grad_mu.numpy(), 1.0)
    np.testing.assert_allclose(grad_logvar.numpy(), (z - mu).detach().numpy() / 2, rtol=1e-12)
    again = F.reparameterize(mu, logvar, generator=seeded(9))
    np.testing.assert_array_equal(again.detach().numpy(), z.detach().numpy())


def test_bernoulli_nll_sums_pixels_and_averages_the_batch():
    logits, target = uniform((3, 1, 2, 2), -3, 3, 0), uniform((3, 1, 2, 2), 0, 1, 1)
    per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none").numpy()
    per_sample = per_pixel.reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(F.bernoulli_nll(logits, target, "none").numpy(), per_sample, rtol=1e-12)
    assert F.bernoulli_nll(logits, target).item() == pytest.approx(per_sample.mean(), rel=1e-12)
    assert F.bernoulli_nll(logits, target, "sum").item() == pytest.approx(per_sample.sum(), rel=1e-12)


def test_gaussian_nll_is_the_true_negative_log_density():
    mean, target, logvar = uniform((2, 3), -1, 1, 0), uniform((2, 3), -1, 1, 1), uniform((2, 3), -1, 1, 2)
    m, t, lv = mean.numpy(), target.numpy(), logvar.numpy()
    per_sample = (0.5 * (np.log(2 * np.pi) + lv + (t - m) ** 2 / np.exp(lv))).sum(axis=1)
    per_sample_nll = F.gaussian_nll(mean, target, logvar=logvar, reduction="none")
    np.testing.assert_allclose(per_sample_nll.numpy(), per_sample, rtol=1e-12)
    sigma_half = (0.5 * np.log(2 * np.pi) + np.log(0.5) + (t - m) ** 2 / (2 * 0.25)).sum(axis=1).mean()
    assert F.gaussian_nll(mean, target, sigma=0.5).item() == pytest.approx(sigma_half, rel=1e-12)
    unit = (0.5 * np.log(2 * np.pi) + (t - m) ** 2 / 2).sum(axis=1).mean()
    assert F.gaussian_nll(mean, target).item() == pytest.approx(unit, rel=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elbo_is_reconstruction_plus_beta_kl(reduction):
    decoded, target = uniform((3, 4), -2, 2, 0), uniform((3, 4), 0, 1, 1)
    mu, logvar = uniform((3, 2), -1, 1, 2), uniform((3, 2), -1, 1, 3)
    terms = F.elbo(decoded, target, mu, logvar, beta=4.0, reduction=reduction)
    np.testing.assert_allclose(terms.reconstruction.numpy(), F.bernoulli_nll(decoded, target, reduction).numpy())
    np.testing.assert_allclose(terms.kl.numpy(), F.gaussian_kl(mu, logvar, reduction).numpy())
    np.testing.assert_allclose(terms.loss.numpy(), (terms.reconstruction + 4.0 * terms.kl).numpy())
    assert terms.loss.shape == ((3,) if reduction == "none" else ())
    gaussian = F.elbo(decoded, target, mu, logvar, likelihood="gaussian", decoder_logvar=tg.zeros(1, 4, dtype=tg.float64))
    np.testing.assert_allclose(gaussian.reconstruction.numpy(), F.gaussian_nll(decoded, target).numpy(), rtol=1e-12)


# --- numerical edge cases ------------------------------------------------------------------------------

@pytest.mark.parametrize("logvar_value", [-80.0, 80.0])
def test_gaussian_kl_is_finite_at_extreme_float32_logvar(logvar_value):
    mu, logvar = tg.zeros(2, 3), tg.full((2, 3), logvar_value, requires_grad=True)
    kl = F.gaussian_kl(mu, logvar)
    (grad,) = tg.grad(kl, logvar)
    assert kl.dtype == tg.float32 and np.isfinite(kl.item()) and np.isfinite(grad.numpy()).all()
    expected = 3 * -0.5 * (1 + logvar_value - math.exp(logvar_value))
    assert kl.item() == pytest.approx(expected, rel=1e-5)


def test_clamping_logvar_as_recommended_keeps_everything_finite():
    """exp(logvar) overflows float32 past ~88: the module docstring recommends logvar.clamp(-30, 20)."""
    raw = tg.tensor([[1000.0, -1000.0]], requires_grad=True)
    with np.errstate(over="ignore"):
        assert not np.isfinite(F.gaussian_kl(tg.zeros(1, 2), raw.detach()).item())
    logvar = raw.clamp(-30.0, 20.0)
    z = F.reparameterize(tg.zeros(1, 2), logvar, generator=seeded(0))
    loss = F.gaussian_kl(tg.zeros(1, 2), logvar) + z.sum()
    (grad,) = tg.grad(loss, raw)
    assert np.isfinite(loss.item()) and np.isfinite(z.detach().numpy()).all() and np.isfinite(grad.numpy()).all()


def test_bernoulli_nll_is_finite_at_huge_logits():
    logits = tg.tensor([[1e4, -1e4, 1e4]], requires_grad=True)
    nll = F.bernoulli_nll(logits, tg.tensor([[1.0, 0.0, 0.0]]))
    (grad,) = tg.grad(nll, logits)
    assert nll.item() == pytest.approx(1e4) and np.isfinite(grad.numpy()).all()


# --- errors --------------------------------------------------------------------------------------------

def test_vae_losses_reject_bad_inputs():
    mu = tg.zeros(4, 2)
    with pytest.raises(ValueError, match=r"mu shape \(4, 2\) and logvar shape \(4, 3\)"):
        F.gaussian_kl(mu, tg.zeros(4, 3))
    with pytest.raises(ValueError, match=r"mu shape \(4, 2\) and logvar shape \(2,\)"):
        F.reparameterize(mu, tg.zeros(2))
    with pytest.raises(ValueError, match="batch dimension"):
        F.gaussian_kl(tg.zeros(()), tg.zeros(()))
    with pytest.raises(ValueError, match="reduction"):
        F.gaussian_kl(mu, mu, reduction="batchmean")
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 1\)"):
        F.bernoulli_nll(mu, tg.zeros(4, 1))
    with pytest.raises(ValueError, match="not both"):
        F.gaussian_nll(mu, mu, logvar=mu, sigma=1.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        F.gaussian_nll(mu, mu, sigma=0.0)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 2\)"):
        F.gaussian_nll(mu, mu, logvar=tg.zeros(3))
    with pytest.raises(TypeError, match="logvar must be a Tensor"):
        F.gaussian_nll(mu, mu, logvar=0.0)


def test_elbo_rejects_bad_arguments():
    x, mu = tg.zeros(4, 6), tg.zeros(4, 2)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        F.elbo(x, x, mu, mu, likelihood="poisson")
    with pytest.raises(ValueError, match="for likelihood='gaussian'"):
        F.elbo(x, x, mu, mu, sigma=0.1)
    with pytest.raises(ValueError, match="beta"):
        F.elbo(x, x, mu, mu, beta=-1.0)
    with pytest.raises(ValueError, match=r"batch size 4 but mu has 3"):
        F.elbo(x, x, tg.zeros(3, 2), tg.zeros(3, 2))


# --- against PyTorch -----------------------------------------------------------------------------------

@pytest.mark.torch
def test_kl_and_likelihoods_match_torch_distributions():
    torch = pytest.importorskip("torch")
    Normal, kl_divergence = torch.distributions.Normal, torch.distributions.kl_divergence
    mu, logvar = uniform((3, 4), -2, 2, 0, True), uniform((3, 4), -2, 2, 1, True)
    t_mu, t_logvar = (torch.tensor(x.detach().numpy(), requires_grad=True) for x in (mu, logvar))
    ours = F.gaussian_kl(mu, logvar)
    theirs = kl_divergence(Normal(t_mu, (0.5 * t_logvar).exp()), Normal(0.0, 1.0)).sum(dim=1).mean()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    for got, want in zip(tg.grad(ours, [mu, logvar]), torch.autograd.grad(theirs, [t_mu, t_logvar])):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)

    target = uniform((3, 4), -1, 1, 2)
    nll = F.gaussian_nll(mu, target, logvar=logvar, reduction="none")
    log_prob = Normal(t_mu, (0.5 * t_logvar).exp()).log_prob(torch.tensor(target.numpy())).sum(dim=1)
    np.testing.assert_allclose(nll.detach().numpy(), -log_prob.detach().numpy(), rtol=1e-12)

    logits, pixels = uniform((3, 5), -3, 3, 3), (uniform((3, 5), 0, 1, 4) > 0.5).double()  # binary pixels
    bernoulli = torch.distributions.Bernoulli(logits=torch.tensor(logits.numpy()))
    expected = -bernoulli.log_prob(torch.tensor(pixels.numpy())).sum(dim=1).mean()
    assert F.bernoulli_nll(logits, pixels).item() == pytest.approx(expected.item(), rel=1e-12)
