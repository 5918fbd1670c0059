"""Samplers: which sample indices a ``DataLoader`` takes, in which order (PyTorch's classes).

Random orders come from a ``tinygen.Generator`` (or the default one, so ``tinygen.manual_seed`` fixes them);
each pass over a random sampler draws a new order from the generator's stream.
"""
import numbers

import numpy

from tinygen import random as tg_random

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]


def _generator(generator):
    return generator if generator is not None else tg_random.default_generator()


class Sampler:
    """Base class: iterating gives indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation each pass (or ``num_samples`` draws with ``replacement=True``)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples must be a positive integer, got {self.num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        generator, count = _generator(self.generator), len(self.data_source)
        if self.replacement:
            return iter(generator.integers(0, count, self.num_samples).tolist())
        order = []
        while len(order) < self.num_samples:
            order.extend(generator.permutation(count).tolist())
        return iter(order[:self.num_samples])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def __iter__(self):
        return iter([self.indices[i] for i in _generator(self.generator).permutation(len(self.indices)).tolist()])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, index i drawn with probability weights[i] / sum(weights)
    (with replacement by default; without, each index at most once), as PyTorch's: oversampling rare classes.
    ``weights`` need not sum to 1 (a list, array or 1-D tensor)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples must be a positive integer, got {num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement must be True or False, got {replacement!r}")
        values = weights.detach().numpy() if hasattr(weights, "detach") else weights
        weights = numpy.asarray(values, dtype=numpy.float64)
        if weights.ndim != 1 or not len(weights):
            raise ValueError(f"WeightedRandomSampler: weights must be a non-empty 1-D sequence, got shape "
                             f"{weights.shape}")
        if not numpy.all(numpy.isfinite(weights)) or numpy.any(weights < 0) or not weights.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > numpy.count_nonzero(weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement from "
                             f"{numpy.count_nonzero(weights)} nonzero weights")
        self.weights, self.num_samples = weights, int(num_samples)
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        draws = _generator(self.generator).choice(len(self.weights), self.num_samples, self.replacement,
                                                  self.weights / self.weights.sum())
        return iter(draws.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups ``sampler``'s indices into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        full, rest = divmod(len(self.sampler), self.batch_size)
        return full if self.drop_last or not rest else full + 1
