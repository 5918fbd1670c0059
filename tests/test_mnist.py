"""MNIST: the bundled test split, the training-split cache, and downloads from a server on 127.0.0.1
(never the internet): a good download, a corrupt file, a cut connection, a missing file."""
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

import tinygen as tg
from tinygen.data import CorruptDataError, DownloadError, download_mnist, encode_idx, load_mnist
from tinygen.data import mnist

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


def fake_training_files(count=50, seed=0):
    """Valid gzipped IDX files for a small stand-in training split: {name: bytes}, and their md5s."""
    rng = np.random.default_rng(seed)
    arrays = (rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), rng.integers(0, 10, count, dtype=np.uint8))
    files = {name: gzip.compress(encode_idx(array)) for name, array in zip(TRAIN_FILES, arrays)}
    return files, {name: hashlib.md5(data).hexdigest() for name, data in files.items()}, arrays


class FileServer:
    """An HTTP server on 127.0.0.1 serving ``files`` ({name: bytes}); a name in ``cut`` gets its full
    Content-Length but only half its bytes before the connection closes. ``requests`` logs the paths asked for."""

    def __init__(self):
        self.files, self.cut, self.requests = {}, set(), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append(self.path)
                if name not in server.files:
                    self.send_error(404)
                    return
                data = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if name in server.cut else data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = FileServer()
    yield running
    running.close()


def leftovers(directory):
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


# --- the bundled test split ----------------------------------------------------------------------------

def test_bundled_test_split_loads_offline():
    images, labels = load_mnist()
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == tg.uint8
    assert labels.shape == (10_000,) and labels.dtype == tg.int64
    assert images.device == tg.get_default_device() == labels.device
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    pixels = images.numpy()
    assert pixels.min() == 0 and pixels.max() == 255 and 30 < pixels.mean() < 40  # mostly black background
    counts = np.bincount(labels.numpy(), minlength=10)
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_mnist_puts_tensors_on_the_requested_device():
    other = "strict" if tg.get_default_device() != "strict" else "cpu"
    images, labels = load_mnist(device=other)
    assert images.device == labels.device == other


def test_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation")


def test_default_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGEN_DATA", str(tmp_path / "data"))
    assert mnist.default_root() == tmp_path / "data" / "mnist"
    monkeypatch.delenv("TINYGEN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert mnist.default_root() == tmp_path / "cache" / "tinygen" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.default_root() == tmp_path / "home" / ".cache" / "tinygen" / "mnist"


# --- the training split from a cache directory ---------------------------------------------------------

def test_missing_training_split_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not in .*missing train-images-idx3-ubyte\.gz.*download=True"):
        load_mnist("train", root=tmp_path)


def test_training_split_is_read_and_verified_from_root(tmp_path):
    files, md5s, (images, labels) = fake_training_files()
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    loaded_images, loaded_labels = load_mnist("train", root=tmp_path, checksums=md5s)
    np.testing.assert_array_equal(loaded_images.numpy()[:, 0], images)
    np.testing.assert_array_equal(loaded_labels.numpy(), labels)
    with pytest.raises(CorruptDataError, match=r"train-images-idx3-ubyte\.gz: md5 of the file is .*, expected f68b3c2d"):
        load_mnist("train", root=tmp_path)  # the real split's published checksums


# --- downloads from the loopback server ----------------------------------------------------------------

def test_download_fetches_verifies_and_then_loads(server, tmp_path):
    files, md5s, (images, _) = fake_training_files()
    server.files.update(files)
    root = tmp_path / "cache" / "mnist"
    assert download_mnist(root, base_url=server.url, checksums=md5s, progress=True) == root
    assert leftovers(root) == sorted(TRAIN_FILES)
    assert sorted(server.requests) == sorted("/mnist/" + name for name in TRAIN_FILES)
    np.testing.assert_array_equal(load_mnist("train", root=root, checksums=md5s)[0].numpy()[:, 0], images)

    download_mnist(root, base_url=server.url, checksums=md5s, progress=False)  # already there: nothing fetched
    assert len(server.requests) == 2


def test_load_mnist_can_download(server, tmp_path):
    files, md5s, _ = fake_training_files()
    server.files.update(files)
    images, labels = load_mnist("train", root=tmp_path, download=True, checksums=md5s, base_url=server.url)
    assert images.shape == (50, 1, 28, 28) and labels.shape == (50,)


def test_a_damaged_cached_file_is_fetched_again(server, tmp_path):
    files, md5s, _ = fake_training_files()
    server.files.update(files)
    (tmp_path / TRAIN_FILES[0]).write_bytes(b"not what it should be")
    download_mnist(tmp_path, base_url=server.url, checksums=md5s, progress=False)
    assert (tmp_path / TRAIN_FILES[0]).read_bytes() == files[TRAIN_FILES[0]]


def test_corrupt_download_is_rejected_and_leaves_nothing(server, tmp_path):
    files, md5s, _ = fake_training_files()
    damaged = bytearray(files[TRAIN_FILES[0]])
    damaged[100] ^= 0xFF
    server.files.update(files)
    server.files[TRAIN_FILES[0]] = bytes(damaged)
    with pytest.raises(CorruptDataError, match=r"train-images-idx3-ubyte\.gz: the downloaded file has md5 .*not kept"):
        download_mnist(tmp_path, base_url=server.url, checksums=md5s, progress=False)
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(server, tmp_path):
    files, md5s, _ = fake_training_files()
    server.files.update(files)
    server.cut.add(TRAIN_FILES[0])
    with pytest.raises(DownloadError, match=r"closed after \d+ of \d+ bytes \(download interrupted\)"):
        download_mnist(tmp_path, base_url=server.url, checksums=md5s, progress=False)
    assert leftovers(tmp_path) == []


def test_missing_file_on_the_mirror_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match=r"could not download http://127\.0\.0\.1:\d+/mnist/train-images.*Not Found"):
        download_mnist(tmp_path, base_url=server.url, progress=False)
    assert leftovers(tmp_path) == []


def test_unreachable_mirror_is_a_download_error(tmp_path):
    closed = FileServer()
    url = closed.url
    closed.close()  # nothing listens on that port any more
    with pytest.raises(DownloadError, match="could not download"):
        download_mnist(tmp_path, base_url=url, progress=False, timeout=5.0)
    assert leftovers(tmp_path) == []
