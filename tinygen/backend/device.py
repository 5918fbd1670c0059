"""``tinygen.device``: PyTorch's device objects, in the form tinygen's strings already take.

    dev = tinygen.device("cuda" if tinygen.cuda.is_available() else "cpu")
    x = tinygen.zeros(3).to(dev)
    x.device.type          # 'cpu'
    x.device == "cpu"      # True: a device is the string of its name

A device *is* its name (a ``str`` subclass): it compares equal to and hashes like ``"cpu"``, ``"cuda"`` or
``"strict"``, so code that checks ``tensor.device == "cpu"`` and code that passes ``torch.device(...)`` objects
both work. It prints as its name, as PyTorch's does; ``repr`` also gives the quoted name (PyTorch shows
``device(type='cpu')``), so error messages read "on 'cpu'". tinygen uses one GPU: ``"cuda"`` and ``"cuda:0"``
are one device.
"""

__all__ = ["DEVICES", "device", "device_name"]

DEVICES = ("cpu", "cuda", "strict")


def device_name(spelled):
    """A device as the user wrote it -> its name: ``"cuda:0"`` -> ``"cuda"``; anything unknown -> a clear error."""
    name = str(spelled)
    if name.startswith("cuda:"):
        if name != "cuda:0":
            raise ValueError(f"device {name!r}: tinygen uses one GPU, 'cuda' (or 'cuda:0')")
        name = "cuda"
    if name not in DEVICES:
        raise ValueError(f"unknown device {spelled!r}: expected one of {', '.join(repr(d) for d in DEVICES)}")
    return name


class device(str):  # noqa: N801  (PyTorch's name)
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:0")``, ``device("cuda", 0)`` or ``device("strict")``.

    ``type`` is the name without an index; ``index`` is 0 for the GPU when one was given, else ``None``.
    """

    def __new__(cls, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device name such as 'cpu' or 'cuda', got {type!r}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device: index must be an int, got {index!r}")
            if ":" in type:
                raise ValueError(f"device: {type!r} already names an index; pass device({type!r}) alone")
        spelled = type if index is None else f"{type}:{index}"
        name = device_name(spelled)
        made = super().__new__(cls, name)
        made.index = 0 if name == "cuda" and spelled != "cuda" else None
        return made

    @property
    def type(self):  # noqa: A003
        return str(self)

    def __reduce__(self):
        return (device, (str(self), self.index))
