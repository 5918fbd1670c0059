"""An exponential moving average of a model's weights (Polyak averaging, as GANs sample from it: Karras et al.
2018, Yazici et al. 2019).

A GAN's generator keeps moving around a good solution instead of settling in it; the average of its recent
weights sits nearer the middle and makes cleaner samples. After each optimizer step, ``update()`` does, for
every parameter p of the model and its average a:

    a <- d_t a + (1 - d_t) p,       d_t = min(decay, (1 + t) / (10 + t))     (t = updates so far)

The warm-up d_t (TensorFlow's ``num_updates`` rule) lets the average follow the fast early changes instead of
remembering the random initial weights for ~1 / (1 - decay) steps. Buffers (batch norm's running statistics)
are copied, not averaged: they are the current model's statistics, which the averaged weights share closely.
"""
from tinygen.autograd.grad_mode import no_grad
from tinygen.nn.module import Module

__all__ = ["ExponentialMovingAverage", "update_bn"]


class ExponentialMovingAverage:
    """Keeps ``average`` (a module of the same architecture as ``model``) an EMA of ``model``'s weights.

        average = DCGANGenerator()                  # sample from this one
        ema = ExponentialMovingAverage(generator, average, decay=0.999)
        ...; optimizer.step(); ema.update()

    ``average`` starts as a copy of ``model`` and stops requiring gradients; sample from it in evaluation mode.
    """

    def __init__(self, model, average, decay=0.999):
        if not isinstance(model, Module) or not isinstance(average, Module):
            raise TypeError(f"ExponentialMovingAverage: model and average must be Modules, got "
                            f"{type(model).__name__} and {type(average).__name__}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ExponentialMovingAverage: decay must be in [0, 1), got {decay!r}")
        self.model, self.average, self.decay = model, average, decay
        self.num_updates = 0
        average.load_state_dict(model.state_dict())  # also proves the two have one architecture
        average.requires_grad_(False)

    def current_decay(self):
        """d_t for the next update."""
        return min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))

    def update(self):
        """One averaging step: a <- d_t a + (1 - d_t) p for every parameter; buffers copied."""
        decay = self.current_decay()
        with no_grad():
            for averaged, parameter in zip(self.average.parameters(), self.model.parameters()):
                averaged.mul_(decay).add_(parameter, alpha=1.0 - decay)
            for averaged, buffer in zip(self.average.buffers(), self.model.buffers()):
                averaged.copy_(buffer)
        self.num_updates += 1

    def state_dict(self):
        """What resuming needs besides ``average``'s own weights (which a checkpoint saves as a network)."""
        return {"num_updates": self.num_updates, "decay": self.decay}

    def load_state_dict(self, state):
        self.num_updates, self.decay = int(state["num_updates"]), float(state["decay"])


def update_bn(batches, model):
    """Recompute the running statistics of every batch-norm layer of ``model`` from ``batches`` (an iterable of
    inputs), as PyTorch's ``torch.optim.swa_utils.update_bn``: each layer's statistics become the plain average over
    the batches of the batch statistics, measured in training mode without a graph; the modes are restored after.

    An averaged model needs this: its weights are nobody's weights during training, so no batch norm ever measured
    the activations they produce; the statistics copied from the model only approximate them.
    """
    from tinygen.nn.layers.normalization import BatchNorm

    layers = [module for module in model.modules() if isinstance(module, BatchNorm) and module.track_running_stats]
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    modes = [module.training for module in model.modules()]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # a cumulative average over the batches
    model.train()
    with no_grad():
        for batch in batches:
            model(batch)
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum
    for module, mode in zip(model.modules(), modes):
        module.training = mode
