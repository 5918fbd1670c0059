"""What stops a run before its end, as exceptions that say what happened and what was kept.

    TrainingDiverged   a loss, a parameter or the samples stopped being finite numbers (exit status 3 from the CLI)
    OutOfMemory        an allocation failed; names the setting that asked for the memory (``memory_for``)
    Interrupted        Ctrl-C, with a message that says truthfully what was saved (a ``KeyboardInterrupt``)

How a run stops at a signal without leaving broken files is ``tinygen.interrupts``'s job.
"""
import contextlib
import math

from tinygen.tensor import Tensor


class TrainingDiverged(FloatingPointError):
    """Training met a non-finite value (nan or inf) and stopped at that step, keeping the last finite checkpoint."""


class OutOfMemory(MemoryError):
    """A ``MemoryError`` with the setting whose value asked for the memory (``setting``, ``value``)."""

    def __init__(self, setting, value, cause, advice="try a smaller value"):
        self.setting, self.value = setting, value
        option = "--" + setting.replace("_", "-") if setting.isidentifier() else None
        super().__init__(f"not enough memory for {setting} {value!r}" + (f" ({option})" if option else "")
                         + f": {cause or 'the allocation failed'}; {advice}")


@contextlib.contextmanager
def memory_for(setting, value, advice="try a smaller value"):
    """Inside the block, a ``MemoryError`` becomes an ``OutOfMemory`` that names ``setting`` and its ``value``."""
    try:
        yield
    except OutOfMemory:
        raise
    except MemoryError as error:
        raise OutOfMemory(setting, value, error, advice) from None


def add_note(error, note):
    """Attach ``note`` (what a stopped run kept) to ``error`` as Python 3.11's ``add_note`` does, on 3.10 too: the
    command line prints the notes after the error's message (``--debug``'s traceback shows them on 3.11)."""
    if note and note not in getattr(error, "__notes__", ()):
        try:
            error.__notes__ = [*getattr(error, "__notes__", ()), note]
        except AttributeError:
            pass  # an exception type without a __dict__: its message alone


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``str()`` says where it stopped and what is saved."""


def non_finite(metrics):
    """The names of the values in ``{name: float}`` that are nan or inf, losses first."""
    names = [name for name, value in metrics.items() if not math.isfinite(value)]
    return sorted(names, key=lambda name: "loss" not in name)


def all_finite(tensors):
    """Whether every element of every tensor is finite, found with one device-to-host transfer."""
    flags = None
    for tensor in tensors:
        flag = tensor.backend.xp.isfinite(tensor.array).all()
        flags = flag if flags is None else flags & flag
    return flags is None or bool(flags)


def first_non_finite(state, prefix=""):
    """The name (``"model.generator/net.0.weight"``) of the first tensor in a nested state that holds nan or inf."""
    items = state.items() if isinstance(state, dict) else enumerate(state) if isinstance(state, (list, tuple)) else ()
    for key, value in items:
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, Tensor):
            if not all_finite([value]):
                return name
        else:
            found = first_non_finite(value, name)
            if found is not None:
                return found
    return None
