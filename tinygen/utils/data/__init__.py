"""``tinygen.utils.data``: PyTorch's data API, for scripts written against ``torch.utils.data``.

    train_set = tinygen.vision.datasets.MNIST("data", train=True, transform=transforms.ToTensor())
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    for images, labels in loader:          # [images (64, 1, 28, 28) float32, labels (64,) int64]
        ...

A dataset is anything with ``len(dataset)`` and ``dataset[i]`` (one sample); the loader picks indices
(``sampler``), groups them (``batch_sampler``), fetches the samples and joins them with ``collate_fn``
(``default_collate``: tensors stacked, numbers made tensors, tuples/dicts kept), as PyTorch does.

How it relates to ``tinygen.data``: ``tinygen.data.DataLoader`` is the fast loader tinygen's own training loop
uses: it asks a dataset for a whole batch at once (``dataset[index_array]``, one gather per tensor), delivers
it to a device, applies batch transforms there and shuffles reproducibly per (seed, epoch) so a run can
resume mid-epoch. This loader keeps PyTorch's per-sample contract, and where the dataset can gather whole
batches (``TensorDataset`` and ``Subset``s of it, shared with ``tinygen.data``) it takes the same one-gather
path, with the same result as fetching and collating sample by sample. ``num_workers`` is accepted; the
samples are always loaded in the main process (no worker processes), and ``pin_memory`` has no effect.
"""
from tinygen.data.dataset import Subset, TensorDataset, random_split  # noqa: F401
from tinygen.utils.data.collate import default_collate, default_convert  # noqa: F401
from tinygen.utils.data.dataset import ConcatDataset, Dataset  # noqa: F401
from tinygen.utils.data.loader import DataLoader  # noqa: F401
from tinygen.utils.data.sampler import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",
    "random_split",
]

from tinygen.missing_names import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("utils.data")
