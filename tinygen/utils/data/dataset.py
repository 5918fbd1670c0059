"""``Dataset``: the base class of a map-style dataset (``len(dataset)`` and ``dataset[i]`` -> one sample), and
``ConcatDataset``."""
import bisect

__all__ = ["ConcatDataset", "Dataset"]


class Dataset:
    """Subclass it and define ``__getitem__(index)`` (one sample) and ``__len__``, as in PyTorch."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), returning one sample")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(), the number of samples")


class ConcatDataset(Dataset):
    """Several datasets one after another: index ``i`` reaches into the first dataset whose cumulative length
    exceeds it, as PyTorch's ``ConcatDataset``."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected a non-empty sequence of datasets")
        self.cumulative_sizes = []
        for dataset in self.datasets:
            self.cumulative_sizes.append(len(dataset) + (self.cumulative_sizes[-1] if self.cumulative_sizes else 0))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {size} samples")
        index %= size
        part = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][index - start]
