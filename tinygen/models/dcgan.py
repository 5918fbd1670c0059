"""DCGAN for 28x28 MNIST (Radford et al. 2016, sized as the seeds' Keras/PyTorch example).

    G: z (N, 100) -> Linear -> BN -> ReLU -> (128, 7, 7)
                  -> ConvTranspose 128->64 k4 s2 p1 (14x14) -> BN -> ReLU
                  -> ConvTranspose 64->1  k4 s2 p1 (28x28) -> tanh
    D: (1, 28, 28) -> Conv 1->64 k4 s2 p1 (14x14) -> LeakyReLU(0.2) -> Dropout(0.3)
                   -> Conv 64->128 k4 s2 p1 (7x7) -> BN -> LeakyReLU(0.2) -> Dropout(0.3)
                   -> Flatten -> Linear -> 1 logit

Weights are initialized with the paper's N(0, 0.02) scheme (``nn.init.dcgan_init_``). The WGAN-GP critic
is D without batch norm (the penalty is per sample, and batch norm mixes samples) and without dropout; with
``layer_norm`` it normalizes each sample's (128, 7, 7) activations where D has batch norm (Gulrajani et al.'s
drop-in replacement, which keeps the penalty per sample).
``SpectralNormDiscriminator`` (the default recipe's D) is that critic with every layer divided by its largest
singular value (Miyato et al. 2018): D's slope is bounded, so it cannot overfit 9,000 digits with a steep boundary.
"""
from tinygen import nn

FEATURES = 64


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim=100, features=FEATURES):
        super().__init__()
        self.latent_dim = latent_dim
        channels = 2 * features
        self.net = nn.Sequential(
            nn.Linear(latent_dim, channels * 7 * 7, bias=False),
            nn.BatchNorm1d(channels * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (channels, 7, 7)),
            nn.ConvTranspose2d(channels, features, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(features),
            nn.ReLU(),
            nn.ConvTranspose2d(features, 1, 4, stride=2, padding=1),
            nn.Tanh(),
        )
        nn.init.dcgan_init_(self)

    def forward(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) in [-1, 1]."""
        return self.net(z)


def _unchanged(layer):
    return layer


def _convolutional_critic(features, norm, dropout, normalize=_unchanged):
    """Two stride-2 convolutions (28 -> 14 -> 7), then a linear read-out of one logit; ``normalize`` wraps each.
    After the second convolution ``norm``: "batch" (batch norm, which makes that convolution's bias redundant),
    "layer" (layer norm over each sample's (2 features, 7, 7)) or None."""
    layers = [normalize(nn.Conv2d(1, features, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(normalize(nn.Conv2d(features, 2 * features, 4, stride=2, padding=1, bias=norm != "batch")))
    if norm == "batch":
        layers.append(nn.BatchNorm2d(2 * features))
    elif norm == "layer":
        layers.append(nn.LayerNorm([2 * features, 7, 7]))
    layers.append(nn.LeakyReLU(0.2))
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Flatten(), normalize(nn.Linear(2 * features * 7 * 7, 1))]
    return nn.Sequential(*layers)


class DCGANDiscriminator(nn.Module):
    def __init__(self, features=FEATURES, dropout=0.3):
        super().__init__()
        self.net = _convolutional_critic(features, norm="batch", dropout=dropout)
        nn.init.dcgan_init_(self)

    def forward(self, images):
        """(N, 1, 28, 28) -> (N, 1) logits."""
        return self.net(images)


class WGANCritic(nn.Module):
    """The DCGAN discriminator without batch norm and dropout, and with ``layer_norm`` a layer norm in batch norm's
    place (the default WGAN-GP recipe's; not the seed recipe's); its output is a raw score, not a logit."""

    def __init__(self, features=FEATURES, layer_norm=False):
        if not isinstance(layer_norm, bool):
            raise TypeError(f"WGANCritic: layer_norm must be True or False, got {layer_norm!r}")
        super().__init__()
        self.net = _convolutional_critic(features, norm="layer" if layer_norm else None, dropout=0.0)
        nn.init.dcgan_init_(self)

    def forward(self, images):
        """(N, 1, 28, 28) -> (N, 1) critic scores."""
        return self.net(images)


class SpectralNormDiscriminator(nn.Module):
    """The critic's layers, each spectrally normalized (``nn.utils.spectral_norm``); a logit out. Its weights keep
    PyTorch's default initialization: the normalization fixes their scale, not the N(0, 0.02) draw."""

    def __init__(self, features=FEATURES):
        super().__init__()
        self.net = _convolutional_critic(features, norm=None, dropout=0.0, normalize=nn.utils.spectral_norm)

    def forward(self, images):
        """(N, 1, 28, 28) -> (N, 1) logits."""
        return self.net(images)
