"""A toy 2-D GAN: learn a ring of 8 Gaussians. It trains in seconds, and shows mode collapse plainly
(a generator that covers 2 of the 8 modes is easy to see and to count).

    G: z (N, 2) -> 128 -> 128 -> point (N, 2)      ReLU
    D: point (N, 2) -> 128 -> 128 -> 1 logit       LeakyReLU(0.2)
"""
import math

from tinygen import nn
from tinygen.creation import randint, randn, tensor

MODES = 8
RADIUS = 2.0
MODE_STD = 0.05


def ring_centers(modes=MODES, radius=RADIUS, device=None):
    """The (modes, 2) centres of the mixture, evenly spaced on a circle."""
    angles = [2 * math.pi * k / modes for k in range(modes)]
    return tensor([[radius * math.cos(a), radius * math.sin(a)] for a in angles], device=device)


def sample_ring(n, generator=None, modes=MODES, radius=RADIUS, std=MODE_STD, device=None):
    """n points of the mixture: a random centre plus N(0, std^2) noise in each coordinate."""
    centers = ring_centers(modes, radius, device)
    which = randint(0, modes, (n,), generator=generator, device=device)
    return centers[which] + std * randn(n, 2, generator=generator, device=device)


def mode_coverage(points, modes=MODES, radius=RADIUS, std=MODE_STD, tolerance=4.0):
    """How many modes have at least one point within ``tolerance`` standard deviations, and the share of points
    that are near any mode ("high quality")."""
    centers = ring_centers(modes, radius, points.device)
    distances = ((points.unsqueeze(1) - centers.unsqueeze(0)) ** 2).sum(-1).sqrt()  # (N, modes)
    nearest = distances.argmin(dim=1)
    close = distances.amin(dim=1) < tolerance * std
    covered = {int(i) for i, ok in zip(nearest.tolist(), close.tolist()) if ok}
    return len(covered), float(close.float().mean().item())


class ToyGenerator(nn.Module):
    def __init__(self, latent_dim=2, hidden=128):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
        )

    def forward(self, z):
        return self.net(z)


class ToyDiscriminator(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )

    def forward(self, points):
        return self.net(points)
