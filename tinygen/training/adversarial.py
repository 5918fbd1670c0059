"""What the GAN recipes share: a generator, and optionally an exponential moving average of its weights that the
samples come from (``tinygen.optim.ExponentialMovingAverage``).

A GAN's generator keeps circling a good solution rather than settling in it; the average of its recent weights
sits nearer the middle, and its samples are cleaner. Only sampling uses the average: training never reads it.
"""
from tinygen.optim import ExponentialMovingAverage
from tinygen.training.recipe import Recipe, evaluation_mode


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
