"""Training a Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

Every batch trains the critic C on
    L_C = mean C(G(z)) - mean C(x) + lambda * mean (||grad C(x_hat)||_2 - 1)^2
and every ``n_critic``-th batch also trains the generator on L_G = -mean C(G(z)).
The critic's output is a raw score (no sigmoid) and it has no batch norm: the penalty is per sample. The default
recipe's critic has a layer norm in its place (``critic_norm``), which normalizes each sample on its own.
The default recipe samples from an exponential moving average of G's weights (``AdversarialRecipe``), which keeps
``average_decay`` of itself per G step.
"""
from tinygen.autograd.grad_mode import no_grad
from tinygen.losses import discriminator_loss, generator_loss, gradient_penalty
from tinygen.models import DCGANGenerator, WGANCritic
from tinygen.training.adversarial import AdversarialRecipe
from tinygen.training.recipe import frozen


class WGANGPRecipe(AdversarialRecipe):
    def __init__(self, config):
        super().__init__(config)
        self.generator = DCGANGenerator(latent_dim=config.latent_dim).to(config.device)
        self.critic = WGANCritic(layer_norm=config.critic_norm == "layer").to(config.device)
        self.generator_optimizer = self.adam(self.generator)
        self.critic_optimizer = self.adam(self.critic)
        self.steps = 0
        if config.average_decay is not None:
            self.average_generator_weights(DCGANGenerator, config.average_decay)

    def players(self):
        return {"generator": self.generator, "critic": self.critic}

    def optimizers(self):
        return {"generator": self.generator_optimizer, "critic": self.critic_optimizer}

    def train_step(self, real):
        with no_grad():
            fake = self.generator(self.noise(real.shape[0]))
        real_scores, fake_scores = self.critic(real), self.critic(fake)
        wasserstein = discriminator_loss(real_scores, fake_scores, "wasserstein")
        penalty = gradient_penalty(self.critic, real, fake, lambda_=self.config.gp_lambda)
        loss_c = wasserstein + penalty
        self.critic_optimizer.zero_grad()
        loss_c.backward()
        self.critic_optimizer.step()

        self.steps += 1
        metrics = {"loss_c": loss_c.item(), "wasserstein": -wasserstein.item(), "gradient_penalty": penalty.item()}
        if self.steps % self.config.n_critic == 0:
            with frozen(self.critic):
                loss_g = generator_loss(self.critic(self.generator(self.noise(real.shape[0]))), "wasserstein")
            self.generator_optimizer.zero_grad()
            loss_g.backward()
            self.generator_optimizer.step()
            if self.average is not None:
                self.average.update()
            metrics["loss_g"] = loss_g.item()  # reported on the steps that train G only
        return metrics

    def state_dict(self):
        state = super().state_dict()
        state["steps"] = self.steps
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.steps = int(state["steps"])
