"""Containers: ``Sequential`` (modules applied in order), ``ModuleList`` and ``ModuleDict`` (a list or dict whose
modules are registered), ``ParameterList`` (a list whose parameters are registered).

Sub-modules are registered under their positions ``"0"``, ``"1"``, ... (or the names of an OrderedDict or a
ModuleDict's keys), so parameter names read ``"0.weight"``, as in PyTorch.
"""
from collections import OrderedDict

from tinygen.nn.module import Module, Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterList", "Sequential"]


class _IndexedModules(Module):
    """Indexing, length and iteration over the registered sub-modules, shared by both containers."""

    def _checked_index(self, index):
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, got {type(index).__name__}")
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {size} modules")
        return index % size

    def _key(self, index):
        return list(self._modules)[self._checked_index(index)]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return self._modules[self._key(index)]

    def __setitem__(self, index, module):
        self.add_module(self._key(index), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end (registered as ``str(len(self))``); returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def _check_module(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected Modules, got {type(module).__name__}")
        return module

    def add_module(self, name, module):
        super().add_module(name, self._check_module(module))


class Sequential(_IndexedModules):
    """Apply modules in order: ``Sequential(Linear(100, 256), ReLU(), Linear(256, 784))(z)``.

    Takes modules as positional arguments, or one ``OrderedDict`` of ``{name: module}``.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(modules):
                self.add_module(str(position), module)

    @classmethod
    def _from_items(cls, items):
        return cls(OrderedDict(items))  # a slice keeps the names

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list of modules whose parameters belong to the owner (a plain Python list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @classmethod
    def _from_items(cls, items):
        return cls(module for _, module in items)  # a slice is renumbered from 0

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; later modules are renumbered."""
        modules = list(self._modules.values())
        modules.insert(index, self._check_module(module))
        self._modules.clear()
        self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(): iterate over it and call its modules")


class ModuleDict(Module):
    """A dict of modules whose parameters belong to the owner: ``ModuleDict({"encoder": ..., "decoder": ...})``;
    parameter names read ``"encoder.0.weight"``. Keys keep their insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (it has {', '.join(map(repr, self._modules)) or 'none'})")
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: expected Modules, got {type(module).__name__} for {key!r}")
        self.add_module(key, module)

    def __delitem__(self, key):
        self[key]  # noqa: B018  (the KeyError above for a missing key)
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        """Add ``modules``: a dict (or ModuleDict) or a sequence of (key, module) pairs."""
        for key, module in (modules.items() if hasattr(modules, "items") else modules):
            self[key] = module

    def pop(self, key):
        module = self[key]
        del self._modules[key]
        return module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(): call its modules by key")


class ParameterList(Module):
    """A list of parameters registered under ``"0"``, ``"1"``, ... (a plain Python list would hide them from
    ``parameters()``, the optimizer and ``state_dict``)."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        return list(self._parameters.values())[index]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add ``value`` at the end (a tensor becomes a Parameter, as in PyTorch); returns ``self``."""
        parameter = value if isinstance(value, Parameter) else Parameter(value)
        self.register_parameter(str(len(self)), parameter)
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward(): use its parameters in your module's forward")
