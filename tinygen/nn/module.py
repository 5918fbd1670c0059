"""``Module``: a layer or a model. It owns parameters, buffers and sub-modules, found by attribute assignment.

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(784, 256)     # a sub-module: its parameters become "hidden.weight", ...
            self.out = nn.Linear(256, 1)

        def forward(self, x):
            return self.out(self.hidden(x).relu())

Everything is kept in insertion order, so ``parameters()`` and ``state_dict()`` have a deterministic order.
"""
from collections import OrderedDict, namedtuple

from tinygen import backend as backends
from tinygen.autograd import versions
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend.dtypes import is_floating, to_dtype
from tinygen.creation import zeros
from tinygen.tensor import Tensor, device_and_dtype

#: What ``load_state_dict`` returns: the keys the model has but the dict lacks, and the other way round.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a module: assigning it to a module attribute registers it."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(backends.get_backend(None).xp.zeros((0,), dtype=backends.float32),
                                backends.get_backend(None))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        if requires_grad and not is_floating(data.dtype):
            raise TypeError(f"Parameter: only floating-point tensors can be parameters, got dtype {data.dtype}")
        return cls._make(data.array, data.backend, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass  # everything is set in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def zeros_parameter(shape, device=None, dtype=None):
    """A zero-filled Parameter of ``shape`` (float32 unless ``dtype``); layers fill it in ``reset_parameters``."""
    return Parameter(zeros(shape, dtype=dtype, device=device))


def check_size(layer, name, value):
    """A layer's size argument (``in_features``, ``num_features`` ...) must be a non-negative int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative integer, got {value!r}")
    return value


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``remove()`` takes the hook out (twice is harmless); ``with handle:``
    removes it at the end of the block."""

    _next_id = 0

    def __init__(self, registry, entry):
        RemovableHandle._next_id += 1
        self.id, self._registry = RemovableHandle._next_id, registry
        registry[self.id] = entry

    def remove(self):
        self._registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class Module:
    """Base class of all layers and models. Subclasses call ``super().__init__()`` and define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        hooks = self.__dict__.get("_forward_hooks")
        if not hooks:  # the common case: no hooks registered
            return self.forward(*args, **kwargs)
        for kind, hook in list(hooks.values()):
            if kind == "pre":
                changed = hook(self, args)
                if changed is not None:
                    args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for kind, hook in list(hooks.values()):
            if kind == "post":
                changed = hook(self, args, output)
                if changed is not None:
                    output = changed
        return output

    # --- forward hooks (PyTorch's: feature extraction, activation statistics) ----------------------
    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before each ``forward``; a value it returns (a tuple, or one value, which
        is wrapped in one) replaces the positional arguments. Returns a handle whose ``remove()`` unregisters it."""
        return self._add_forward_hook("pre", hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each ``forward``; a value it returns replaces the output.
        Returns a handle whose ``remove()`` unregisters it (also usable as a ``with`` block)."""
        return self._add_forward_hook("post", hook)

    def _add_forward_hook(self, kind, hook):
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}: a forward hook must be callable, got {type(hook).__name__}")
        if "_forward_hooks" not in self.__dict__:
            object.__setattr__(self, "_forward_hooks", OrderedDict())
        return RemovableHandle(self._forward_hooks, (kind, hook))

    # --- registration by attribute assignment -------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(value, (Parameter, Module)):
            for registry in (self._parameters, self._buffers, self._modules):
                registry.pop(name, None)
            self.__dict__.pop(name, None)
            (self._parameters if isinstance(value, Parameter) else self._modules)[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor or None")
            self._buffers[name] = value
        elif name in self._parameters or name in self._modules:
            if value is not None:
                kind = "parameter" if name in self._parameters else "sub-module"
                raise TypeError(
                    f"{type(self).__name__}.{name} is a {kind}: assign a {'Parameter' if kind == 'parameter' else 'Module'} "
                    f"or None, got {type(value).__name__}"
                )
            (self._parameters if name in self._parameters else self._modules)[name] = None
        else:
            if isinstance(value, (list, tuple)) and any(isinstance(item, Module) for item in value):
                raise TypeError(
                    f"{type(self).__name__}.{name}: a plain {type(value).__name__} of modules would hide their "
                    f"parameters from parameters(), state_dict() and to(); wrap it: nn.ModuleList(...) or nn.Sequential(...)"
                )
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        registries = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            registry = registries.get(key)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def _check_name(self, caller, name):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{caller}: the name must be a non-empty string without '.', got {name!r}")

    def register_parameter(self, name, parameter):
        self._check_name("register_parameter", name)
        if parameter is not None and not isinstance(parameter, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(parameter).__name__}")
        self.__dict__.pop(name, None)
        self._parameters[name] = parameter

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not a parameter (batch norm's running mean): saved in ``state_dict``
        (unless ``persistent=False``) and moved by ``to()``, never trained."""
        self._check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        self._check_name("add_module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self.__dict__.pop(name, None)
        self._modules[name] = module

    # --- walking the tree --------------------------------------------------------------------------
    def named_modules(self, prefix=""):
        """``(name, module)`` for this module and every module below it, depth first, each once."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (module for _, module in self.named_modules())

    def get_submodule(self, target):
        """The module at the dotted path ``target`` ("encoder.0"; "" is this module), as PyTorch's."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (looking up {target!r})")
            module = child
        return module

    def named_children(self):
        return ((name, module) for name, module in self._modules.items() if module is not None)

    def children(self):
        return (module for _, module in self.named_children())

    def _named_members(self, registry_name, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, member in getattr(module, registry_name).items():
                if member is None or id(member) in seen:
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    def named_parameters(self, prefix="", recurse=True):
        """``(dotted name, Parameter)`` in registration order; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        return (parameter for _, parameter in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    # --- modes and gradients -------------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics); ``train(False)`` = ``eval()``."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to ``None``, or to zeros with ``set_to_none=False``)."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad = parameter._wrap_like(parameter.backend.xp.zeros_like(parameter.grad.array))

    def requires_grad_(self, requires_grad=True):
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def apply(self, function):
        """Call ``function(module)`` on every sub-module, then on this one: PyTorch's order (each child's subtree
        in turn, children in the order they were added, a module after its children), each module once. The
        order matters to initializers that draw random numbers (``model.apply(weights_init)``)."""
        visited = set()

        def visit(module):
            visited.add(id(module))
            for child in module.children():
                if id(child) not in visited:
                    visit(child)
            function(module)

        visit(self)
        return self

    # --- device and dtype ----------------------------------------------------------------------------
    def to(self, device=None, dtype=None):
        """Move parameters and buffers to ``device`` and/or cast floating ones to ``dtype``, in place.

        ``model.to("cuda")``, ``model.to(tinygen.float64)``, ``model.to("cpu", "float32")``. Parameters stay the
        same objects (an optimizer that holds them keeps working); each one that changes gets a new version,
        so a graph recorded before the move refuses to backward through the old values.
        """
        device, dtype = device_and_dtype(f"{type(self).__name__}.to", device, dtype)
        target = backends.get_backend(device) if device is not None else None
        dtype = to_dtype(dtype)

        def convert(tensor):
            array = tensor.array
            if dtype is not None and is_floating(array.dtype) and array.dtype != dtype:
                array = array.astype(dtype)
            if target is not None and target is not tensor.backend:
                array = target.asarray(tensor.backend.to_numpy(array))
            return array, (target or tensor.backend)

        for module in self.modules():
            for parameter in module._parameters.values():
                if parameter is None:
                    continue
                array, backend = convert(parameter)
                if array is not parameter.array:
                    parameter.array, parameter._backend = array, backend
                    versions.bump(parameter)
                if parameter.grad is not None:
                    parameter.grad = Tensor._make(*convert(parameter.grad))
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    module._buffers[name] = Tensor._make(*convert(buffer))
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def double(self):
        return self.to(dtype=backends.float64)

    def float(self):
        return self.to(dtype=backends.float32)

    def half(self):
        return self.to(dtype=backends.float16)

    # --- state ---------------------------------------------------------------------------------------
    def _state_entries(self):
        """``(dotted name, tensor, owning module)`` for every parameter and persistent buffer, in order."""
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    yield prefix + name, parameter, module
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield prefix + name, buffer, module

    def state_dict(self):
        """``{dotted name: tensor}`` of every parameter and persistent buffer (the values, detached)."""
        return OrderedDict((key, tensor.detach()) for key, tensor, _ in self._state_entries())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into this module's parameters and buffers (in place).

        Shapes must match (always checked). With ``strict=True`` (default) the keys must match exactly. The
        error lists every missing and unexpected key and every shape mismatch, naming the layer. Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"load_state_dict into {type(self).__name__}: expected a dict of tensors (as state_dict() makes), "
                f"got {type(state_dict).__name__}"
            )
        own = {key: (tensor, module) for key, tensor, module in self._state_entries()}
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        mismatched = []
        for key, (target, module) in own.items():
            if key not in state_dict:
                continue
            source = state_dict[key]
            if not isinstance(source, Tensor):
                raise TypeError(
                    f"load_state_dict: {key!r} ({type(module).__name__}) must be a Tensor, got {type(source).__name__}"
                )
            if source.shape != target.shape:
                mismatched.append(f"{key} ({type(module).__name__}): the checkpoint has shape {source.shape}, "
                                  f"this model has {target.shape}")
        problems = []
        if mismatched:
            problems.append("shape mismatches:\n    " + "\n    ".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise RuntimeError(f"load_state_dict into {type(self).__name__} failed:\n  " + "\n  ".join(problems))
        with no_grad():
            for key, (target, _) in own.items():
                if key in state_dict:
                    source = state_dict[key]
                    array = source.array
                    if source.backend is not target.backend:
                        array = target.backend.asarray(source.backend.to_numpy(array))
                    target.array[...] = array
                    versions.bump(target)
        return IncompatibleKeys(missing, unexpected)

    # --- printing ------------------------------------------------------------------------------------
    def extra_repr(self):
        """The part inside the parentheses of this module's repr, e.g. ``in_features=784, out_features=256``."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
