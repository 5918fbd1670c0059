"""Exercise reparameterize: the reparameterization trick and the ELBO, the objective of a VAE.
Read: docs/derivations/vae.md"""
from tinygen.creation import randn
from tinygen.losses import binary_cross_entropy_with_logits, gaussian_kl, gaussian_nll
from tinygen.losses.arguments import check_reduction, reduce
from tinygen.losses.vae import LIKELIHOODS, ElboTerms


def reparameterize(mu, logvar, generator=None):
    """A sample z of N(mu, sigma^2) per element, with sigma^2 = exp(logvar), written so that z is differentiable
    in mu and logvar: the randomness comes from eps ~ N(0, 1), which does not depend on them.

    mu, logvar: Tensors of one shape, e.g. (N, latent_dim). Draw eps EXACTLY as ``randn(mu.shape,
    generator=generator, dtype=mu.dtype, device=mu.device)`` (imported; the grader draws the same numbers), then
    turn it into a sample of N(mu, sigma^2): what must eps be multiplied by, and what added?
    """
    raise NotImplementedError("reparameterize: not written yet (read its docstring)")


def elbo(decoder_output, target, mu, logvar, beta=1.0, likelihood="bernoulli", sigma=None, decoder_logvar=None,
         reduction="mean"):
    """The VAE objective to minimize, -ELBO = reconstruction + beta * KL, returned as ``ElboTerms(loss,
    reconstruction, kl)`` (imported), each reduced over the batch by ``reduction`` ("mean", "sum" or "none").

      - reconstruction, per sample: -log p(target | decoder_output), the negative log-likelihood of the whole
        image, so SUMMED over its pixels. For likelihood="bernoulli", decoder_output holds logits and the
        per-pixel term is ``binary_cross_entropy_with_logits(decoder_output, target, reduction="none")``; for
        "gaussian", ``gaussian_nll(decoder_output, target, decoder_logvar, sigma, reduction="none")`` already
        gives one value per sample.
      - kl, per sample: ``gaussian_kl(mu, logvar, reduction="none")`` (summed over the latent dimensions).
      - then reduce each over the batch with ``reduce(per_sample, reduction)``; beta weights the KL term.
    """
    check_reduction("elbo", reduction)
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"elbo: likelihood must be one of {', '.join(map(repr, LIKELIHOODS))}, got {likelihood!r}")
    raise NotImplementedError("elbo: not written yet (read its docstring)")
