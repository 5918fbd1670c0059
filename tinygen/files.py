"""Writing and reading files safely: a reader (or a crash) sees the old file or the new one, never half of one.

The data goes to a temporary file in the target's own directory, is flushed to disk, and is renamed over the
target (``os.replace`` is atomic on POSIX and Windows); then the directory entry is flushed too. A failed
write (a full disk, say) removes its temporary file, leaves the target as it was, and names the target.

A save that is killed outright (SIGKILL, power loss) leaves its temporary file, ``.NAME.XXXXXXXX.tmp``, beside
the intact target. ``NAME`` is the target's name cut to ``TEMPORARY_NAME_PART`` characters, so a target with a
legal name of any length has a legal temporary name. The next save of that target removes such leftovers once
they are ``STALE_AFTER`` seconds old: a save in progress keeps writing to its file, so only a dead one leaves it
untouched that long.

Readers of files from elsewhere open them with ``open_regular_file``: a FIFO or a device would block a reader
forever (or never end), so anything but a regular file is refused before it is opened for reading.
"""
import os
import re
import stat
import tempfile
import time

#: seconds without a write after which a temporary file of ``atomic_write`` is a leftover of a killed save
STALE_AFTER = 600
#: characters of the target's name kept in its temporary file's name (file names may have 255 bytes)
TEMPORARY_NAME_PART = 40

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class WriteError(OSError):
    """A write that failed (its ``errno`` is the cause's); its message names the file and says it was left as it was."""

    def __str__(self):
        return self.strerror


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write, binary=True):
    """Create or replace ``path`` with what ``write(file)`` writes into an open temporary file.

    The new file gets the usual permissions (0666 minus the umask), not the 0600 of temporary files.
    """
    path = os.fspath(path)
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory; name a file in it")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: the directory {directory!r} does not exist")
    name = os.path.basename(path)
    _remove_leftovers(directory, name)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name[:TEMPORARY_NAME_PART]}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise _write_error(path, error, "no temporary file could be made beside it") from None
    existed = os.path.lexists(path)
    try:
        with os.fdopen(handle, "wb" if binary else "w", **({} if binary else {"newline": ""})) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError) and not isinstance(error, WriteError):
            raise _write_error(path, error, "it was left as it was" if existed else "nothing was written") from error
        raise
    _sync_directory(directory)


def _write_error(path, error, consequence):
    return WriteError(error.errno, f"cannot write {path!r}: {error.strerror or error} ({consequence})")


def _remove_leftovers(directory, name):
    """Delete the temporary files that killed saves of ``name`` left in ``directory`` (see the module docstring)."""
    pattern = re.compile(rf"\.{re.escape(name[:TEMPORARY_NAME_PART])}\.[a-z0-9_]{{8}}\.tmp")  # what mkstemp names ours
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


def not_a_regular_file(path):
    """What ``path`` is when it exists but is not a regular file ("a FIFO (named pipe)", ...), else ``None``.

    Uses ``os.stat``, which never blocks (opening a FIFO for reading waits for a writer)."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def open_regular_file(path, what="file"):
    """``path`` opened for binary reading; ``ValueError`` naming what it is if it is not a regular file.

    The check comes before the open, and again on the opened file (``O_NONBLOCK``: an open of a FIFO swapped
    in between cannot block), so a FIFO or a device is refused at once instead of hanging the reader."""
    kind = not_a_regular_file(path)
    if kind is None:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISREG(mode):
            return os.fdopen(descriptor, "rb")
        os.close(descriptor)
        kind = "not a regular file"
    raise ValueError(f"{path!r} is {kind}; a {what} must be a regular file")
