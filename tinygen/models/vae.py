"""Variational autoencoders (Kingma and Welling 2014) for 28x28 images: a fully connected one and a convolutional
one. Both encode to a diagonal Gaussian q(z | x) and decode to Bernoulli logits of p(x | z):

    encoder: x -> features -> (mu, logvar), each (N, latent_dim)
    z = mu + exp(logvar / 2) * eps                       (the reparameterization trick)
    decoder: z -> (N, 1, 28, 28) Bernoulli logits

    VAE:      x (784) -> 400 -> ReLU;                  z -> 400 -> ReLU -> 784      (or SiLU, x sigmoid(x))
    ConvVAE:  x -> Conv 1->32 k4 s2 (14x14) -> ReLU -> Conv 32->64 k4 s2 (7x7) -> ReLU -> 3136 -> 256 -> ReLU;
              z -> 256 -> ReLU -> 3136 -> ReLU -> (64, 7, 7) -> ConvTranspose 64->32 k4 s2 (14x14) -> ReLU
                -> ConvTranspose 32->1 k4 s2 (28x28)

A convolution sees a digit's strokes as local patterns wherever they are, so the convolutional VAE models the
pixels with fewer nats than the fully connected one in the same training time. With ``latent_dim=2`` the
latent space can be plotted directly.

``logvar_range=(low, high)`` clamps the encoder's log-variance, e.g. ``(-30.0, 20.0)`` (sigma from 3e-7 to
2e4): exp(logvar) overflows float32 above logvar ~ 88, and one runaway unit then makes the loss inf and every
gradient NaN. The price: while a value sits outside the range, no gradient flows through it. Off by default
(``None``): a healthy VAE's log-variances stay far inside that range.
"""
import math

from tinygen import nn
from tinygen.losses import reparameterize

IMAGE_SHAPE = (1, 28, 28)
#: the fully connected VAE's hidden activations, by name
ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU}


class GaussianVAE(nn.Module):
    """What both VAEs share: ``encoder`` (images -> features), the heads ``to_mu`` and ``to_logvar``, and
    ``decoder`` (z -> logits), built by the subclass."""

    def __init__(self, latent_dim, logvar_range):
        super().__init__()
        if logvar_range is not None and not (len(logvar_range) == 2 and logvar_range[0] < logvar_range[1]):
            raise ValueError(
                f"{type(self).__name__}: logvar_range must be a pair (low, high) with low < high, got {logvar_range!r}"
            )
        self.latent_dim = latent_dim
        self.logvar_range = None if logvar_range is None else tuple(float(bound) for bound in logvar_range)

    def encode(self, images):
        """(N, 1, 28, 28) -> mu, logvar of q(z | x), each (N, latent_dim); logvar clamped to ``logvar_range``."""
        features = self.encoder(images)
        logvar = self.to_logvar(features)
        if self.logvar_range is not None:
            logvar = logvar.clamp(*self.logvar_range)
        return self.to_mu(features), logvar

    def decode(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) Bernoulli logits of p(x | z)."""
        return self.decoder(z)

    def forward(self, images, generator=None):
        """Returns (reconstruction logits, mu, logvar)."""
        mu, logvar = self.encode(images)
        return self.decode(reparameterize(mu, logvar, generator)), mu, logvar


class VAE(GaussianVAE):
    """The fully connected VAE: one hidden layer of ``hidden`` units on each side, ``activation`` "relu" or
    "silu" (x sigmoid(x): smooth, and its gradient below 0 is small but not 0, so no unit stops learning)."""

    def __init__(self, latent_dim=16, hidden=400, image_shape=IMAGE_SHAPE, logvar_range=None, activation="relu"):
        super().__init__(latent_dim, logvar_range)
        if activation not in ACTIVATIONS:
            raise ValueError(f"VAE: activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {activation!r}")
        pixels = math.prod(image_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, hidden), ACTIVATIONS[activation]())
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), ACTIVATIONS[activation](),
                                     nn.Linear(hidden, pixels), nn.Unflatten(1, image_shape))


class ConvVAE(GaussianVAE):
    """The convolutional VAE: two stride-2 convolutions down (28 -> 14 -> 7), two transposed ones up."""

    def __init__(self, latent_dim=16, channels=32, hidden=256, logvar_range=None):
        super().__init__(latent_dim, logvar_range)
        flat = 2 * channels * 7 * 7
        self.encoder = nn.Sequential(
            nn.Conv2d(1, channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(),
        )
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, flat), nn.ReLU(),
            nn.Unflatten(1, (2 * channels, 7, 7)),
            nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),
        )
