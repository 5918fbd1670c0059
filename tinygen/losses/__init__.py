"""Losses, one module per family; ``tinygen.nn.functional`` re-exports them (``F.binary_cross_entropy`` ...).

    classification  binary_cross_entropy, binary_cross_entropy_with_logits
    multiclass      cross_entropy, nll_loss (class indices)
    regression      mse_loss, l1_loss, smooth_l1_loss, huber_loss
    divergence      kl_div
    gan             discriminator_loss, generator_loss (minimax, non-saturating, Wasserstein, hinge),
                    gradient_penalty (WGAN-GP)
    vae             reparameterize, gaussian_kl, bernoulli_nll, gaussian_nll, elbo

``reduction`` is "mean" | "sum" | "none" as in PyTorch; losses never broadcast input against target.
"""
from tinygen.losses.classification import *  # noqa: F401,F403
from tinygen.losses.divergence import *  # noqa: F401,F403
from tinygen.losses.gan import *  # noqa: F401,F403
from tinygen.losses.multiclass import *  # noqa: F401,F403
from tinygen.losses.regression import *  # noqa: F401,F403
from tinygen.losses.vae import *  # noqa: F401,F403
from tinygen.losses import classification, divergence, gan, multiclass, regression, vae

__all__ = (classification.__all__ + multiclass.__all__ + regression.__all__ + gan.__all__ + vae.__all__
           + divergence.__all__)
