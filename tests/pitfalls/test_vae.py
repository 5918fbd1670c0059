"""VAE pitfalls: the reparameterization's standard deviation, the KL term, a log-variance that overflows, and the
ELBO's reductions."""
import math

import numpy as np
import pytest

import tinygen
from tinygen.losses import bernoulli_nll, elbo, gaussian_kl, reparameterize
from tinygen.models import VAE
from tinygen.random import Generator

from helpers import host

F = tinygen.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the overflow test overflows on purpose


def test_reparameterize_uses_the_standard_deviation_exp_of_half_the_log_variance():
    """The encoder outputs logvar = log sigma^2, so sigma = exp(logvar / 2). Code that writes mu + exp(logvar) * eps
    (the variance as if it were the standard deviation) or mu + logvar * eps trains a model whose posterior
    is not the one the KL term measures. Statistically: the samples' standard deviations are 2, 0.5 and 1 here,
    not 4, 0.25 and 1."""
    n = 40_000
    mu = tinygen.tensor([[0.0, 1.0, -2.0]], dtype=tinygen.float64).expand(n, 3)
    logvar = tinygen.tensor([[math.log(4.0), math.log(0.25), 0.0]], dtype=tinygen.float64).expand(n, 3)
    z = host(reparameterize(mu, logvar, generator=Generator(seed=0)))
    np.testing.assert_allclose(z.std(0), [2.0, 0.5, 1.0], rtol=0.03)
    np.testing.assert_allclose(z.mean(0), [0.0, 1.0, -2.0], atol=0.05)

    mu = tinygen.tensor([[0.3, -0.7]], dtype=tinygen.float64, requires_grad=True)
    logvar = tinygen.tensor([[0.2, -1.0]], dtype=tinygen.float64, requires_grad=True)
    z = reparameterize(mu, logvar, generator=Generator(seed=1))
    z.sum().backward()
    assert host(mu.grad).tolist() == [[1.0, 1.0]]
    np.testing.assert_allclose(host(logvar.grad), (host(z) - host(mu)) / 2)   # dz/dlogvar = sigma eps / 2


def test_gaussian_kl_matches_the_closed_form_and_a_monte_carlo_estimate():
    """KL(N(mu, sigma^2) || N(0, 1)) = 1/2 sum(sigma^2 + mu^2 - 1 - log sigma^2), summed over latent dimensions.
    Slips seen in the wild: a flipped sign (the 'KL' then rewards spreading the posterior), the mean over latent
    dimensions instead of the sum (the KL shrinks by the latent size), exp(logvar) where sigma^2 = exp(logvar) is
    squared again. Checked against the formula and against E_q[log q(z) - log p(z)] by sampling."""
    mu = tinygen.tensor([[0.5, -1.0, 0.0], [2.0, 0.1, -0.3]], dtype=tinygen.float64)
    logvar = tinygen.tensor([[-0.5, 0.3, 0.0], [1.0, -2.0, 0.4]], dtype=tinygen.float64)
    per_sample = host(gaussian_kl(mu, logvar, reduction="none"))
    m, v = host(mu), np.exp(host(logvar))
    np.testing.assert_allclose(per_sample, 0.5 * (v + m**2 - 1.0 - np.log(v)).sum(1))
    assert (per_sample > 0).all()
    assert gaussian_kl(tinygen.zeros(4, 3), tinygen.zeros(4, 3)).item() == 0.0

    n = 200_000
    for row in range(2):
        mu_row, logvar_row = mu[row:row + 1].expand(n, 3), logvar[row:row + 1].expand(n, 3)
        z = reparameterize(mu_row, logvar_row, generator=Generator(seed=2 + row))
        log_q = -0.5 * (math.log(2 * math.pi) + logvar_row + (z - mu_row) ** 2 / logvar_row.exp())
        log_p = -0.5 * (math.log(2 * math.pi) + z**2)
        estimate = (log_q - log_p).sum(1)
        standard_error = host(estimate).std() / math.sqrt(n)
        assert abs(host(estimate).mean() - per_sample[row]) < 4 * standard_error


def test_a_log_variance_range_keeps_a_runaway_encoder_finite():
    """One log-variance unit that drifts past ~88 makes exp(logvar) inf in float32: the KL is inf and every
    gradient NaN, and the run is lost. ``VAE(logvar_range=(-30, 20))`` clamps the log-variance (the losses
    module recommends the same bounds): the loss stays finite and the rest of the model keeps learning."""
    images = tinygen.rand(4, 1, 28, 28)

    def loss_and_gradients(logvar_range):
        tinygen.manual_seed(3)
        vae = VAE(latent_dim=3, hidden=8, logvar_range=logvar_range)
        with tinygen.no_grad():
            vae.to_logvar.bias.fill_(200.0)                       # a runaway unit
        logits, mu, logvar = vae(images, generator=Generator(seed=4))
        loss = elbo(logits, images, mu, logvar).loss
        loss.backward()
        return loss.item(), {name: host(p.grad) for name, p in vae.named_parameters()}

    loss, gradients = loss_and_gradients(None)
    assert not math.isfinite(loss) or any(not np.isfinite(g).all() for g in gradients.values())
    loss, gradients = loss_and_gradients((-30.0, 20.0))
    assert math.isfinite(loss) and all(np.isfinite(g).all() for g in gradients.values())
    assert not gradients["to_logvar.bias"].any()          # clamped: no gradient through logvar ...
    assert np.abs(gradients["to_mu.weight"]).sum() > 0    # ... while the rest trains
    with pytest.raises(ValueError, match="logvar_range must be a pair"):
        VAE(logvar_range=(20.0, -30.0))


def test_the_elbo_sums_over_pixels_and_latent_dims_and_averages_over_the_batch():
    """The ELBO is a log-likelihood per image: a sum over its 784 pixels and its latent dimensions. Tutorial code
    often takes F.binary_cross_entropy's default (the mean over every pixel), which divides the reconstruction
    term by 784 against the KL: the KL dominates, and the posterior collapses to the prior (blurry, identical
    samples). tinygen's elbo sums per image and averages over the batch (nats per image), so its value does not
    depend on the batch size; beta weights the KL term only."""
    tinygen.manual_seed(5)
    images = tinygen.rand(6, 1, 28, 28, dtype=tinygen.float64)
    logits = tinygen.randn(6, 1, 28, 28, dtype=tinygen.float64)
    mu, logvar = tinygen.randn(6, 16, dtype=tinygen.float64), tinygen.randn(6, 16, dtype=tinygen.float64) * 0.3

    terms = elbo(logits, images, mu, logvar)
    per_pixel_mean = F.binary_cross_entropy_with_logits(logits, images).item()
    assert terms.reconstruction.item() == pytest.approx(784 * per_pixel_mean, rel=1e-12)
    m, v = host(mu), np.exp(host(logvar))
    assert terms.kl.item() == pytest.approx(np.mean(0.5 * (v + m**2 - 1 - np.log(v)).sum(1)), rel=1e-12)
    assert terms.loss.item() == pytest.approx(terms.reconstruction.item() + terms.kl.item(), rel=1e-12)

    doubled = elbo(tinygen.cat([logits, logits]), tinygen.cat([images, images]), tinygen.cat([mu, mu]),
                   tinygen.cat([logvar, logvar]))
    assert doubled.loss.item() == pytest.approx(terms.loss.item(), rel=1e-12)      # independent of batch size
    summed = elbo(logits, images, mu, logvar, reduction="sum")
    assert summed.loss.item() == pytest.approx(6 * terms.loss.item(), rel=1e-12)
    per_image = elbo(logits, images, mu, logvar, reduction="none")
    assert per_image.loss.shape == (6,)
    np.testing.assert_allclose(host(per_image.reconstruction), host(bernoulli_nll(logits, images, "none")))

    weighted = elbo(logits, images, mu, logvar, beta=4.0)
    assert weighted.reconstruction.item() == terms.reconstruction.item() and weighted.kl.item() == terms.kl.item()
    assert weighted.loss.item() == pytest.approx(terms.reconstruction.item() + 4.0 * terms.kl.item(), rel=1e-12)


def test_the_vae_recipe_reports_the_true_elbo_whatever_beta_it_trains_with(tmp_path):
    """A beta-VAE minimizes reconstruction + beta KL; reporting that number as 'the ELBO' makes runs with different
    betas look better or worse than they are. The recipe trains with beta and evaluates with beta = 1."""
    from tinygen.training import TrainConfig, build_recipe

    tinygen.manual_seed(6)
    recipe = build_recipe(TrainConfig("vae", beta=4.0, latent_dim=3, out=str(tmp_path), progress=False))
    images = tinygen.rand(8, 1, 28, 28)
    step = recipe.train_step(images)
    assert step["loss"] == pytest.approx(step["reconstruction"] + 4.0 * step["kl"], rel=1e-5)
    scores = recipe.evaluate(images)
    assert scores["eval_loss"] == pytest.approx(scores["eval_reconstruction"] + scores["eval_kl"], rel=1e-5)
