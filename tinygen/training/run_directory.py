"""A run directory belongs to one run.

* A fresh run does not start in a directory that holds another run's outputs (``claim``): it stops before any
  work and says how to go on (``--resume``, another ``--out``, or ``--overwrite``). With ``overwrite``, the old
  run's outputs, and only those (``OUTPUTS``, ``samples/epoch_NNN.png``), are moved into ``PREVIOUS`` before the
  new run writes, so the directory never mixes two runs' pictures (other files in it are left alone), and
  deleted once the new run has saved its first checkpoint. A run that ends before that (Ctrl-C, an error, a
  divergence) puts them back; one killed outright leaves them in ``PREVIOUS``, and the next ``claim`` puts them
  back. So ``--overwrite`` never leaves a directory with neither run. A directory without a checkpoint or
  metrics (``RUN_MARKS``) holds no run to replace: ``--overwrite`` refuses to take files there that only
  have the names of a run's outputs (a ``tinygen sample`` grid, the user's ``real.png``).
* Only one process writes into a run directory at a time: ``RunDirectory`` holds an advisory lock
  (``fcntl.flock``) on ``LOCK_NAME`` while the run lasts, and a second process stops at once with a message
  naming the first (its pid and command, written into the lock file). The operating system drops the lock
  when its process ends, however it ends, so a crashed run leaves nothing stuck. (Without ``fcntl``, on
  Windows, there is no lock, nor on a file system that has no locks: ``NO_LOCKS``.)

Readers need no lock: checkpoints and pictures are replaced by an atomic rename, so ``tinygen sample`` may read
the checkpoint of a run in progress and gets one whole version of it.
"""
import errno
import os
import re
import shlex
import shutil
import sys
import tempfile
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: the files a run writes into its directory (besides samples/epoch_NNN.png)
OUTPUTS = ("checkpoint.npz", "metrics.json", "metrics.csv", "samples.png", "losses.png", "latent_walk.gif",
           "latent_space.png", "real.png")
SAMPLES = "samples"
EPOCH_PICTURE = re.compile(r"epoch_\d{3,}\.png")
LOCK_NAME = ".tinygen-run.lock"
#: what only a run writes, first of all: a directory holds a run when it holds one of these (else files by the
#: names of the other outputs may be the user's own, e.g. a ``tinygen sample`` grid: ``--overwrite`` leaves them)
RUN_MARKS = ("checkpoint.npz", "metrics.json")
#: where ``--overwrite`` keeps the previous run's outputs until the new run has saved its first checkpoint
PREVIOUS = ".previous-run"
#: what ``flock`` says on a file system without locks: the run goes on unlocked there, as on Windows
NO_LOCKS = {getattr(errno, name) for name in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "ENOSYS") if hasattr(errno, name)}


class RunDirectoryTaken(FileExistsError):
    """A fresh run was asked to write into a directory that holds another run."""


class RunDirectoryInUse(BlockingIOError):
    """Another process is writing into the run directory."""


class RunDirectory:
    """``with RunDirectory(path) as run:`` creates ``path`` if needed and holds its lock until the block ends.

    On leaving, the lock file is removed, and so is the directory if this run created it and wrote nothing."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.created = False
        self._lock = None

    def file(self, *names):
        return os.path.join(self.path, *names)

    def __enter__(self):
        self.created = prepare_output(self.path)
        try:
            self._lock = _acquire(self.file(LOCK_NAME))
        except RunDirectoryInUse:
            raise
        except OSError as error:
            raise _unwritable(self.path, error) from None
        return self

    def __exit__(self, *exc_info):
        if self._lock is not None:
            _release(self._lock, self.file(LOCK_NAME))
            self._lock = None
        if self.created:
            try:
                os.rmdir(self.path)  # only if empty: a run that failed before writing anything leaves nothing
            except OSError:
                pass

    # --- whose directory is it? ----------------------------------------------------------------------
    def previous_outputs(self):
        """Names (relative to the directory) of the run outputs already in it."""
        found = [name for name in OUTPUTS if os.path.lexists(self.file(name))]
        samples = self.file(SAMPLES)
        if os.path.isdir(samples):
            found += sorted(os.path.join(SAMPLES, name) for name in os.listdir(samples) if EPOCH_PICTURE.fullmatch(name))
        return found

    def claim(self, resume=False, overwrite=False):
        """Refuse to start a fresh run over another run's outputs (unless ``overwrite``); returns what is there."""
        if resume and overwrite:
            raise ValueError("--resume continues the run in the directory and --overwrite replaces it: choose one")
        if os.path.isdir(self.file(PREVIOUS)):  # an --overwrite run was killed: keep whichever run has a checkpoint
            if os.path.exists(self.file("checkpoint.npz")):
                self.discard_previous()
            else:
                self.restore_previous()
        samples = self.file(SAMPLES)
        if os.path.lexists(samples) and not os.path.isdir(samples):
            raise FileExistsError(f"{samples} is a file, where a run draws its epoch pictures into a folder of that "
                                  "name: move or rename the file, or train into another --out directory")
        found = self.previous_outputs()
        shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
        marked = any(name in found for name in RUN_MARKS)
        if found and not resume and not marked:  # nothing to resume or replace: only names that may be the user's
            raise RunDirectoryTaken(
                f"{self.path} holds another run ({shown}) without its {' or '.join(RUN_MARKS)}, or files of yours by "
                "those names: move them, or train into another --out directory"
            )
        if found and not resume and not overwrite:
            raise RunDirectoryTaken(
                f"{self.path} holds another run ({shown}); continue it with --resume, train into another --out "
                "directory, or pass --overwrite to replace it"
            )
        return found

    def set_aside_previous(self):
        """Move the previous run's outputs (``previous_outputs``) into ``PREVIOUS``, one rename each, and remove an
        emptied ``samples/``; nothing else is touched. Returns their names."""
        found = self.previous_outputs()
        for name in found:
            target = self.file(PREVIOUS, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(self.file(name), target)
        try:
            os.rmdir(self.file(SAMPLES))
        except OSError:
            pass  # not there, or holds files that are not ours
        return found

    def restore_previous(self):
        """Put the outputs set aside in ``PREVIOUS`` back where they were; returns whether there were any.

        The checkpoint goes back last: ``claim`` takes a checkpoint in place as the sign that a new run has saved,
        and deletes ``PREVIOUS``, so a restore cut short (a second Ctrl-C, a kill) must not have put it back yet."""
        folder = self.file(PREVIOUS)
        if not os.path.isdir(folder):
            return False
        names = [os.path.relpath(os.path.join(root, name), folder)
                 for root, _, files in os.walk(folder) for name in files]
        for name in sorted(names, key=lambda name: name == "checkpoint.npz"):
            target = self.file(name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(os.path.join(folder, name), target)
        shutil.rmtree(folder)
        return True

    def discard_previous(self):
        """Delete the outputs set aside in ``PREVIOUS`` (the new run has saved its first checkpoint)."""
        shutil.rmtree(self.file(PREVIOUS), ignore_errors=True)


def run_owning(path):
    """The run directory whose output ``path`` is, if it is one: a name in ``OUTPUTS`` or ``samples/epoch_NNN.png``
    in a directory that holds a run (its ``checkpoint.npz`` or ``metrics.json``); else None."""
    directory, name = os.path.split(os.path.abspath(path))
    if EPOCH_PICTURE.fullmatch(name) and os.path.basename(directory) == SAMPLES:
        directory = os.path.dirname(directory)
    elif name not in OUTPUTS:
        return None
    holds_a_run = any(os.path.exists(os.path.join(directory, own)) for own in RUN_MARKS)
    return directory if holds_a_run else None


def prepare_output(directory):
    """Create ``directory`` if needed and prove it is writable before any training time is spent; returns whether
    it was created."""
    if os.path.islink(directory) and not os.path.exists(directory):
        raise NotADirectoryError(f"the output directory {directory!r} is a symbolic link to "
                                 f"{os.readlink(directory)!r}, which does not exist: create that directory, or name "
                                 "another for the run")
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"the output directory {directory!r} is a file: name a directory for the run")
    created = not os.path.isdir(directory)
    try:
        os.makedirs(directory, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=".write-test-", dir=directory)  # a name no file of yours has
        try:
            os.write(descriptor, b"ok")
        finally:
            os.close(descriptor)
            os.unlink(probe)
    except OSError as error:
        raise _unwritable(directory, error) from None
    return created


def _unwritable(directory, error):
    return OSError(f"cannot write to the output directory {directory!r}: {error.strerror or error}")


def _holder(path):
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return ""


def _acquire(path):
    """An open descriptor of the lock file at ``path``, locked by this process; ``RunDirectoryInUse`` if another
    process holds it. The lock file may be removed by its holder on release (``_release``), so after locking we
    check that the file we locked is still the one at ``path`` (else lock the new one)."""
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if _lock(descriptor, path):
                break
        except BaseException:  # in use, or Ctrl-C: never keep a descriptor (and so a lock) behind
            os.close(descriptor)
            raise
        os.close(descriptor)  # its holder removed it as we locked it: lock the file now at path
    try:
        command = " ".join(shlex.quote(part) for part in [os.path.basename(sys.argv[0] or "python")] + sys.argv[1:])
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"pid {os.getpid()}: {command}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
    except BaseException:
        _release(descriptor, path)
        raise
    return descriptor


def _lock(descriptor, path):
    """Lock the open lock file; whether it is still the file at ``path``. ``RunDirectoryInUse`` if another holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in NO_LOCKS:  # a file system without locks (NFS without lockd, some FUSE): as on Windows
            return True
        if not isinstance(error, BlockingIOError):
            raise
        holder = _holder(path) or "details not written yet"
        raise RunDirectoryInUse(
            f"{os.path.dirname(path) or '.'} is in use by another tinygen process ({holder}); wait for it to "
            "finish, stop it, or train into another --out directory"
        ) from None
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(path))
    except FileNotFoundError:
        return False


def _release(descriptor, path):
    """Remove the lock file while still holding its lock (a waiter then finds it gone and retries), then unlock."""
    try:
        os.remove(path)
    except OSError:
        pass
    finally:
        os.close(descriptor)
