"""Checkpoints: ``save(obj, path)`` and ``load(path)`` for state dicts and the plain data around them.

    tinygen.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    checkpoint = tinygen.load("ckpt.npz", map_location="cpu")

The file name is yours to choose: ``tinygen.save(netG.state_dict(), "netG.pth")`` writes the same safe format
(PyTorch's habit of ``.pth``/``.pt`` names carries over; the contents do not: loading a file that PyTorch's
``torch.save`` wrote is refused with the one line that converts it).

A checkpoint is one NumPy ``.npz`` archive, readable without tinygen or a GPU: one array entry per tensor
(copied to the host first) and one entry, ``tinygen_structure``, holding JSON that describes the nesting
of dicts, lists, tuples, numbers, strings, bools and ``None`` around them. Nothing is pickled, and loading
never unpickles (``allow_pickle=False``), so a checkpoint from a stranger cannot run code.

Writing is atomic: the archive goes to a temporary file in the same directory, is flushed to disk, and
then replaces ``path`` in one step, so a crash mid-save leaves the previous checkpoint intact.
"""
import collections
import json
import os

import numpy

from tinygen import backend as backends
from tinygen.files import atomic_write
from tinygen.tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

FORMAT = "tinygen-checkpoint"
VERSION = 1
STRUCTURE_ENTRY = "tinygen_structure"


class CheckpointError(ValueError):
    """A file that is not a readable tinygen checkpoint (corrupt, truncated, foreign, or holding pickled data)."""


# --- describing the structure ------------------------------------------------------------------------------

def _describe(value, arrays, where):
    """A JSON-able description of ``value``; tensors are appended to ``arrays`` and referred to by entry name."""
    if isinstance(value, Tensor):
        name = f"tensor_{len(arrays)}"
        arrays[name] = value.backend.to_numpy(value.data)
        return {"tensor": name}
    if value is None or isinstance(value, (bool, str)):
        return {"value": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": repr(float(value))}  # repr round-trips exactly, inf and nan included
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_describe(item, arrays, f"{where}[{position}]") for position, item in enumerate(value)]}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: dict keys must be strings or integers, got {key!r} at {where}")
            items.append([key, _describe(item, arrays, f"{where}[{key!r}]")])
        kind = "ordered_dict" if isinstance(value, collections.OrderedDict) else "dict"
        return {kind: items}
    raise TypeError(
        f"save: cannot store a {type(value).__module__}.{type(value).__name__} at {where}; checkpoints hold "
        "tensors, dicts, lists, tuples, Python numbers, strings, bools and None"
    )


def _rebuild(description, archive, backend):
    """The value ``description`` stands for, reading tensors from ``archive`` onto ``backend``."""
    (kind, content), = description.items()
    if kind == "tensor":
        array = archive[content]
        if array.dtype.kind not in "fiub":
            raise _Unreadable(f"its entry {content!r} has dtype {array.dtype}, which no tensor has")
        return Tensor._make(backend.asarray(array), backend)
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
    """Write ``obj`` (tensors nested in dicts/lists/tuples with plain Python values) to ``path``, atomically."""
    arrays = {}
    structure = {"format": FORMAT, "version": VERSION, "root": _describe(obj, arrays, "the top level")}
    arrays[STRUCTURE_ENTRY] = numpy.array(json.dumps(structure))
    atomic_write(path, lambda file: numpy.savez(file, **arrays))


# --- loading ---------------------------------------------------------------------------------------------

def load(path, map_location=None):
    """Read a checkpoint written by ``save``; tensors go to ``map_location`` (default: the default device).

    A file that is not a tinygen checkpoint, is truncated or corrupt, or holds pickled data raises
    ``CheckpointError`` naming ``path``.
    """
    path = os.fspath(path)
    backend = backends.get_backend(map_location)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}")
    try:
        return _read(path, backend)
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


def _read(path, backend):
    with open(path, "rb") as file:
        start = file.read(len(PYTORCH_LEGACY_START))
        if start == PYTORCH_LEGACY_START:
            raise _Unreadable(PYTORCH_FILE)
        if start[:2] != b"PK":
            raise _Unreadable("it is not a .npz (zip) archive")
        file.seek(0)
        with numpy.load(file, allow_pickle=False) as archive:
            if STRUCTURE_ENTRY not in archive.files and any(name.endswith("data.pkl") for name in archive.files):
                raise _Unreadable(PYTORCH_FILE)
            if STRUCTURE_ENTRY not in archive.files:
                raise _Unreadable(f"it has no {STRUCTURE_ENTRY!r} entry, so it was not written by tinygen.save")
            structure = json.loads(str(archive[STRUCTURE_ENTRY][()]))
            if structure.get("format") != FORMAT or structure.get("version") != VERSION:
                raise _Unreadable(
                    f"its structure entry names format {structure.get('format')!r} version "
                    f"{structure.get('version')!r}; this tinygen reads {FORMAT!r} version {VERSION}"
                )
            return _rebuild(structure["root"], archive, backend)


def _explain(error):
    message = str(error)
    if isinstance(error, _Unreadable):
        return message
    if "allow_pickle" in message:
        return "it holds pickled Python objects, which tinygen refuses to load (unpickling can run arbitrary code)"
    return f"{message} ({type(error).__name__}; the file may be truncated or corrupt)"
