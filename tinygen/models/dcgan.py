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

The default recipe is self-conditioned (Liu et al. 2020, "Diverse image generation via self-conditioned GANs"; here
on fixed k-means clusters of the training images, ``tinygen/training/clusters.py``): ``ClusterConditionedGenerator``
draws its cluster k from z and makes a digit of it, and D with ``clusters`` judges an image as one of its cluster
(Miyato and Koyama's projection: D(x, k) = w . phi(x) + e_k . phi(x), phi(x) the features before the read-out).
"""
import itertools
import statistics

from tinygen import nn
from tinygen.creation import tensor, zeros
from tinygen.ops.indexing import one_hot
from tinygen.ops.shape import cat

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


class ClusterConditionedGenerator(nn.Module):
    """G of a self-conditioned GAN: z's first coordinate chooses a cluster k of the training images, the rest and k's
    one-hot code make the digit, G(z) = DCGANGenerator(cat(z[1:], onehot(k)));

        k(z) = #{j : z_0 > t_j},  t_j = Phi^-1(s_0 + ... + s_j)  (Phi: the standard normal's CDF)

    so z ~ N(0, I) draws cluster k with probability s_k, its share of the training images, and G stays a function
    of z alone: sampling, the average of G and latent walks are as for any G. ``set_clusters`` gives the clusters'
    centers (which cluster a training image is in: ``cluster_of_images``) and shares (equal until then); both are
    buffers, kept in the checkpoint."""

    def __init__(self, latent_dim=100, clusters=10, features=FEATURES, image_shape=(1, 28, 28)):
        if not isinstance(clusters, int) or isinstance(clusters, bool) or clusters < 2:
            raise ValueError(f"ClusterConditionedGenerator: clusters must be a whole number of at least 2, got "
                             f"{clusters!r}")
        if not isinstance(latent_dim, int) or isinstance(latent_dim, bool) or latent_dim < 1:
            raise ValueError(f"ClusterConditionedGenerator: latent_dim must be a positive whole number (its first "
                             f"coordinate chooses the cluster), got {latent_dim!r}")
        super().__init__()
        self.latent_dim, self.clusters = latent_dim, clusters
        self.body = DCGANGenerator(latent_dim - 1 + clusters, features)
        self.register_buffer("thresholds", tensor(_thresholds([1.0 / clusters] * clusters)))
        self.register_buffer("centers", zeros(clusters, *image_shape))

    def set_clusters(self, centers, shares):
        """(clusters, *image_shape) mean image of each cluster; (clusters,) the probability of each, non-negative
        numbers adding up to 1."""
        if tuple(centers.shape) != tuple(self.centers.shape):
            raise ValueError(f"set_clusters: expected centers of shape {tuple(self.centers.shape)}, got "
                             f"{tuple(centers.shape)}")
        shares = [float(share) for share in shares]
        if len(shares) != self.clusters or min(shares) < 0 or abs(sum(shares) - 1) > 1e-6:
            raise ValueError(f"set_clusters: expected {self.clusters} non-negative shares adding up to 1, got "
                             f"{len(shares)} adding up to {sum(shares):g}")
        self.centers.copy_(centers)
        self.thresholds.copy_(tensor(_thresholds(shares), device=self.thresholds.device))

    def cluster(self, z):
        """(N, latent_dim) -> (N,) int64: the cluster each code draws."""
        return (z[:, :1] > self.thresholds).sum(1)

    def cluster_of_images(self, images):
        """(N, *image_shape) -> (N,) int64: the cluster of each image, the one with the nearest center c:
        argmin_c |x - c|^2 = argmin_c |c|^2 - 2 x . c (|x|^2 is the same for every c)."""
        centers = self.centers.flatten(1)
        return ((centers * centers).sum(1) - 2 * images.flatten(1) @ centers.T).argmin(1)

    def forward(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) in [-1, 1]."""
        code = one_hot(self.cluster(z), self.clusters).to(z.dtype)
        return self.body(cat([z[:, 1:], code], dim=1))


def _thresholds(shares):
    """t_j = Phi^-1(s_0 + ... + s_j) for j < K - 1, each cumulative share kept within [Phi(-8), Phi(8)]: 0 and 1 have
    no inverse (Phi(-8) is 6e-16)."""
    normal = statistics.NormalDist()
    low, high = normal.cdf(-8.0), normal.cdf(8.0)
    return [normal.inv_cdf(min(max(cumulative, low), high)) for cumulative in itertools.accumulate(shares[:-1])]


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
    PyTorch's default initialization: the normalization fixes their scale, not the N(0, 0.02) draw.

    With ``clusters`` K, it also reads each image's cluster k (projection): D(x, k) = net(x) + e_k . phi(x), where
    phi(x) is the input of the net's read-out (2 features x 7 x 7) and e_k is column k of ``embed``, a spectrally
    normalized Linear(K, 2 features x 7 x 7) applied to k's one-hot code."""

    def __init__(self, features=FEATURES, clusters=0):
        if not isinstance(clusters, int) or isinstance(clusters, bool) or clusters < 0:
            raise ValueError(f"SpectralNormDiscriminator: clusters must be a whole number (0: none), got {clusters!r}")
        super().__init__()
        self.clusters = clusters
        self.net = _convolutional_critic(features, norm=None, dropout=0.0, normalize=nn.utils.spectral_norm)
        if clusters:
            self.embed = nn.utils.spectral_norm(nn.Linear(clusters, 2 * features * 7 * 7, bias=False))

    def forward(self, images, clusters=None):
        """(N, 1, 28, 28) and, with ``clusters``, (N,) int64 clusters -> (N, 1) logits."""
        if not self.clusters:
            if clusters is not None:
                raise ValueError("SpectralNormDiscriminator: it was made without clusters (clusters=0): give none")
            return self.net(images)
        if clusters is None:
            raise ValueError(f"SpectralNormDiscriminator: it was made with {self.clusters} clusters: give each "
                             "image's cluster")
        if tuple(clusters.shape) != (images.shape[0],):  # (1,) would broadcast one cluster over every image
            raise ValueError(f"SpectralNormDiscriminator: expected one cluster per image, of shape "
                             f"({images.shape[0]},), got {tuple(clusters.shape)}")
        features = self.net[:-1](images)
        code = one_hot(clusters, self.clusters).to(features.dtype)
        return self.net[-1](features) + (self.embed(code) * features).sum(1, keepdim=True)
