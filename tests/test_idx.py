"""IDX files: round trips, the bundled MNIST files, and a clear error for every kind of damage."""
import gzip
import hashlib
from importlib import resources

import numpy as np
import pytest

from tinygen.data import IMAGES_MAGIC, LABELS_MAGIC, CorruptDataError, encode_idx, parse_idx, read_idx
from tinygen.data.mnist import BUNDLED_CHECKSUMS

BUNDLED = resources.files("tinygen.data") / "bundled" / "mnist"


def images(count=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


def write(path, content, compress=True):
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_encode_and_parse_round_trip(dtype):
    array = (np.arange(2 * 3 * 4).reshape(2, 3, 4) - 7).astype(dtype)
    parsed = parse_idx(encode_idx(array))
    assert parsed.dtype == array.dtype and parsed.shape == array.shape
    np.testing.assert_array_equal(parsed, array)
    assert parsed.flags.writeable


def test_magic_numbers_are_mnists():
    assert int.from_bytes(encode_idx(images())[:4], "big") == IMAGES_MAGIC == 2051
    assert int.from_bytes(encode_idx(np.zeros(5, np.uint8))[:4], "big") == LABELS_MAGIC == 2049


def test_read_idx_gzipped_and_plain(tmp_path):
    array = images()
    np.testing.assert_array_equal(read_idx(write(tmp_path / "a-idx3-ubyte.gz", encode_idx(array)), IMAGES_MAGIC), array)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "a-idx3-ubyte", encode_idx(array), compress=False)), array)


def test_bundled_files_pass_their_checksums():
    for name, (sha256, md5) in BUNDLED_CHECKSUMS.items():
        magic = IMAGES_MAGIC if "images" in name else LABELS_MAGIC
        array = read_idx(BUNDLED / name, magic, file_sha256=sha256, content_md5=md5)
        assert len(array) == 10_000


# --- damage --------------------------------------------------------------------------------------------

def test_corrupt_gzip_stream_is_an_error_naming_the_file(tmp_path):
    data = bytearray(gzip.compress(encode_idx(images())))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "flipped.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptDataError, match=r"flipped\.gz: not a valid gzip file"):
        read_idx(path)


def test_truncated_gzip_is_an_error(tmp_path):
    data = gzip.compress(encode_idx(images()))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match=r"cut\.gz: not a valid gzip file.*truncated"):
        read_idx(path)


def test_a_gz_name_on_plain_bytes_is_an_error(tmp_path):
    with pytest.raises(CorruptDataError, match="not a valid gzip file"):
        read_idx(write(tmp_path / "plain.gz", encode_idx(images()), compress=False))


def test_wrong_magic_is_an_error_naming_both(tmp_path):
    labels = write(tmp_path / "labels.gz", encode_idx(np.arange(10, dtype=np.uint8)))
    expected = r"labels\.gz: magic number 2049 \(IDX labels\), expected 2051 \(IDX images\)"
    with pytest.raises(CorruptDataError, match=expected):
        read_idx(labels, IMAGES_MAGIC)


def test_garbage_header_is_an_error(tmp_path):
    with pytest.raises(CorruptDataError, match=r"magic number .*0x89504e47.* not a valid IDX header"):
        read_idx(write(tmp_path / "png.gz", b"\x89PNG\r\n\x1a\n" + bytes(100)))
    with pytest.raises(CorruptDataError, match="too short for an IDX header"):
        read_idx(write(tmp_path / "tiny.gz", b"\x00\x00"))
    with pytest.raises(CorruptDataError, match="declares 3 dimensions but the file ends after 8 bytes"):
        read_idx(write(tmp_path / "header.gz", encode_idx(images())[:8]))


def test_missing_and_extra_bytes_are_errors(tmp_path):
    content = encode_idx(images(count=3))
    with pytest.raises(CorruptDataError, match=r"3 x 28 x 28 = 2352 bytes of data but the file holds 2000 \(truncated\)"):
        read_idx(write(tmp_path / "short.gz", content[: 16 + 2000]))
    with pytest.raises(CorruptDataError, match="5 extra bytes at the end"):
        read_idx(write(tmp_path / "long.gz", content + bytes(5)))


def test_checksum_mismatches_are_errors(tmp_path):
    content = encode_idx(images())
    path = write(tmp_path / "ok.gz", content)
    stored = path.read_bytes()
    read_idx(path, file_sha256=hashlib.sha256(stored).hexdigest(), file_md5=hashlib.md5(stored).hexdigest(),
             content_md5=hashlib.md5(content).hexdigest())
    with pytest.raises(CorruptDataError, match=r"ok\.gz: sha256 of the file is [0-9a-f]{64}, expected 0{64}"):
        read_idx(path, file_sha256="0" * 64)
    with pytest.raises(CorruptDataError, match="md5 of the file"):
        read_idx(path, file_md5="0" * 32)
    with pytest.raises(CorruptDataError, match="md5 of the uncompressed content"):
        read_idx(path, content_md5=hashlib.md5(stored).hexdigest())


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.gz")


def test_encode_idx_rejects_what_idx_cannot_hold():
    with pytest.raises(ValueError, match="encode_idx"):
        encode_idx(np.zeros(3, dtype=np.uint16))
    with pytest.raises(ValueError, match="encode_idx"):
        encode_idx(np.uint8(3))
