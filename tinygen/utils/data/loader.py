"""``DataLoader`` with PyTorch's arguments: samples fetched one by one and collated, or gathered per batch where
the dataset can (see the package docstring for how this relates to ``tinygen.data.DataLoader``)."""
import numbers

import numpy

from tinygen.data.dataset import Subset, TensorDataset
from tinygen.utils.data.collate import default_collate, default_convert
from tinygen.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]


def gathers_batches(dataset):
    """True if ``dataset[index_array]`` gives a whole batch, equal to collating ``dataset[i]`` one by one."""
    if isinstance(dataset, Subset):
        return gathers_batches(dataset.dataset)
    return type(dataset) is TensorDataset


class DataLoader:
    """Batches of ``dataset``: ``for batch in loader`` gives ``collate_fn([dataset[i] for i in indices])``.

    batch_size, shuffle, drop_last: as in PyTorch (``shuffle`` draws a new order each epoch from ``generator``,
    else the default generator). sampler / batch_sampler: your own index order or grouping. collate_fn: how
    samples are joined (``default_collate``). num_workers, pin_memory, timeout, worker_init_fn,
    prefetch_factor, persistent_workers: accepted; loading runs in the main process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: the dataset must have __getitem__ and __len__, got {type(dataset).__name__}")
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the sampler sets the order)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                                         or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = int(num_workers), pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor, self.persistent_workers = worker_init_fn, prefetch_factor, \
            persistent_workers
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)

    def __iter__(self):
        if self.batch_sampler is None:  # batch_size=None: single samples, converted but not batched
            return (self.collate_fn(self.dataset[index]) for index in self.sampler)
        return (self._fetch(indices) for indices in self.batch_sampler)

    def _fetch(self, indices):
        if self.collate_fn is default_collate and gathers_batches(self.dataset):
            return list(self.dataset[numpy.asarray(indices, dtype=numpy.int64)])
        if hasattr(self.dataset, "__getitems__"):
            return self.collate_fn(self.dataset.__getitems__(list(indices)))
        return self.collate_fn([self.dataset[index] for index in indices])

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __repr__(self):
        return f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size})"
