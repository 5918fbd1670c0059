"""The generative models: MLP GAN, DCGAN (and its WGAN-GP critic), fully connected and convolutional VAEs, and the
toy 2-D GAN."""
from tinygen.models.dcgan import (ClusterConditionedGenerator, DCGANDiscriminator, DCGANGenerator,
                                  SpectralNormDiscriminator, WGANCritic)
from tinygen.models.gan_mlp import MLPDiscriminator, MLPGenerator
from tinygen.models.toy import ToyDiscriminator, ToyGenerator, sample_ring
from tinygen.models.vae import VAE, ConvVAE, GaussianVAE

__all__ = [
    "ClusterConditionedGenerator", "ConvVAE", "DCGANDiscriminator", "DCGANGenerator", "GaussianVAE", "MLPDiscriminator",
    "MLPGenerator", "SpectralNormDiscriminator", "ToyDiscriminator", "ToyGenerator", "VAE", "WGANCritic", "sample_ring",
]
