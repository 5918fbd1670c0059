"""``default_collate``: a list of samples -> one batch, by PyTorch's rules, applied recursively.

    tensors              -> stacked along a new first dimension (same shape required)
    NumPy arrays/scalars -> stacked into one tensor
    floats / ints / bools-> a float64 / int64 / bool tensor
    strings, bytes       -> the list as it is
    dicts                -> a dict of collated values, key by key
    tuples and lists     -> a list with one collated entry per position (a namedtuple stays one)
"""
import collections.abc
import numbers

import numpy

from tinygen.backend.dtypes import float64
from tinygen.creation import tensor
from tinygen.ops.shape import stack
from tinygen.tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def default_collate(batch):
    """Join the samples in ``batch`` (a list) into one batch; see the module docstring."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {batch!r}")
    first = batch[0]
    if isinstance(first, Tensor):
        shapes = {sample.shape for sample in batch}
        if len(shapes) != 1:
            raise RuntimeError(f"default_collate: the samples' tensors differ in shape ({sorted(shapes)}), so they "
                               "cannot be stacked into one batch; resize them or pass your own collate_fn")
        return stack(batch)
    if isinstance(first, numpy.ndarray):
        if first.dtype.kind not in "fiub":
            raise TypeError(f"default_collate: cannot make a tensor of NumPy dtype {first.dtype}")
        return tensor(numpy.stack(batch))
    if isinstance(first, numpy.generic):
        return tensor(numpy.array(batch))
    if isinstance(first, float):
        return tensor(batch, dtype=float64)
    if isinstance(first, numbers.Integral):  # ints and bools
        return tensor(batch)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in first}
        try:
            return type(first)(collated)
        except TypeError:
            return collated
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if len({len(sample) for sample in batch}) != 1:
            raise RuntimeError("default_collate: each sample in the batch should have the same number of entries")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(first)} (convert it in the dataset's transform, e.g. transforms.ToTensor())")


def default_convert(sample):
    """One sample, unbatched (``batch_size=None``): NumPy arrays become tensors, containers are walked."""
    if isinstance(sample, numpy.ndarray) and sample.dtype.kind in "fiub":
        return tensor(sample)
    if isinstance(sample, collections.abc.Mapping):
        return type(sample)({key: default_convert(value) for key, value in sample.items()})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (list, tuple)):
        return [default_convert(value) for value in sample]
    return sample
