"""The shape every model family's training follows, so the loop, checkpoints and the CLI treat them alike.

A recipe owns its networks and optimizers, knows one training step, how to sample, and what to measure.
"""
import contextlib
import functools

from tinygen import optim
from tinygen.creation import randn
from tinygen.serialization import CheckpointError
from tinygen.training.stops import first_non_finite


class Recipe:
    #: the sample space: "image" (N, 1, 28, 28) in [-1, 1] or "points" (N, 2)
    sample_kind = "image"
    #: pixel range the training data is scaled to
    pixel_range = (-1.0, 1.0)

    def __init__(self, config):
        self.config = config
        self.latent_dim = config.latent_dim
        self.schedules = []  # learning-rate schedules, stepped after every training step (``plan``)

    def as_samples(self, images):
        """Images in ``pixel_range`` mapped to [-1, 1], the range samples come in: how the judge must see real
        digits to compare them with samples (the images themselves where ``pixel_range`` is already [-1, 1])."""
        low, high = self.pixel_range
        if (low, high) == (-1.0, 1.0):
            return images
        return (images - low) * (2.0 / (high - low)) - 1.0

    # --- what the checkpoint holds --------------------------------------------------------------
    def networks(self):
        """``{name: Module}``."""
        raise NotImplementedError

    def optimizers(self):
        """``{name: Optimizer}``."""
        raise NotImplementedError

    def state_dict(self):
        state = {f"model.{name}": net.state_dict() for name, net in self.networks().items()}
        state.update({f"optimizer.{name}": opt.state_dict() for name, opt in self.optimizers().items()})
        return state

    def load_state_dict(self, state):
        """Restore the networks and optimizers; a state of another family names what is missing."""
        parts = [(f"model.{name}", net) for name, net in self.networks().items()]
        parts += [(f"optimizer.{name}", opt) for name, opt in self.optimizers().items()]
        missing = [key for key, _ in parts if key not in state]
        if missing:
            raise CheckpointError(
                f"the checkpoint's state has no {', '.join(map(repr, missing))} "
                f"(it holds {', '.join(map(repr, state))}): it is not the state of a {self.config.model!r} run"
            )
        malformed = [key for key, _ in parts if not isinstance(state[key], dict)]
        if malformed:
            raise CheckpointError(f"the checkpoint's {', '.join(map(repr, malformed))} should hold a state dict, "
                                  f"not {type(state[malformed[0]]).__name__}: the file is damaged")
        for key, part in parts:
            part.load_state_dict(state[key])
        damaged = first_non_finite(self.state_dict())
        if damaged is not None:  # a run stops before it saves a state that is not finite
            raise CheckpointError(f"the checkpoint's {damaged} holds nan or inf: tinygen saves only finite states, so "
                                  "the file is damaged or was edited")

    # --- training ----------------------------------------------------------------------------------
    def adam(self, network, lr_scale=1.0):
        """Adam on ``network``'s parameters at the run's betas and ``lr_scale`` times its learning rate."""
        return optim.Adam(network.parameters(), lr=lr_scale * self.config.lr, betas=self.config.betas)

    def prepare(self, images):
        """Before a fresh run's first step, with its training images (a self-conditioned GAN clusters them; a
        resumed run's checkpoint holds what this made). Nothing for most recipes."""

    def plan(self, total_steps, steps_done=0):
        """Before the first step: the run has ``total_steps`` steps, ``steps_done`` of them already done (resumed).

        With ``lr_decay`` > 0 each optimizer gets a ``LambdaLR`` stepped after every training step
        (``step_schedules``): its learning rate decays linearly to 0 over that last fraction of the steps."""
        self.schedules = []
        if self.config.lr_decay:
            factor = functools.partial(linear_decay, total_steps=total_steps, fraction=self.config.lr_decay)
            self.schedules = [optim.lr_scheduler.LambdaLR(optimizer, factor, last_epoch=steps_done - 1)
                              for optimizer in self.optimizers().values()]

    def step_schedules(self):
        """After a training step: every learning rate moves to the next step's (nothing without ``lr_decay``)."""
        for schedule in self.schedules:
            schedule.step()

    def noise(self, n):
        """Latent codes z ~ N(0, I), (n, latent_dim), from the default generator (seeded per epoch)."""
        return randn(n, self.latent_dim, device=self.config.device)

    def train_step(self, batch):
        """One optimization step on a batch of real samples; returns ``{metric: float}``."""
        raise NotImplementedError

    def generate(self, z):
        """Samples for latent codes ``z`` (no graph), in evaluation mode (``evaluation_mode``).

        Every picture, score and ``tinygen sample`` goes through here. Eval mode matters for a generator with
        batch norm: in training mode each batch is normalized by its own statistics, so a sample depends on the
        other codes in its batch (and a batch of one fails); in eval mode the running statistics learned in
        training are used, and each sample depends on its own code only. See docs/pitfalls.md.
        """
        raise NotImplementedError

    def evaluate(self, held_out):
        """``{metric: float}`` measured on held-out real samples at the end of an epoch."""
        return {}


def linear_decay(step, total_steps, fraction):
    """The learning rate's factor at ``step`` (0-based) of T = ``total_steps``: 1 until step (1 - fraction) T, then
    linearly down to 0 at T, i.e. min(1, (T - step) / (fraction T)); 0 past T."""
    return min(1.0, max(0.0, (total_steps - step) / (fraction * total_steps)))


@contextlib.contextmanager
def frozen(network):
    """Parameters of ``network`` stop requiring grad inside the block: a generator step backpropagates through
    the discriminator to reach G, but needs no gradient for D's own weights (it saves their cost)."""
    parameters = [p for p in network.parameters() if p.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)


@contextlib.contextmanager
def evaluation_mode(*networks):
    """Eval mode (batch norm uses running statistics, no dropout) and no graph, restoring the modes after.

    Both are needed: ``no_grad()`` alone leaves batch norm in training mode, normalizing by the batch's own
    statistics and updating the running ones with the samples."""
    from tinygen.autograd.grad_mode import no_grad

    modes = [net.training for net in networks]
    for net in networks:
        net.eval()
    try:
        with no_grad():
            yield
    finally:
        for net, mode in zip(networks, modes):
            net.train(mode)
