"""Exercise gaussian_kl: the KL term of a VAE, forward and backward.    Read: docs/derivations/vae.md"""
from tinygen.autograd.function import Function
from tinygen.losses.arguments import batch_first, check_reduction, per_sample_sum, reduce


class GaussianKL(Function):
    """kl = KL( N(mu, sigma^2) || N(0, 1) ) for each element, with sigma^2 = exp(logvar): the KL divergence
    between the encoder's one-dimensional Gaussian and the prior, for every latent dimension separately.
    mu, logvar: raw arrays of one shape, e.g. (N, latent_dim); the output has the same shape.

    ``forward(mu, logvar)``: raw arrays in and out; use ``xp = self.backend.xp``.
      - Derive KL(p || q) = E_p[log p(z) - log q(z)] for p = N(mu, sigma^2), q = N(0, 1): write out both log
        densities, and use E_p[z] = mu, E_p[z^2] = mu^2 + sigma^2. The constants log(2 pi) cancel.
      - Write it with logvar (log sigma^2 = logvar, sigma^2 = exp(logvar)); it is 0 at mu = 0, logvar = 0.
    ``backward(g)``: ``self.saved_inputs`` gives mu and logvar as Tensors. Return ``(dL/dmu, dL/dlogvar)``.
      - Differentiate your formula by hand; write it with tensor ops (``logvar.exp()``), not raw arrays (``.array``).
    """

    save_inputs = True

    def forward(self, mu, logvar):
        raise NotImplementedError("GaussianKL.forward: not written yet (read its docstring)")

    def backward(self, g):
        raise NotImplementedError("GaussianKL.backward: not written yet (read its docstring)")


def gaussian_kl(mu, logvar, reduction="mean"):
    """Given: the loss that VAE training calls. It sums your per-element KL over every dimension but the
    batch, then reduces over the batch ("mean", "sum" or "none"), as ``tinygen.losses.gaussian_kl`` does."""
    batch_first("gaussian_kl", mu, "mu")
    batch_first("gaussian_kl", logvar, "logvar")
    if mu.shape != logvar.shape:
        raise ValueError(f"gaussian_kl: mu shape {mu.shape} and logvar shape {logvar.shape} must match")
    check_reduction("gaussian_kl", reduction)
    return reduce(per_sample_sum(GaussianKL()(mu, logvar)), reduction)
