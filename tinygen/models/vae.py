"""A fully connected VAE (Kingma and Welling 2014) for 28x28 images.

    encoder: x (N, 784) -> 400 -> ReLU -> (mu, logvar), each (N, latent_dim)
    z = mu + exp(logvar / 2) * eps                       (the reparameterization trick)
    decoder: z -> 400 -> ReLU -> 784 Bernoulli logits -> (N, 1, 28, 28)

With ``latent_dim=2`` the latent space can be plotted directly.
"""
import math

from tinygen import nn
from tinygen.losses import reparameterize

IMAGE_SHAPE = (1, 28, 28)


class VAE(nn.Module):
    def __init__(self, latent_dim=16, hidden=400, image_shape=IMAGE_SHAPE):
        super().__init__()
        self.latent_dim = latent_dim
        pixels = math.prod(image_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, pixels), nn.Unflatten(1, image_shape)
        )

    def encode(self, images):
        """(N, 1, 28, 28) -> mu, logvar of q(z | x), each (N, latent_dim)."""
        hidden = self.encoder(images)
        return self.to_mu(hidden), self.to_logvar(hidden)

    def decode(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) Bernoulli logits of p(x | z)."""
        return self.decoder(z)

    def forward(self, images, generator=None):
        """Returns (reconstruction logits, mu, logvar)."""
        mu, logvar = self.encode(images)
        return self.decode(reparameterize(mu, logvar, generator)), mu, logvar
