"""Checkpoints: ``save(obj, path)`` and ``load(path)`` for state dicts and the plain data around them.

    tinygen.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    checkpoint = tinygen.load("ckpt.npz", map_location="cpu")

The file name is yours to choose: ``tinygen.save(netG.state_dict(), "netG.pth")`` writes the same safe format
(PyTorch's habit of ``.pth``/``.pt`` names carries over; the contents do not: loading a file that PyTorch's
``torch.save`` wrote is refused with the one line that converts it).

A checkpoint is one NumPy ``.npz`` archive, readable without tinygen or a GPU: one array entry per tensor
(copied to the host first) and one entry, ``tinygen_structure``, holding JSON that describes the nesting
of dicts, lists, tuples, numbers, strings, bools and ``None`` around them, and which tensors require grad
(they load as leaves that do, as after ``torch.load``). Nothing is pickled, and loading
never unpickles (``allow_pickle=False``), so a checkpoint from a stranger cannot run code.

Writing is atomic: the archive goes to a temporary file in the same directory, is flushed to disk, and
then replaces ``path`` in one step, so a crash mid-save leaves the previous checkpoint intact.

Reading checks before it reads: only a regular file is opened (a FIFO or a device would hang the reader), it
must be a zip archive, and the sizes its entries declare must add up to at most ``max_bytes`` (default:
``INFLATION`` times the file's size, and at least ``MIN_LIMIT``; ``save`` stores entries uncompressed, so its
own files never come near that) and match each array's own header, so a small file that claims gigabytes is
refused before a byte of it is inflated.
"""
import collections
import io
import json
import math
import os
import zipfile

import numpy

from tinygen import backend as backends
from tinygen.files import atomic_write, open_regular_file
from tinygen.tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "tinygen-checkpoint"
VERSION = 1
STRUCTURE_ENTRY = "tinygen_structure"
#: what a checkpoint may inflate to by default: this many times its size on disk, ...
INFLATION = 4
#: ... and at least this many bytes (a small file of compressed zeros may be a legitimate state)
MIN_LIMIT = 64 * 2**20
#: nesting deeper than this is refused by ``save`` (a checkpoint is a shallow tree of dicts and lists)
MAX_DEPTH = 100


class CheckpointError(ValueError):
    """A file that is not a readable tinygen checkpoint (corrupt, truncated, foreign, or holding pickled data)."""


# --- describing the structure ------------------------------------------------------------------------------

def _describe(value, arrays, where, open_containers=()):
    """A JSON-able description of ``value``; tensors are appended to ``arrays`` and referred to by entry name.

    ``open_containers`` holds the ids of the lists, tuples and dicts that enclose ``value``: meeting one again
    is a cycle, which no file can hold."""
    if isinstance(value, (list, tuple, dict)):
        if id(value) in open_containers:
            raise ValueError(f"save: the {type(value).__name__} at {where} contains itself; a checkpoint holds a "
                             "tree of values, without cycles")
        if len(open_containers) >= MAX_DEPTH:
            raise ValueError(f"save: the value at {where} is nested more than {MAX_DEPTH} levels deep")
        open_containers = open_containers + (id(value),)
    if isinstance(value, Tensor):
        name = f"tensor_{len(arrays)}"
        arrays[name] = value.backend.to_numpy(value.array)
        return {"tensor": name, "requires_grad": True} if value.requires_grad else {"tensor": name}
    if isinstance(value, numpy.generic) and value.dtype.kind in "biuf":  # np.float32(0.5), np.int64(3): as numbers
        return _describe(value.item(), arrays, where, open_containers)
    if value is None or isinstance(value, (bool, str)):
        return {"value": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": repr(float(value))}  # repr round-trips exactly, inf and nan included
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_describe(item, arrays, f"{where}[{position}]", open_containers)
                       for position, item in enumerate(value)]}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: dict keys must be strings or integers, got {key!r} at {where}")
            items.append([key, _describe(item, arrays, f"{where}[{key!r}]", open_containers)])
        kind = "ordered_dict" if isinstance(value, collections.OrderedDict) else "dict"
        return {kind: items}
    hint = ("; save its state_dict() and load that into a new instance (tinygen stores values, not objects)"
            if callable(getattr(value, "state_dict", None)) else "")
    raise TypeError(
        f"save: cannot store a {type(value).__module__}.{type(value).__name__} at {where}; checkpoints hold "
        f"tensors, dicts, lists, tuples, Python numbers, strings, bools and None{hint}"
    )


def _rebuild(description, archive, backend):
    """The value ``description`` stands for, reading tensors from ``archive`` onto ``backend``."""
    description = dict(description)
    requires_grad = description.pop("requires_grad", False) is True  # kept, as PyTorch's save keeps it
    (kind, content), = description.items()
    if kind == "tensor":
        array = archive[content]
        if array.dtype.kind not in "fiub":
            raise _Unreadable(f"its entry {content!r} has dtype {array.dtype}, which no tensor has")
        return Tensor._make(backend.asarray(array), backend, requires_grad and array.dtype.kind == "f")
    if kind == "value":
        return content
    if kind == "int":
        return int(content)
    if kind == "float":
        return float(content)
    if kind in ("list", "tuple"):
        items = [_rebuild(item, archive, backend) for item in content]
        return items if kind == "list" else tuple(items)
    if kind in ("dict", "ordered_dict"):
        mapping = collections.OrderedDict() if kind == "ordered_dict" else {}
        for key, item in content:
            mapping[key] = _rebuild(item, archive, backend)
        return mapping
    raise _Unreadable(f"its structure has an unknown kind {kind!r}")


# --- saving ----------------------------------------------------------------------------------------------

def save(obj, path):
    """Write ``obj`` (tensors nested in dicts/lists/tuples with plain Python values) to ``path``, atomically; or
    into a binary file object (``io.BytesIO()``), as it is."""
    arrays = {}
    structure = {"format": FORMAT, "version": VERSION, "root": _describe(obj, arrays, "the top level")}
    arrays[STRUCTURE_ENTRY] = numpy.array(json.dumps(structure))
    if hasattr(path, "write"):
        numpy.savez(path, **arrays)
        return
    atomic_write(path, lambda file: numpy.savez(file, **arrays))


# --- loading ---------------------------------------------------------------------------------------------

def load(path, map_location=None, max_bytes=None, weights_only=True):
    """Read a checkpoint written by ``save``; tensors go to ``map_location`` (a device; default: the default device).
    ``weights_only`` is accepted as PyTorch spells it: tinygen never unpickles, so loading is always weights only.

    A file that is not a tinygen checkpoint, is truncated or corrupt, holds pickled data, is not a regular file,
    or would inflate to more than ``max_bytes`` (see the module docstring for the default) raises
    ``CheckpointError`` naming ``path``.
    """
    if callable(map_location) or isinstance(map_location, dict):
        raise TypeError(
            f"load: map_location as a {'function' if callable(map_location) else 'dict'} remaps PyTorch's storages "
            "one by one; tinygen loads every tensor onto one device: pass a device, e.g. map_location='cpu' "
            "(what 'lambda storage, loc: storage' asks for)"
        )
    backend = backends.get_backend(map_location)
    if hasattr(path, "read"):  # a binary file object (io.BytesIO): read whole, then checked as a file is
        data = path.read()
        try:
            return _read(io.BytesIO(data), backend, max_bytes, len(data))
        except Exception as error:
            raise CheckpointError(f"load: the file object is not a readable tinygen checkpoint: {_explain(error)}") \
                from None
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}")
    try:
        file = open_regular_file(path, what="checkpoint")
    except ValueError as error:
        raise CheckpointError(f"load: {error}") from None
    try:
        with file:
            return _read(file, backend, max_bytes)
    except Exception as error:
        raise CheckpointError(f"load: {path!r} is not a readable tinygen checkpoint: {_explain(error)}") from None


class _Unreadable(ValueError):
    """Why a file is not a checkpoint, in words ready for the user."""


#: what to do with a checkpoint written by PyTorch's ``torch.save`` (a zip holding ``data.pkl``, or a bare pickle)
PYTORCH_FILE = (
    "it was written by PyTorch's torch.save, which stores pickled Python objects, and tinygen never unpickles "
    "(unpickling can run arbitrary code). Convert it once where PyTorch is installed: "
    "state = torch.load(path, map_location='cpu', weights_only=True); "
    "tinygen.save({name: tinygen.tensor(value.numpy()) for name, value in state.items()}, 'converted.pth')"
)

#: how PyTorch's legacy (pre-zip) format begins: a protocol-2 pickle of its magic number 0x1950a86a20f9469cfc6c
PYTORCH_LEGACY_START = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def _read(file, backend, max_bytes, size=None):
    if file.read(len(PYTORCH_LEGACY_START)) == PYTORCH_LEGACY_START:
        raise _Unreadable(PYTORCH_FILE)
    file.seek(0)
    if not zipfile.is_zipfile(file):
        raise _Unreadable("it is not a whole .npz (zip) archive: cut short (a copy or a disk that ran out) or "
                          "another kind of file")
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        _check_sizes(archive, os.fstat(file.fileno()).st_size if size is None else size, max_bytes)
    file.seek(0)
    with numpy.load(file, allow_pickle=False) as archive:
        if STRUCTURE_ENTRY not in archive.files and any(name.endswith("data.pkl") for name in archive.files):
            raise _Unreadable(PYTORCH_FILE)
        if STRUCTURE_ENTRY not in archive.files:
            raise _Unreadable(f"it has no {STRUCTURE_ENTRY!r} entry, so it was not written by tinygen.save")
        structure = json.loads(str(archive[STRUCTURE_ENTRY][()]))
        if not isinstance(structure, dict) or structure.get("format") != FORMAT or structure.get("version") != VERSION:
            found = structure if isinstance(structure, dict) else {}
            raise _Unreadable(
                f"its structure entry names format {found.get('format')!r} version "
                f"{found.get('version')!r}; this tinygen reads {FORMAT!r} version {VERSION}"
            )
        return _rebuild(structure["root"], archive, backend)


_HEADER_READERS = {(1, 0): numpy.lib.format.read_array_header_1_0, (2, 0): numpy.lib.format.read_array_header_2_0}


def _check_sizes(archive, file_size, max_bytes):
    """Refuse, from the zip's headers alone, an archive that would inflate to more than the limit, and an array
    entry whose own header declares more data than the entry holds."""
    limit = max(INFLATION * file_size, MIN_LIMIT) if max_bytes is None else max_bytes
    entries = archive.infolist()
    total = sum(entry.file_size for entry in entries)
    if total > limit:
        raise _Unreadable(
            f"its entries would inflate to {total:,} bytes from {file_size:,} on disk, over the limit of {limit:,} "
            "(tinygen.load(path, max_bytes=...) reads a larger one you trust)"
        )
    for entry in entries:
        if not entry.filename.endswith(".npy"):
            continue
        with archive.open(entry) as member:
            read_header = _HEADER_READERS.get(numpy.lib.format.read_magic(member))
            if read_header is None:
                continue  # another .npy version: numpy.load checks it
            shape, _, dtype = read_header(member)
            declared = math.prod(shape) * dtype.itemsize
            if not dtype.hasobject and declared > entry.file_size - member.tell():
                raise _Unreadable(f"its entry {entry.filename!r} declares {declared:,} bytes of {dtype} data "
                                  f"but holds {entry.file_size - member.tell():,}")


def _explain(error):
    message = str(error)
    if isinstance(error, _Unreadable):
        return message
    if "allow_pickle" in message:
        return "it holds pickled Python objects, which tinygen refuses to load (unpickling can run arbitrary code)"
    return f"{message} ({type(error).__name__}; the file may be truncated or corrupt)"
