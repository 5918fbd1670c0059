"""``DataLoader``: a dataset served in (shuffled) batches of tensors on a device.

Reproducible and resumable shuffling: the order of epoch e is a pure function of (seed, e),

    order(e) = Generator(seed=derived(seed, e)).permutation(len(dataset))

so it does not depend on how many batches were drawn before, on which device, or whether the run was
restarted. ``seed`` is the ``generator``'s seed when one is given, else drawn once from tinygen's default
generator (so ``tinygen.manual_seed`` fixes it). Each ``iter(loader)`` (each ``for batch in loader``) runs the
next epoch; to resume a run at epoch e, batch k, call ``loader.set_epoch(e, start_batch=k)`` first: the
batches that follow are exactly those the interrupted run would have seen.
"""
import math
import numbers

import numpy

from tinygen import backend as backends
from tinygen import random as tg_random
from tinygen.tensor import Tensor

__all__ = ["DataLoader"]


def _epoch_seed(seed, epoch):
    """A 63-bit seed for one epoch, well mixed from (seed, epoch) (NumPy's SeedSequence hashing)."""
    return int(numpy.random.SeedSequence([seed, epoch]).generate_state(1, numpy.uint64)[0] >> numpy.uint64(1))


def _check_batches(dataset):
    """A dataset must answer ``dataset[indices]`` (a NumPy integer array) with a tuple of tensors."""
    try:
        batch = dataset[numpy.arange(1)]
    except Exception as error:
        raise TypeError(
            f"DataLoader: the dataset ({type(dataset).__name__}) must give a batch for dataset[indices], with indices "
            f"a NumPy integer array, as TensorDataset does; it raised {type(error).__name__}: {error}"
        ) from None
    if not isinstance(batch, tuple) or not all(isinstance(tensor, Tensor) for tensor in batch):
        raise TypeError(
            f"DataLoader: dataset[indices] must be a tuple of tensors (as TensorDataset gives), got "
            f"{type(batch).__name__}"
        )


class DataLoader:
    """Batches of ``dataset`` as tuples of tensors (one per dataset tensor, e.g. ``(images, labels)``).

    batch_size: samples per batch; the last batch is smaller unless ``drop_last=True`` drops it.
    shuffle: a new order every epoch (see the module docstring); otherwise dataset order.
    generator: a ``tinygen.Generator`` whose seed fixes the shuffles (its stream is not consumed).
    transform: applied to the first tensor of each batch after it is on ``device`` (see ``transforms``).
    device: where batches are delivered (default: where the dataset's tensors are).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, transform=None,
                 device=None):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: the dataset must have len() and [indices], as TensorDataset has; got "
                            f"{type(dataset).__name__}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        _check_batches(dataset)
        if drop_last and batch_size > len(dataset):
            raise ValueError(
                f"DataLoader: batch_size {batch_size} is larger than the dataset ({len(dataset)} samples), "
                "so drop_last=True would give no batch at all"
            )
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable, got {type(transform).__name__}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), shuffle, drop_last
        self.transform = transform
        self.device = None if device is None else backends.normalize_device(device)
        source = generator if generator is not None else tg_random.default_generator()
        self.seed = source.initial_seed() if generator is not None else int(source.integers(0, 2**63 - 1, None))
        self.epoch, self.start_batch = 0, 0

    def __len__(self):
        """The number of batches per epoch."""
        count = len(self.dataset) / self.batch_size
        return math.floor(count) if self.drop_last else math.ceil(count)

    def order(self, epoch):
        """The sample indices of ``epoch`` in the order they are served (a NumPy int64 array)."""
        if not self.shuffle:
            return numpy.arange(len(self.dataset))
        return tg_random.Generator("cpu", _epoch_seed(self.seed, epoch)).permutation(len(self.dataset))

    def set_epoch(self, epoch, start_batch=0):
        """Make the next iteration serve ``epoch``, starting at its batch ``start_batch`` (to resume a run)."""
        if not 0 <= start_batch <= len(self):
            raise ValueError(f"DataLoader.set_epoch: start_batch must be in [0, {len(self)}], got {start_batch}")
        self.epoch, self.start_batch = epoch, start_batch

    def __iter__(self):
        epoch, start = self.epoch, self.start_batch
        self.epoch, self.start_batch = epoch + 1, 0
        return self._batches(epoch, start)

    def _batches(self, epoch, start):
        order = self.order(epoch)
        for batch in range(start, len(self)):
            yield self._deliver(self.dataset[order[batch * self.batch_size:(batch + 1) * self.batch_size]])

    def _deliver(self, tensors):
        if self.device is not None:
            tensors = tuple(tensor.to(self.device) for tensor in tensors)
        if self.transform is not None:
            tensors = (self.transform(tensors[0]),) + tuple(tensors[1:])
        return tensors

    def __repr__(self):
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")
