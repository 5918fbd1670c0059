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

``ConvVAE(autoregressive=True)`` gives each pixel's logit a term from the pixels before it (PixelVAE, Gulrajani et
al. 2017): logits = decoder(z) + context(x), ``context`` a 5x5 ``nn.CausalConv2d`` (1 -> 1 channel, 12 weights
and a bias), so p(x | z) = prod_i Bernoulli(x_i | sigmoid(decoder(z)_i + sum_{j before i, near i} w_j x_j + b)).
A pixel's neighbours tell much of its grey level (a stroke's edge continues the edge above it); the latent code
keeps the digit's shape, which a 5x5 window cannot see. Training and the ELBO read x itself (one pass); drawing
goes pixel by pixel (``decode``).

``logvar_range=(low, high)`` clamps the encoder's log-variance, e.g. ``(-30.0, 20.0)`` (sigma from 3e-7 to
2e4): exp(logvar) overflows float32 above logvar ~ 88, and one runaway unit then makes the loss inf and every
gradient NaN. The price: while a value sits outside the range, no gradient flows through it. Off by default
(``None``): a healthy VAE's log-variances stay far inside that range.
"""
import math

from tinygen import nn
from tinygen.autograd.grad_mode import no_grad
from tinygen.losses import reparameterize

IMAGE_SHAPE = (1, 28, 28)
#: the autoregressive ConvVAE's window: a pixel's logit reads the 12 pixels before it in a 5x5 square around it
CONTEXT_KERNEL = 5
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

    def logits(self, z, images):
        """(N, 1, 28, 28) Bernoulli logits of p(x | z) for the pixels of ``images``: ``decode(z)`` (a decoder whose
        pixels depend on each other overrides this)."""
        return self.decode(z)

    def forward(self, images, generator=None):
        """Returns (reconstruction logits, mu, logvar)."""
        mu, logvar = self.encode(images)
        return self.logits(reparameterize(mu, logvar, generator), images), mu, logvar


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
    """The convolutional VAE: two stride-2 convolutions down (28 -> 14 -> 7), two transposed ones up; with
    ``autoregressive``, a 5x5 causal ``context`` of the pixels before each pixel added to its logit."""

    def __init__(self, latent_dim=16, channels=32, hidden=256, logvar_range=None, autoregressive=False):
        super().__init__(latent_dim, logvar_range)
        if not isinstance(autoregressive, bool):
            raise TypeError(f"ConvVAE: autoregressive must be True or False, got {autoregressive!r}")
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
        self.context = nn.CausalConv2d(1, 1, CONTEXT_KERNEL) if autoregressive else None

    def logits(self, z, images):
        """decoder(z), plus context(images) when autoregressive: pixel i's logit given z and the pixels before it."""
        logits = self.decoder(z)
        return logits if self.context is None else logits + self.context(images)

    def decode(self, z):
        """(N, latent_dim) -> (N, 1, 28, 28) Bernoulli logits. Autoregressive: the logits of an image drawn pixel by
        pixel in raster order, each pixel set to its Bernoulli mean sigmoid(logit) given z and the pixels drawn
        before it (the training images are grey levels, and so is each drawn pixel). The drawn image x is the one
        with x = sigmoid(logits(z, x)) (unique: pixel i's logit reads only pixels before i). No gradient flows
        through the drawing."""
        if self.context is None:
            return self.decoder(z)
        with no_grad():
            return self._draw(self.decoder(z))

    def _draw(self, base):
        """Pixel by pixel: logit[r, c] = base[r, c] + bias + sum(kernel * the canvas's k x k window around (r, c)),
        the one logit ``context`` would give there (a whole convolution per pixel gives the same logits, 784 times
        the work); the pixel becomes sigmoid(logit) = (1 + tanh(logit / 2)) / 2, which cannot overflow. Only the
        window's rows down to the centre row are read: the mask zeroes the rows below. On the backend's raw
        arrays, images last ((H, W, N): a window is then a few contiguous runs), 784 small steps and no graph."""
        xp, pad = base.backend.xp, CONTEXT_KERNEL // 2
        kernel = (self.context.weight * self.context.mask).array[0, 0, :pad + 1]  # (pad + 1, k)
        bias = self.context.bias.array[0]
        base_logits = xp.ascontiguousarray(base.array[:, 0].transpose(1, 2, 0))  # (H, W, N)
        height, width, batch = base_logits.shape
        canvas = xp.zeros((height + pad, width + 2 * pad, batch), dtype=base_logits.dtype)  # zero rows above, sides
        logits = xp.empty_like(base_logits)
        for row in range(height):
            for column in range(width):
                window = canvas[row:row + pad + 1, column:column + 2 * pad + 1]
                logit = base_logits[row, column] + bias + xp.tensordot(kernel, window, axes=2)
                logits[row, column] = logit
                canvas[row + pad, column + pad] = (1.0 + xp.tanh(logit / 2.0)) / 2.0
        return base._wrap_like(xp.ascontiguousarray(logits.transpose(2, 0, 1)[:, None]))
