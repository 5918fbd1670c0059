"""Variational autoencoder losses: the reparameterization trick, the KL term and reconstruction likelihoods.

Shapes: dim 0 is the batch. Every per-sample term is a SUM over the other dims (pixels, latent dims),
because the ELBO is a sum of log-probabilities; ``reduction="mean"`` (the default) then averages the
per-sample values over the batch, ``"sum"`` adds them, ``"none"`` returns them (shape (N,)).

The encoder outputs mu and logvar = log sigma^2 (a log-variance, so that sigma = exp(logvar / 2) > 0 without a
constraint). exp(logvar) overflows float32 above logvar ~ 88 (float64: ~709); an encoder whose log-variance
head can run away should bound it, e.g. ``logvar = logvar.clamp(-30.0, 20.0)`` (sigma from 3e-7 to 2e4),
before ``reparameterize`` and ``gaussian_kl`` (``tinygen.models.VAE(logvar_range=(-30.0, 20.0))`` does this).
See docs/derivations/vae.md.
Tests: tests/test_vae_losses.py.
"""
import collections
import math

from tinygen import creation
from tinygen.losses.classification import binary_cross_entropy_with_logits
from tinygen.losses.arguments import batch_first, check_reduction, matching_target, per_sample_sum, reduce
from tinygen.ops import checks
from tinygen.tensor import Tensor

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2.0 * math.pi)

ElboTerms = collections.namedtuple("ElboTerms", ["loss", "reconstruction", "kl"])
ElboTerms.__doc__ = "loss = reconstruction + beta * kl (the negative ELBO when beta = 1), each reduced the same way."

__all__ = ["ElboTerms", "reparameterize", "gaussian_kl", "bernoulli_nll", "gaussian_nll", "elbo"]


def _same_shape(name, first, second, first_name, second_name):
    if second.backend is not first.backend:
        raise checks.device_error(name, first, second)
    if second.shape != first.shape:
        raise ValueError(f"{name}: {first_name} shape {first.shape} and {second_name} shape {second.shape} must match")


def reparameterize(mu, logvar, generator=None):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I): a sample of N(mu, sigma^2) that is differentiable
    in mu and logvar (dz/dmu = 1, dz/dlogvar = (z - mu) / 2). mu, logvar: same shape, e.g. (N, latent_dim)."""
    name = "reparameterize"
    batch_first(name, mu, "mu")
    batch_first(name, logvar, "logvar")
    _same_shape(name, mu, logvar, "mu", "logvar")
    eps = creation.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + (0.5 * logvar).exp() * eps


def gaussian_kl(mu, logvar, reduction="mean"):
    """KL(N(mu, exp(logvar)) || N(0, I)) = -1/2 sum over latent dims of (1 + logvar - mu^2 - exp(logvar)).

    mu, logvar: (N, ...) of one shape. Summed over all dims but the batch, then reduced over the batch.
    dKL/dmu = mu,  dKL/dlogvar = (exp(logvar) - 1) / 2.
    """
    name = "gaussian_kl"
    batch_first(name, mu, "mu")
    batch_first(name, logvar, "logvar")
    _same_shape(name, mu, logvar, "mu", "logvar")
    check_reduction(name, reduction)
    per_element = -0.5 * (1.0 + logvar - mu * mu - logvar.exp())
    return reduce(per_sample_sum(per_element), reduction)


def bernoulli_nll(logits, target, reduction="mean"):
    """-log p(target | logits) for independent Bernoulli pixels with p = sigmoid(logits): BCE on logits,
    summed over all dims but the batch, then reduced over the batch. target: values in [0, 1], same shape."""
    name = "bernoulli_nll"
    batch_first(name, logits, "logits")
    target = matching_target(name, logits, target)
    check_reduction(name, reduction)
    per_element = binary_cross_entropy_with_logits(logits, target, reduction="none")
    return reduce(per_sample_sum(per_element), reduction)


def gaussian_nll(mean, target, logvar=None, sigma=None, reduction="mean"):
    """-log N(target; mean, sigma^2) = 1/2 (log 2 pi + logvar + (target - mean)^2 / exp(logvar)) per element,
    summed over all dims but the batch, then reduced over the batch. The constant log 2 pi is included, so
    this is the true negative log-likelihood.

    The variance is either ``logvar`` (a tensor broadcastable to ``mean``: learned per pixel, per sample or one
    scalar) or a fixed ``sigma`` (a positive number); with neither, sigma = 1.
    """
    name = "gaussian_nll"
    batch_first(name, mean, "mean")
    target = matching_target(name, mean, target)
    check_reduction(name, reduction)
    if logvar is not None and sigma is not None:
        raise ValueError(f"{name}: give logvar or sigma, not both")
    squared_error = (target - mean) ** 2
    if logvar is None:
        sigma = 1.0 if sigma is None else sigma
        if not sigma > 0:
            raise ValueError(f"{name}: sigma must be positive, got {sigma}")
        per_element = 0.5 * (_LOG_2PI + 2.0 * math.log(sigma) + squared_error / (sigma * sigma))
    else:
        if not isinstance(logvar, Tensor):
            raise TypeError(
                f"{name}: logvar must be a Tensor (or use sigma= for a fixed number), got {type(logvar).__name__}"
            )
        if logvar.backend is not mean.backend:
            raise checks.device_error(name, mean, logvar)
        checks.broadcastable_to(f"{name} (logvar)", logvar.shape, mean.shape)
        per_element = 0.5 * (_LOG_2PI + logvar + squared_error * (-logvar).exp())
    return reduce(per_sample_sum(per_element), reduction)


def elbo(decoder_output, target, mu, logvar, beta=1.0, likelihood="bernoulli", sigma=None,
         decoder_logvar=None, reduction="mean"):
    """The VAE objective to minimize: reconstruction + beta * KL, returned with its parts as ``ElboTerms``.

    decoder_output: (N, ...) Bernoulli logits (``likelihood="bernoulli"``, e.g. binarized or [0, 1] pixels) or
    Gaussian means (``"gaussian"``, with a fixed ``sigma`` or a learned ``decoder_logvar``); target: same shape.
    mu, logvar: the encoder's (N, latent...) posterior parameters. Each term is summed over pixels / latent
    dims and reduced over the batch by ``reduction`` (default: the batch mean), so
    ``loss`` = -ELBO per sample, averaged (beta = 1; beta > 1 is the beta-VAE).
    """
    name = "elbo"
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"{name}: likelihood must be one of {', '.join(map(repr, LIKELIHOODS))}, got {likelihood!r}")
    if not beta >= 0:
        raise ValueError(f"{name}: beta must be non-negative, got {beta}")
    if likelihood == "bernoulli":
        if sigma is not None or decoder_logvar is not None:
            raise ValueError(f"{name}: sigma and decoder_logvar are for likelihood='gaussian'")
        reconstruction = bernoulli_nll(decoder_output, target, reduction)
    else:
        reconstruction = gaussian_nll(decoder_output, target, decoder_logvar, sigma, reduction)
    kl = gaussian_kl(mu, logvar, reduction)
    if mu.shape[0] != decoder_output.shape[0]:
        raise ValueError(
            f"{name}: decoder_output has batch size {decoder_output.shape[0]} but mu has {mu.shape[0]} "
            f"(shapes {decoder_output.shape} and {mu.shape})"
        )
    return ElboTerms(reconstruction + beta * kl, reconstruction, kl)
