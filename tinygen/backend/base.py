"""The interface every array backend offers to the rest of tinygen.

Ops never import an array library. They ask a tensor for its backend and use
``backend.xp`` (the array module: ``numpy``, ``cupy`` or the strict stand-in)
plus the few helpers below whose spelling differs between libraries.
"""


class Backend:
    """One array library on one kind of device.

    Attributes:
        device: the name users see and pass to ``tensor.to(...)``: ``"cpu"``, ``"cuda"``, ``"strict"``.
        xp: the array module, with NumPy's API (``xp.exp``, ``xp.matmul``, ``xp.add.at`` ...).
    """

    device = None
    xp = None
    #: how many numbers a chain of elementwise passes over large arrays (an optimizer's update) takes at a time, so
    #: that each piece stays in a core's cache from one pass to the next; None: whole arrays (one kernel a pass)
    cache_piece = None

    def asarray(self, data, dtype=None, copy=False):
        """Host data (Python numbers, lists, NumPy arrays) or an array of this backend -> array of this backend.

        With ``copy=True`` the result never shares memory with ``data``.
        """
        return self.xp.array(data, dtype=dtype) if copy else self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        """An array of this backend -> a NumPy array on the host (a copy where the device is not the host)."""
        raise NotImplementedError

    def is_array(self, obj):
        """True if ``obj`` is an array of this backend."""
        return isinstance(obj, self.xp.ndarray)

    def as_strided(self, array, shape, strides):
        """A read-only-by-convention view of ``array`` with the given shape and byte strides."""
        return self.xp.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)

    def scatter_add(self, target, index, values):
        """``target[index] += values`` where repeated indices accumulate (``ufunc.at``), in place.

        CuPy's ``add.at`` has no int64 kernel: tinygen only scatters floating-point values.
        """
        self.xp.add.at(target, index, values)

    def stable_argsort(self, array, axis):
        """The indices that sort ``array`` along ``axis``, ties in their input order. NumPy sorts stably only when
        asked (``kind="stable"``); CuPy always does, and its ``argsort`` refuses or lacks ``kind``."""
        return self.xp.argsort(array, axis=axis, kind="stable")

    def default_rng(self, seed):
        """A random generator offering ``random(size, dtype)`` and ``standard_normal(size, dtype)``."""
        return self.xp.random.default_rng(seed)

    def synchronize(self):
        """Wait for queued device work to finish (for honest timings); nothing to wait for on the CPU."""

    def __reduce__(self):
        """A copy (``copy.deepcopy``, ``pickle``) is the one shared backend of its device: tensors compare
        backends by identity, and a second NumPy backend would be a second 'cpu'."""
        from tinygen.backend import get_backend

        return (get_backend, (self.device,))

    def __repr__(self):
        return f"<tinygen backend {self.device!r}>"
