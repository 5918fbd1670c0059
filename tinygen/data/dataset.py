"""Datasets: indexable collections of samples, and ways to split one for held-out evaluation.

A dataset here is anything with ``len(dataset)`` and ``dataset[indices]``, where ``indices`` is a 1-d NumPy
integer array and the result is a tuple of batched tensors (the ``DataLoader`` asks for whole batches at
once: one gather per tensor instead of a Python loop over samples). An integer index gives one sample.
"""
import math
import numbers

import numpy

from tinygen import random as tg_random
from tinygen.tensor import Tensor

__all__ = ["TensorDataset", "Subset", "random_split", "split_images", "train_test_split"]


class TensorDataset:
    """Samples are the rows of tensors that share their first dimension: ``dataset[i] = (t[i] for t in tensors)``.

        images, labels = tinygen.data.load_mnist()
        dataset = TensorDataset(images, labels)      # len 10000; dataset[idx] = (images[idx], labels[idx])
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor) or tensor.ndim == 0:
                got = "a 0-d tensor" if isinstance(tensor, Tensor) else type(tensor).__name__
                raise TypeError(
                    f"TensorDataset: argument {position} must be a tensor with a first (sample) dimension, got {got}"
                )
        lengths = [len(tensor) for tensor in tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: tensors must have one length (first dimension), got shapes "
                             f"{[tensor.shape for tensor in tensors]}")
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)


class Subset:
    """The samples of ``dataset`` at ``indices`` (in that order)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]


def _split_lengths(lengths, total):
    """Integer lengths summing to ``total``; fractions summing to 1 are floored and the remainder handed out
    one by one from the first (as PyTorch's ``random_split``)."""
    lengths = list(lengths)
    if all(isinstance(length, numbers.Integral) for length in lengths):
        if any(length < 0 for length in lengths) or sum(lengths) != total:
            raise ValueError(f"random_split: lengths {lengths} must be non-negative and add up to the dataset's {total}")
        return [int(length) for length in lengths]
    if any(not 0 <= length <= 1 for length in lengths) or not math.isclose(sum(lengths), 1.0):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and add up to 1")
    counts = [math.floor(total * fraction) for fraction in lengths]
    for position in range(total - sum(counts)):
        counts[position % len(counts)] += 1
    return counts


def random_split(dataset, lengths, generator=None):
    """Disjoint random subsets covering ``dataset``, of the given sizes (counts, or fractions summing to 1).

    The shuffle draws from ``generator``'s host stream (default: tinygen's default generator), so
    ``tinygen.manual_seed`` or a seeded ``Generator`` makes the split reproducible.
    """
    counts = _split_lengths(lengths, len(dataset))
    order = (generator or tg_random.default_generator()).permutation(len(dataset))
    bounds = numpy.cumsum([0] + counts)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]


def train_test_split(dataset, test_size=0.1, generator=None):
    """``(train, test)`` subsets: ``test_size`` is a fraction in (0, 1) or a number of samples."""
    total = len(dataset)
    test_count = round(total * test_size) if isinstance(test_size, float) else test_size
    if not isinstance(test_count, numbers.Integral) or not 0 < test_count < total:
        raise ValueError(
            f"train_test_split: test_size {test_size!r} leaves {test_count!r} of {total} samples for testing; "
            "both parts must be non-empty"
        )
    train, test = random_split(dataset, [total - test_count, test_count], generator)
    return train, test


def split_images(images, labels, eval_size):
    """``((train_images, train_labels), (eval_images, eval_labels))``: the last ``eval_size`` are held out.

    Not random, so that training runs and the judge classifier are all measured on the same unseen digits."""
    if not 0 < eval_size < images.shape[0]:
        raise ValueError(f"eval_size must be between 1 and {images.shape[0] - 1}, got {eval_size}")
    cut = images.shape[0] - eval_size
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])
