"""Reading IDX files, the format MNIST ships in, and checking that they are intact.

An IDX file is a big-endian header followed by the raw values:

    bytes 0-1   zero
    byte  2     value type (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)
    byte  3     number of dimensions d
    then        d sizes, each a 4-byte big-endian unsigned int
    then        prod(sizes) values, row-major

Read as one 4-byte integer, the first four bytes are the "magic number": 2051 (0x00000803) for a stack of
images (unsigned bytes, 3 dimensions), 2049 (0x00000801) for a vector of labels. MNIST's files are gzipped.

Every problem (a broken gzip stream, a checksum that doesn't match, a wrong magic number, fewer or more bytes
than the header declares) is a ``CorruptDataError`` naming the file and what is wrong.
"""
import gzip
import hashlib
import math
import zlib
from pathlib import Path

import numpy

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_MAGIC_NAMES = {IMAGES_MAGIC: "IDX images", LABELS_MAGIC: "IDX labels"}
_VALUE_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

__all__ = ["CorruptDataError", "IMAGES_MAGIC", "LABELS_MAGIC", "encode_idx", "file_digest", "parse_idx", "read_idx"]


class CorruptDataError(ValueError):
    """A data file is damaged or not what it claims to be (bad gzip, checksum, header or size)."""


def file_digest(data, algorithm):
    """The hex digest (``"md5"``, ``"sha256"`` ...) of ``data`` (bytes)."""
    return hashlib.new(algorithm, data).hexdigest()


def _check_digest(source, data, algorithm, expected, what):
    if expected is not None and file_digest(data, algorithm) != expected.lower():
        raise CorruptDataError(
            f"{source}: {algorithm} of the {what} is {file_digest(data, algorithm)}, expected {expected}; "
            "the file is damaged or a different file (delete it and fetch it again)"
        )


def _gunzip(data, source):
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError; a cut-off stream is an EOFError
        raise CorruptDataError(f"{source}: not a valid gzip file ({error}); it is damaged or truncated") from None


def _describe_magic(magic):
    return f"{magic} ({_MAGIC_NAMES[magic]})" if magic in _MAGIC_NAMES else f"{magic} (0x{magic:08x})"


def parse_idx(content, source="<bytes>", expected_magic=None):
    """The array stored in the uncompressed IDX bytes ``content`` (native byte order, a writable copy).

    ``expected_magic`` (e.g. ``IMAGES_MAGIC``) makes any other kind of IDX file an error. ``source`` names
    the data in error messages.
    """
    if len(content) < 4:
        raise CorruptDataError(f"{source}: {len(content)} bytes is too short for an IDX header")
    magic = int.from_bytes(content[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise CorruptDataError(
            f"{source}: magic number {_describe_magic(magic)}, expected {_describe_magic(expected_magic)}"
        )
    value_type, ndim = content[2], content[3]
    if content[0] or content[1] or value_type not in _VALUE_TYPES or ndim == 0:
        raise CorruptDataError(f"{source}: magic number {_describe_magic(magic)} is not a valid IDX header")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise CorruptDataError(
            f"{source}: the header declares {ndim} dimensions but the file ends after {len(content)} bytes"
        )
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = numpy.dtype(_VALUE_TYPES[value_type])
    declared = math.prod(shape) * dtype.itemsize
    actual = len(content) - header_size
    if actual != declared:
        problem = "truncated" if actual < declared else f"{actual - declared} extra bytes at the end"
        raise CorruptDataError(
            f"{source}: the header declares shape {' x '.join(map(str, shape))} = {declared} bytes of data "
            f"but the file holds {actual} ({problem})"
        )
    values = numpy.frombuffer(content, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def encode_idx(array):
    """The IDX bytes (uncompressed) holding the NumPy ``array``: the inverse of ``parse_idx``."""
    array = numpy.asarray(array)
    codes = {numpy.dtype(code).newbyteorder("="): value_type for value_type, code in _VALUE_TYPES.items()}
    if array.dtype not in codes or array.ndim == 0:
        raise ValueError(f"encode_idx: IDX stores arrays of >= 1 dimension of {sorted(map(str, codes))}, "
                         f"got {array.ndim} dimensions of {array.dtype}")
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def read_idx(path, expected_magic=None, file_sha256=None, file_md5=None, content_md5=None):
    """The array in the IDX file ``path`` (gunzipped first if its name ends in ``.gz``).

    Checksums are verified when given: ``file_sha256`` / ``file_md5`` of the file as stored (the .gz),
    ``content_md5`` of the uncompressed IDX bytes. A missing file is a ``FileNotFoundError``.
    """
    path = Path(path)
    data = path.read_bytes()
    _check_digest(path, data, "sha256", file_sha256, "file")
    _check_digest(path, data, "md5", file_md5, "file")
    content = _gunzip(data, path) if path.suffix == ".gz" else data
    _check_digest(path, content, "md5", content_md5, "uncompressed content")
    return parse_idx(content, path, expected_magic)
