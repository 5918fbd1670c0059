"""Training a GAN with the non-saturating loss: the MLP GAN, the DCGAN and the toy 2-D GAN.

One step (Goodfellow et al. 2014, with the non-saturating generator loss):
    D: minimize  -log D(x) - log(1 - D(G(z)))      on real x and fake G(z), with G(z) detached
    G: minimize  -log D(G(z))                       with D's weights frozen
Both losses are computed on D's logits (``discriminator_loss`` / ``generator_loss``).
"""
from tinygen.losses import discriminator_loss, generator_loss
from tinygen.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from tinygen.models.toy import ToyDiscriminator, ToyGenerator, mode_coverage
from tinygen.training.recipe import Recipe, evaluation_mode, frozen

ARCHITECTURES = {
    "gan": (MLPGenerator, MLPDiscriminator),
    "dcgan": (DCGANGenerator, DCGANDiscriminator),
    "toy": (ToyGenerator, ToyDiscriminator),
}


class GANRecipe(Recipe):
    loss_kind = "nonsaturating"

    def __init__(self, config):
        super().__init__(config)
        make_generator, make_discriminator = ARCHITECTURES[config.model]
        self.generator = make_generator(latent_dim=config.latent_dim).to(config.device)
        self.discriminator = make_discriminator().to(config.device)
        self.generator_optimizer = self.adam(self.generator)
        self.discriminator_optimizer = self.adam(self.discriminator)
        if config.model == "toy":
            self.sample_kind = "points"

    def networks(self):
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self):
        return {"generator": self.generator_optimizer, "discriminator": self.discriminator_optimizer}

    def train_step(self, real):
        fake = self.generator(self.noise(real.shape[0]))

        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake.detach())  # detached: this step must not reach G
        loss_d = discriminator_loss(real_logits, fake_logits, self.loss_kind)
        self.discriminator_optimizer.zero_grad()
        loss_d.backward()
        self.discriminator_optimizer.step()

        with frozen(self.discriminator):
            loss_g = generator_loss(self.discriminator(fake), self.loss_kind)
        self.generator_optimizer.zero_grad()
        loss_g.backward()
        self.generator_optimizer.step()

        real_logits, fake_logits = real_logits.detach(), fake_logits.detach()
        accuracy = ((real_logits > 0).float().sum() + (fake_logits < 0).float().sum()) / (2 * real.shape[0])
        return {
            "loss_d": loss_d.item(),
            "loss_g": loss_g.item(),
            "d_real": real_logits.sigmoid().mean().item(),
            "d_fake": fake_logits.sigmoid().mean().item(),
            "d_accuracy": accuracy.item(),
        }

    def generate(self, z):
        with evaluation_mode(self.generator):
            return self.generator(z)

    def evaluate(self, held_out):
        if self.sample_kind != "points":
            return {}
        covered, quality = mode_coverage(self.generate(self.noise(len(held_out))))
        return {"modes_covered": covered, "high_quality": quality}
