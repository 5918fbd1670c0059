"""Training a VAE (fully connected, ``vae``, or convolutional, ``conv-vae``) by maximizing the ELBO (Kingma and
Welling 2014).

Loss per image = reconstruction (Bernoulli NLL of the pixels in [0, 1], summed over pixels)
               + beta * KL(q(z|x) || N(0, I)) (summed over latent dims), averaged over the batch:
this is -ELBO in nats per image. The conv VAE's default decoder is autoregressive (``decoder``, see
``models.ConvVAE``): the reconstruction term is then the NLL of each pixel given z and the pixels before it.

With ``augment_shift`` s > 0 each training image is, with probability 1/2, moved by its own (dy, dx) with
|dy|, |dx| <= s (``tinygen.nn.augment.translate``, background filled in) and the loss is that of the moved image:
9,000 digits seen a little displaced are harder to memorize. The held-out evaluation never shifts. (Held-out -ELBO
of seed 0 with s = 1: 108.7 moving half the images, 109.0 a quarter, 110.3 all of them, 109.7 none.)
"""
from tinygen.autograd.grad_mode import no_grad
from tinygen.creation import randint
from tinygen.losses import elbo
from tinygen.models import VAE, ConvVAE
from tinygen.nn.augment import translate
from tinygen.training.recipe import Recipe, evaluation_mode

EVAL_BATCH = 500
#: the network of each (model, recipe)
ARCHITECTURES = {
    ("vae", "seed"): VAE,
    ("vae", "default"): VAE,
    ("conv-vae", "default"): ConvVAE,
}


class VAERecipe(Recipe):
    pixel_range = (0.0, 1.0)

    def __init__(self, config):
        super().__init__(config)
        network = ARCHITECTURES[config.model, config.recipe]
        options = {} if config.activation is None else {"activation": config.activation}  # the MLP VAE's setting
        if config.decoder is not None:  # the conv VAE's
            options["autoregressive"] = config.decoder == "autoregressive"
        self.vae = network(latent_dim=config.latent_dim, **options).to(config.device)
        self.optimizer = self.adam(self.vae)

    def networks(self):
        return {"vae": self.vae}

    def optimizers(self):
        return {"vae": self.optimizer}

    def augment(self, images):
        """The training batch as the VAE sees it: each image, with probability 1/2, moved by up to ``augment_shift``
        pixels each way (the images themselves when the setting is 0). The coin is a host integer drawn after the
        shifts, from the same stream as they are (``randint``)."""
        shift = self.config.augment_shift
        if not shift:
            return images
        shifted = translate(images, shift, fill=self.pixel_range[0])
        moved = randint(0, 2, (images.shape[0], 1, 1, 1), device=images.device).to(dtype=images.dtype)
        return moved * shifted + (1.0 - moved) * images

    def train_step(self, images):
        images = self.augment(images)
        logits, mu, logvar = self.vae(images)
        terms = elbo(logits, images, mu, logvar, beta=self.config.beta)
        self.optimizer.zero_grad()
        terms.loss.backward()
        self.optimizer.step()
        return {"loss": terms.loss.item(), "reconstruction": terms.reconstruction.item(), "kl": terms.kl.item()}

    def generate(self, z):
        with evaluation_mode(self.vae):
            return self.vae.decode(z).sigmoid() * 2.0 - 1.0  # Bernoulli means in [0, 1], shown in [-1, 1]

    def evaluate(self, held_out):
        """Held-out -ELBO, reconstruction and KL in nats per image (one posterior sample per image)."""
        totals = {"eval_loss": 0.0, "eval_reconstruction": 0.0, "eval_kl": 0.0}
        with no_grad():
            for start in range(0, len(held_out), EVAL_BATCH):
                images = held_out[start:start + EVAL_BATCH]
                logits, mu, logvar = self.vae(images)
                terms = elbo(logits, images, mu, logvar)  # beta = 1: the true ELBO, whatever beta trained with
                for key, value in zip(totals, terms):
                    totals[key] += value.item() * images.shape[0]
        return {key: value / len(held_out) for key, value in totals.items()}
