"""``Dataset``: the base class of a map-style dataset (``len(dataset)`` and ``dataset[i]`` -> one sample)."""

__all__ = ["Dataset"]


class Dataset:
    """Subclass it and define ``__getitem__(index)`` (one sample) and ``__len__``, as in PyTorch."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), returning one sample")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(), the number of samples")
