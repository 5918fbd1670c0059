"""``datasets.MNIST``: torchvision's MNIST dataset class over tinygen's MNIST files.

    MNIST(root, train=True, transform=None, target_transform=None, download=False)
    image, label = dataset[i]       # a PIL image (mode "L", 28 x 28) and an int, before the transforms

Where the digits come from:
    train=False  the 10,000 test digits bundled with tinygen (the real MNIST test split, checked).
    train=True   the 60,000 training digits, from the first place that has them:
                 1. ``root/MNIST/raw`` (torchvision's layout: its files, plain or .gz, work as they are),
                 2. tinygen's cache (``tinygen.data.default_root()``, where ``tinygen.data.download_mnist`` puts them),
                 3. with ``download=True``, fetched into ``root/MNIST/raw`` (md5-checked, atomic);
                 otherwise, or when the download fails, the bundled 10,000 test digits, with a one-line warning
                 that says so (training on the test digits is fine for learning, not for reporting test scores).

Files are checked on every load: md5 for the published .gz files, the IDX header and sizes for all.
"""
import os
import warnings
from pathlib import Path

import numpy
from PIL import Image

from tinygen import creation
from tinygen.backend.dtypes import int64, uint8
from tinygen.data import mnist
from tinygen.data.download import DownloadError
from tinygen.data.idx import IMAGES_MAGIC, LABELS_MAGIC, CorruptDataError, read_idx
from tinygen.utils.data.dataset import Dataset

__all__ = ["MNIST"]


def _read_raw_split(directory, prefix, md5s):
    """(images (N, 28, 28), labels (N,)) from ``directory``'s IDX files named ``prefix``-images/labels-..., plain
    or .gz (a .gz with a known md5 is checked against it); ``None`` if a file is missing."""
    arrays = []
    for kind, magic in (("images-idx3-ubyte", IMAGES_MAGIC), ("labels-idx1-ubyte", LABELS_MAGIC)):
        plain = directory / f"{prefix}-{kind}"
        packed = directory / f"{prefix}-{kind}.gz"
        if plain.exists():
            arrays.append(read_idx(plain, magic))
        elif packed.exists():
            arrays.append(read_idx(packed, magic, file_md5=md5s.get(packed.name)))
        else:
            return None
    images, labels = arrays
    if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1] or (labels.size and labels.max() > 9):
        raise CorruptDataError(f"{directory}: the {prefix} files hold images {images.shape} and labels "
                               f"{labels.shape}; expected (N, 28, 28) images and N labels in 0..9")
    return images, labels


class MNIST(Dataset):
    """28 x 28 grayscale digits with their labels; see the module docstring for where they come from."""

    #: where ``download=True`` fetches from, in order
    mirrors = [mnist.DEFAULT_MIRROR]
    #: md5s to expect instead of the published ones (for a mirror serving other files; tests use it)
    checksums = None
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.fspath(os.path.expanduser(root)) if root is not None else None
        self.train, self.transform, self.target_transform = train, transform, target_transform
        images, labels = self._load(download) if train else self._bundled()
        self._images, self._labels = numpy.ascontiguousarray(images), labels.astype(numpy.int64)
        self.data = creation.tensor(self._images, dtype=uint8)
        self.targets = creation.tensor(self._labels, dtype=int64)

    @property
    def raw_folder(self):
        return Path(self.root or ".") / "MNIST" / "raw"

    @property
    def class_to_idx(self):
        return {name: index for index, name in enumerate(self.classes)}

    def _md5s(self):
        return dict(mnist.PUBLISHED_MD5, **(self.checksums or {}))

    def _bundled(self):
        images, labels = mnist.load_mnist("test", device="cpu")
        return images.numpy()[:, 0], labels.numpy()

    def _load(self, download):
        found = _read_raw_split(self.raw_folder, "train", self._md5s())
        if found is None and all((mnist.default_root() / name).exists() for name in mnist.SPLITS["train"]):
            images, labels = mnist.load_mnist("train", device="cpu", checksums=self.checksums)
            found = images.numpy()[:, 0], labels.numpy()
        if found is None and download:
            found = self._download()
        if found is None:
            warnings.warn(
                f"MNIST(train=True): the training split is not in {self.raw_folder} nor in tinygen's cache "
                f"({mnist.default_root()}); using the 10,000 bundled test digits instead"
                + ("" if download else " (download=True fetches the 60,000 training digits)"),
                UserWarning, stacklevel=3)
            return self._bundled()
        return found

    def _download(self):
        """Fetch the training split into ``raw_folder``; ``None`` (after a warning) if no mirror answers."""
        for mirror in self.mirrors:
            try:
                mnist.download_mnist(self.raw_folder, base_url=mirror, checksums=self.checksums, progress=True)
                return _read_raw_split(self.raw_folder, "train", self._md5s())
            except DownloadError as error:
                warnings.warn(f"MNIST: {error}", UserWarning, stacklevel=4)
        return None

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        image = Image.fromarray(self._images[index])  # uint8 (28, 28): mode "L", as torchvision gives
        target = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        split = "Train" if self.train else "Test"
        return (f"Dataset MNIST\n    Number of datapoints: {len(self)}\n    Root location: {self.root}\n"
                f"    Split: {split}")
