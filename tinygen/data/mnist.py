"""MNIST: 28 x 28 grayscale handwritten digits (Yann LeCun, Corinna Cortes, Christopher J.C. Burges; CC BY-SA 3.0).

The 10,000-image test split ships inside tinygen (``tinygen/data/bundled/mnist``, 1.6 MB), so
``load_mnist()`` works offline on a fresh install. The 60,000-image training split is fetched once with
``download_mnist()`` (or ``load_mnist("train", download=True)``) into a cache directory:

    root given            -> that directory
    $TINYGEN_DATA set      -> $TINYGEN_DATA/mnist
    $XDG_CACHE_HOME set    -> $XDG_CACHE_HOME/tinygen/mnist
    otherwise              -> ~/.cache/tinygen/mnist

Every file is checked on every load: the md5 the official mirrors publish for the downloaded .gz files,
sha256 and uncompressed md5 for the bundled ones (recompressed upstream, so their .gz md5 differs from the
published one while the uncompressed bytes are the original), then the IDX header and sizes.
"""
import collections
import os
from importlib import resources
from pathlib import Path

from tinygen import creation
from tinygen.backend.dtypes import int64
from tinygen.data.download import download_file
from tinygen.data.idx import IMAGES_MAGIC, LABELS_MAGIC, CorruptDataError, read_idx

#: PyTorch's torchvision fetches from this mirror too; yann.lecun.com is the original home but often refuses.
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"

SplitFiles = collections.namedtuple("SplitFiles", ["images", "labels"])
SPLITS = {
    "train": SplitFiles("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),  # 60,000 images
    "test": SplitFiles("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),  # 10,000 images
}
#: md5 of the .gz files as the official mirrors publish them
PUBLISHED_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
#: the copies shipped in tinygen: (sha256 of the .gz, md5 of the uncompressed IDX bytes)
BUNDLED_CHECKSUMS = {
    "t10k-images-idx3-ubyte.gz": ("167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
                                  "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte.gz": ("fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
                                  "27ae3e4e09519cfbb04c329615203637"),
}
IMAGE_SIZE = 28
NUM_CLASSES = 10

__all__ = ["DEFAULT_MIRROR", "default_root", "download_mnist", "load_mnist"]


def default_root():
    """The directory the training split is cached in when no ``root`` is given (see the module docstring)."""
    if os.environ.get("TINYGEN_DATA"):
        return Path(os.environ["TINYGEN_DATA"]) / "mnist"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "tinygen" / "mnist"


def _check_split(name, split):
    if split not in SPLITS:
        raise ValueError(f"{name}: split must be 'train' or 'test', got {split!r}")
    return SPLITS[split]


def download_mnist(root=None, base_url=DEFAULT_MIRROR, split="train", checksums=None, progress=True, timeout=60.0):
    """Fetch one split's two .gz files from ``base_url`` into ``root`` (default: ``default_root()``); return ``root``.

    Files already there with the right checksum are kept. ``checksums`` maps file names to md5s to expect
    instead of ``PUBLISHED_MD5`` (for a mirror that recompressed the files, or for tests).
    """
    files = _check_split("download_mnist", split)
    root = Path(root) if root is not None else default_root()
    expected = dict(PUBLISHED_MD5, **(checksums or {}))
    for name in files:
        path = root / name
        if path.exists():
            try:
                read_idx(path, file_md5=expected[name])
                continue
            except CorruptDataError:
                path.unlink()  # a damaged copy: fetch it again
        download_file(base_url.rstrip("/") + "/" + name, path, expected[name], progress, timeout)
    return root


def _read_split(split, directory, checksums):
    """(images (N, 28, 28) uint8, labels (N,) uint8) NumPy arrays, checked against each other."""
    files = SPLITS[split]
    images = read_idx(directory / files.images, IMAGES_MAGIC, **checksums[files.images])
    labels = read_idx(directory / files.labels, LABELS_MAGIC, **checksums[files.labels])
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise CorruptDataError(f"{directory / files.images}: holds images of shape {images.shape}, expected (N, 28, 28)")
    if labels.shape != (len(images),) or (labels.size and labels.max() >= NUM_CLASSES):
        raise CorruptDataError(
            f"{directory / files.labels}: expected {len(images)} labels in 0..9, got shape {labels.shape} "
            f"with maximum {labels.max()}"
        )
    return images, labels


def load_mnist(split="test", root=None, download=False, device=None, checksums=None, base_url=DEFAULT_MIRROR):
    """MNIST as tensors on ``device``: images (N, 1, 28, 28) uint8 in [0, 255] and labels (N,) int64 in 0..9.

    ``split="test"`` (the default) reads the 10,000 images bundled with tinygen (``root`` is not used).
    ``split="train"`` reads the 60,000 training images from ``root`` (default: ``default_root()``), fetching
    them first from ``base_url`` if ``download=True``. Scale the images with ``tinygen.data.ScalePixels``
    (to [0, 1] or [-1, 1]).
    ``checksums`` maps training-file names to md5s to expect instead of ``PUBLISHED_MD5``.
    """
    files = _check_split("load_mnist", split)
    if split == "test":
        checksums = {name: dict(file_sha256=sha256, content_md5=md5) for name, (sha256, md5) in BUNDLED_CHECKSUMS.items()}
        with resources.as_file(resources.files("tinygen.data") / "bundled" / "mnist") as directory:
            images, labels = _read_split(split, directory, checksums)
    else:
        root = Path(root) if root is not None else default_root()
        if download:
            download_mnist(root, base_url, checksums=checksums)
        missing = [name for name in files if not (root / name).exists()]
        if missing:
            raise FileNotFoundError(
                f"load_mnist: MNIST's training split is not in {root} (missing {', '.join(missing)}). "
                "Fetch it with load_mnist('train', download=True) or tinygen.data.download_mnist() "
                "(needs internet), or copy the two .gz files there; the test split ships with tinygen"
            )
        expected = dict(PUBLISHED_MD5, **(checksums or {}))
        images, labels = _read_split(split, root, {name: dict(file_md5=expected[name]) for name in files})
    images = creation.tensor(images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE), device=device)
    return images, creation.tensor(labels, dtype=int64, device=device)
