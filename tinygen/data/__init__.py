"""Data: MNIST (its test split ships with tinygen), IDX files, datasets, batching and batch transforms.

    from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist
    images, labels = load_mnist()                          # (10000, 1, 28, 28) uint8, (10000,) int64
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True,
                        transform=ScalePixels(-1.0, 1.0))  # float32 batches in [-1, 1]

Modules: ``idx`` (the file format and its checks), ``download`` (verified, atomic fetching), ``mnist``,
``dataset`` (TensorDataset, Subset, random_split, train_test_split, split_images), ``loader`` (DataLoader),
``transforms``.
This is IO code: it uses NumPy on the host and hands tensors to tinygen on the requested device.
"""
from tinygen.data.dataset import *  # noqa: F401,F403
from tinygen.data.download import *  # noqa: F401,F403
from tinygen.data.idx import *  # noqa: F401,F403
from tinygen.data.loader import *  # noqa: F401,F403
from tinygen.data.mnist import *  # noqa: F401,F403
from tinygen.data.transforms import *  # noqa: F401,F403
from tinygen.data import dataset, download, idx, loader, mnist, transforms

__all__ = dataset.__all__ + download.__all__ + idx.__all__ + loader.__all__ + mnist.__all__ + transforms.__all__
