"""The generative models: output shapes and ranges, the DCGAN initialization actually applied, and a few
training steps of each family (losses finite, parameters move, the right networks get gradients)."""
import numpy as np
import pytest

import tinygen
from tinygen.models import (VAE, ConvVAE, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                            ToyDiscriminator, ToyGenerator, WGANCritic)
from tinygen.training import TrainConfig, build_recipe

from helpers import host


@pytest.mark.parametrize("make_generator, make_discriminator", [
    (MLPGenerator, MLPDiscriminator), (DCGANGenerator, DCGANDiscriminator), (DCGANGenerator, WGANCritic),
])
def test_image_gans_map_noise_to_images_to_logits(make_generator, make_discriminator):
    tinygen.manual_seed(0)
    generator, discriminator = make_generator(latent_dim=100), make_discriminator()
    images = generator(tinygen.randn(5, 100))
    assert images.shape == (5, 1, 28, 28)
    assert host(images).min() >= -1.0 and host(images).max() <= 1.0
    assert discriminator(images).shape == (5, 1)


def test_toy_gan_and_vae_shapes():
    assert ToyGenerator()(tinygen.randn(7, 2)).shape == (7, 2)
    assert ToyDiscriminator()(tinygen.randn(7, 2)).shape == (7, 1)
    for vae in (VAE(latent_dim=3), ConvVAE(latent_dim=3)):
        logits, mu, logvar = vae(tinygen.rand(4, 1, 28, 28))
        assert logits.shape == (4, 1, 28, 28) and mu.shape == logvar.shape == (4, 3)
        assert vae.decode(tinygen.randn(5, 3)).shape == (5, 1, 28, 28)


def test_dcgan_initialization_is_applied():
    """N(0, 0.02) weights in conv/linear layers, N(1, 0.02) batch-norm scales: a model that forgets to apply its
    init helper trains much worse, and nothing else would notice."""
    tinygen.manual_seed(1)
    for model in (DCGANGenerator(), DCGANDiscriminator(), WGANCritic()):
        for name, parameter in model.named_parameters():
            values = host(parameter)
            if name.endswith("bias"):
                assert np.all(values == 0.0), name
            elif values.ndim == 1:  # batch-norm scale
                assert abs(values.mean() - 1.0) < 0.01 and abs(values.std() - 0.02) < 0.01, name
            elif values.size > 500:
                assert abs(values.mean()) < 0.005 and abs(values.std() - 0.02) < 0.004, name


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp", "vae", "conv-vae", "toy"])
def test_a_few_training_steps_change_the_parameters_with_finite_losses(model, tmp_path):
    tinygen.manual_seed(2)
    config = TrainConfig(model, batch_size=8, n_critic=2, out=str(tmp_path), progress=False)
    recipe = build_recipe(config)
    def parameters():
        return {f"{net_name}.{name}": host(p).copy() for net_name, net in recipe.networks().items()
                for name, p in net.named_parameters()}

    before = parameters()
    batch = tinygen.rand(8, 2) * 2 - 1 if model == "toy" else tinygen.rand(8, 1, 28, 28) * 2 - 1
    if model.endswith("vae"):
        batch = (batch + 1) / 2
    recipe.prepare(batch)  # the DCGAN's clusters
    for _ in range(2):
        metrics = recipe.train_step(batch)
    assert all(np.isfinite(value) for value in metrics.values())
    after = parameters()
    still = {name for name in before if np.array_equal(before[name], after[name])}
    # The Wasserstein loss mean C(fake) - mean C(real) does not depend on the critic's output bias (it cancels),
    # and neither does the gradient penalty: that bias rightly gets a zero gradient.
    # So does the hinge loss mean relu(1 - l_real) + mean relu(1 + l_fake) while every logit is inside the margin
    # (|l| < 1, as at the start): the default GANs' D output bias gets -1 + 1 = 0.
    expected_still = {f"critic.net.{len(recipe.critic.net) - 1}.bias"} if model == "wgan-gp" else set()
    if model in ("gan", "dcgan"):
        expected_still = {f"discriminator.net.{len(recipe.discriminator.net) - 1}.bias"}
    assert still == expected_still, f"parameters that did not move: {still}"
