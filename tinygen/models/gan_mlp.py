"""The MLP GAN (Goodfellow et al. 2014, as in the seeds): fully connected generator and discriminator.

    G: z (N, 100) -> 256 -> 512 -> 784 -> image (N, 1, 28, 28) in [-1, 1]   LeakyReLU(0.2), tanh at the end
    D: image (N, 1, 28, 28) -> 784 -> 512 -> 256 -> 1 logit                LeakyReLU(0.2), no sigmoid

D returns a raw logit: the losses apply the sigmoid inside their stable log-sigmoid forms. Options the default
recipe uses: ``batch_norm`` in G's hidden layers (each layer's units stay centred and scaled while G changes fast),
``spectral_norm`` on D's layers (it bounds D's slope, so D cannot overfit the data with a steep boundary).
"""
import math

from tinygen import nn

IMAGE_SHAPE = (1, 28, 28)


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim=100, hidden=(256, 512), image_shape=IMAGE_SHAPE, batch_norm=False):
        super().__init__()
        self.latent_dim = latent_dim
        sizes = (latent_dim,) + tuple(hidden)
        layers = []
        for inputs, outputs in zip(sizes, sizes[1:]):
            layers.append(nn.Linear(inputs, outputs, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(outputs))
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Linear(sizes[-1], math.prod(image_shape)), nn.Tanh(), nn.Unflatten(1, image_shape)]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) in [-1, 1]."""
        return self.net(z)


class MLPDiscriminator(nn.Module):
    def __init__(self, hidden=(512, 256), image_shape=IMAGE_SHAPE, spectral_norm=False):
        super().__init__()
        normalize = nn.utils.spectral_norm if spectral_norm else (lambda layer: layer)
        sizes = (math.prod(image_shape),) + tuple(hidden)
        layers = [nn.Flatten()]
        for inputs, outputs in zip(sizes, sizes[1:]):
            layers += [normalize(nn.Linear(inputs, outputs)), nn.LeakyReLU(0.2)]
        layers.append(normalize(nn.Linear(sizes[-1], 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, images):
        """(N, 1, 28, 28) -> (N, 1) logits: log(D / (1 - D))."""
        return self.net(images)
