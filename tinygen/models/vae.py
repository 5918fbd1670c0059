"""A fully connected VAE (Kingma and Welling 2014) for 28x28 images.

    encoder: x (N, 784) -> 400 -> ReLU -> (mu, logvar), each (N, latent_dim)
    z = mu + exp(logvar / 2) * eps                       (the reparameterization trick)
    decoder: z -> 400 -> ReLU -> 784 Bernoulli logits -> (N, 1, 28, 28)

With ``latent_dim=2`` the latent space can be plotted directly.

``logvar_range=(low, high)`` clamps the encoder's log-variance, e.g. ``(-30.0, 20.0)`` (sigma from 3e-7 to
2e4): exp(logvar) overflows float32 above logvar ~ 88, and one runaway unit then makes the loss inf and every
gradient NaN. The price: while a value sits outside the range, no gradient flows through it. Off by default
(``None``): a healthy VAE's log-variances stay far inside that range.
"""
import math

from tinygen import nn
from tinygen.losses import reparameterize

IMAGE_SHAPE = (1, 28, 28)


class VAE(nn.Module):
    def __init__(self, latent_dim=16, hidden=400, image_shape=IMAGE_SHAPE, logvar_range=None):
        super().__init__()
        if logvar_range is not None and not (len(logvar_range) == 2 and logvar_range[0] < logvar_range[1]):
            raise ValueError(f"VAE: logvar_range must be a pair (low, high) with low < high, got {logvar_range!r}")
        self.latent_dim = latent_dim
        self.logvar_range = None if logvar_range is None else tuple(float(bound) for bound in logvar_range)
        pixels = math.prod(image_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, pixels), nn.Unflatten(1, image_shape)
        )

    def encode(self, images):
        """(N, 1, 28, 28) -> mu, logvar of q(z | x), each (N, latent_dim); logvar clamped to ``logvar_range``."""
        hidden = self.encoder(images)
        logvar = self.to_logvar(hidden)
        if self.logvar_range is not None:
            logvar = logvar.clamp(*self.logvar_range)
        return self.to_mu(hidden), logvar

    def decode(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) Bernoulli logits of p(x | z)."""
        return self.decoder(z)

    def forward(self, images, generator=None):
        """Returns (reconstruction logits, mu, logvar)."""
        mu, logvar = self.encode(images)
        return self.decode(reparameterize(mu, logvar, generator)), mu, logvar
