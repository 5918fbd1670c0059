"""Writing files atomically: a reader (or a crash) sees the old file or the new one, never half of one.

The data goes to a temporary file in the same directory, is flushed to disk, and is renamed over the
target (``os.replace`` is atomic on POSIX and Windows); then the directory entry is flushed too.

A save that is killed outright (SIGKILL, power loss) leaves its temporary file, ``.NAME.XXXXXXXX.tmp``, beside
the intact target. The next save of that target removes such leftovers once they are ``STALE_AFTER`` seconds
old: a save in progress keeps writing to its file, so only a dead one leaves it untouched that long.
"""
import os
import re
import tempfile
import time

#: seconds without a write after which a temporary file of ``atomic_write`` is a leftover of a killed save
STALE_AFTER = 600


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write, binary=True):
    """Create or replace ``path`` with what ``write(file)`` writes into an open temporary file.

    The new file gets the usual permissions (0666 minus the umask), not the 0600 of temporary files.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: the directory {directory!r} does not exist")
    _remove_leftovers(directory, os.path.basename(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb" if binary else "w", **({} if binary else {"newline": ""})) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _sync_directory(directory)


def _remove_leftovers(directory, name):
    """Delete the temporary files that killed saves of ``name`` left in ``directory`` (see the module docstring)."""
    pattern = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp")  # what mkstemp names ours
    cutoff = time.time() - STALE_AFTER
    for entry in os.scandir(directory):
        try:
            if pattern.fullmatch(entry.name) and entry.is_file() and entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
        except OSError:
            pass  # gone already (another save removed it), or not ours to remove


def _sync_directory(directory):
    """Flush the directory entry too, so the rename itself survives a power loss (POSIX only)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
