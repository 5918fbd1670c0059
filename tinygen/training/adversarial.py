"""What the GAN recipes share: a generator, and optionally an exponential moving average of its weights that the
samples come from (``tinygen.optim.ExponentialMovingAverage``).

A GAN's generator keeps circling a good solution rather than settling in it; the average of its recent weights
sits nearer the middle, and its samples are cleaner. Only sampling uses the average: training never reads it.
At the end of each epoch (``evaluate``, before the epoch's samples, scores and checkpoint), the averaged
generator's batch norms measure the statistics of its own activations (``update_bn`` on fixed noise, in training
mode): the statistics copied from the training generator, whose weights differ, would misplace them. Sampling
itself (``generate``) stays in eval mode and reads those measured statistics, also from a checkpoint.
"""
from tinygen import random as tg_random
from tinygen.creation import randn
from tinygen.optim import ExponentialMovingAverage
from tinygen.optim.ema import update_bn
from tinygen.training.recipe import Recipe, evaluation_mode

#: noise batches (and their size) on which the averaged generator's batch-norm statistics are measured
STATISTICS_BATCHES, STATISTICS_BATCH_SIZE = 4, 256


class AdversarialRecipe(Recipe):
    #: the ExponentialMovingAverage of G's weights, when the recipe samples from one
    average = None

    def players(self):
        """``{name: Module}``: the generator and its opponent."""
        raise NotImplementedError

    def average_generator_weights(self, make_generator, decay):
        """Keep ``average_generator`` (built by ``make_generator``) an EMA of ``generator``; samples come from it."""
        self.average_generator = make_generator(latent_dim=self.latent_dim).to(self.config.device)
        self.average = ExponentialMovingAverage(self.generator, self.average_generator, decay)

    def measure_average_statistics(self):
        """``update_bn`` of the averaged generator on fixed noise (from its own generator: training's draws stay
        as they are)."""
        draws = tg_random.Generator(self.config.device, seed=self.config.seed)
        noise = [randn(STATISTICS_BATCH_SIZE, self.latent_dim, generator=draws, device=self.config.device)
                 for _ in range(STATISTICS_BATCHES)]
        update_bn(noise, self.average_generator)

    def evaluate(self, held_out):
        """The end of an epoch: the averaged generator's batch norms measure its activations (no metrics)."""
        if self.average is not None:
            self.measure_average_statistics()
        return {}

    def networks(self):
        networks = self.players()
        if self.average is not None:
            networks["average_generator"] = self.average_generator
        return networks

    def generate(self, z):
        """Samples of the averaged generator if the recipe keeps one, else of the generator."""
        generator = self.generator if self.average is None else self.average_generator
        with evaluation_mode(generator):
            return generator(z)

    def state_dict(self):
        state = super().state_dict()
        if self.average is not None:
            state["average"] = self.average.state_dict()
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if self.average is not None:
            self.average.load_state_dict(state["average"])
