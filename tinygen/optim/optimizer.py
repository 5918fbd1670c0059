"""``Optimizer``: the bookkeeping every optimizer shares (parameter groups, state, saving), PyTorch's layout.

An optimizer holds ``param_groups``: a list of dicts, each with its own ``"params"`` and options (``lr`` ...),
so e.g. a generator's and a discriminator's layers can use different learning rates in one optimizer.
Per-parameter state (momentum buffers, Adam's moments) lives in ``state[param]``.

Subclasses implement ``_update(param, grad, state, group)``, which changes ``param.array`` in place.
Updates work on raw arrays, under ``no_grad``: an update is not part of any graph.
"""
import copy
import math
import numbers

from tinygen.autograd import versions
from tinygen.autograd.grad_mode import enable_grad, no_grad
from tinygen.backend.dtypes import is_floating
from tinygen.nn.module import Parameter
from tinygen.tensor import Tensor

#: the options of tinygen's optimizers that are numbers
NUMERIC_OPTIONS = ("lr", "eps", "weight_decay", "momentum", "dampening")
_OPTION_WORDS = {"lr": "learning rate"}


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._check_options(self.defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got a single Tensor; "
                "wrap it in a list, e.g. [weight]"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors (e.g. model.parameters()) or of "
                f"dicts, got {type(params).__name__}"
            ) from None
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # --- parameter groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group ``{"params": [...], option: value ...}``; options left out take the optimizer's defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params or [])
        if not params:
            raise ValueError(f"{name}: a parameter group has an empty parameter list")
        for param in params:
            self._check_param(param)
        already = {id(p) for existing in self.param_groups for p in existing["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in already for p in params):
            raise ValueError(f"{name}: a parameter appears more than once (each may be in one group, once)")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{name}: unknown option(s) {sorted(unknown)}; expected some of {sorted(self.defaults)}")
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_options(group)
        group["params"] = params
        self.param_groups.append(group)

    def _check_param(self, param):
        name = type(self).__name__
        if not isinstance(param, Tensor):
            raise TypeError(f"{name}: can only optimize Tensors (Parameters), got {type(param).__name__}")
        # a frozen nn.Parameter (requires_grad turned off, as when fine-tuning) is kept, as PyTorch keeps it: it
        # has no gradient, so step passes it by, until it is unfrozen; a plain tensor that does not require grad
        # is most likely a forgotten requires_grad=True, so it is refused
        frozen = isinstance(param, Parameter) and is_floating(param.dtype)
        if not is_floating(param.dtype) or not (param.requires_grad or frozen):
            raise ValueError(
                f"{name}: a parameter of shape {param.shape} and dtype {param.dtype} does not require grad, "
                "so it would never change; pass only trainable parameters"
            )
        if not param.is_leaf:
            raise ValueError(
                f"{name}: can't optimize a non-leaf tensor (shape {param.shape}); optimize the leaf it came from"
            )

    def _check_options(self, options):
        """Raise ``ValueError`` for an invalid option value (subclasses check their own options), ``TypeError``
        for a numeric option that is not a number."""
        for key in NUMERIC_OPTIONS:
            if key in options and not is_number(options[key]):
                raise TypeError(f"{type(self).__name__}: {key} must be a number, got {options[key]!r}")
        lr = options.get("lr")
        if lr is not None and not lr >= 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr} (must be >= 0)")
        for key in NUMERIC_OPTIONS:
            if key in options and not math.isfinite(options[key]):
                raise ValueError(f"{type(self).__name__}: invalid {_OPTION_WORDS.get(key, key)} {options[key]} (must be finite: "
                                 "one step with it would make every parameter inf or nan)")

    # --- one step --------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Clear the gradients: ``None`` (default) or zeros (``set_to_none=False``)."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:  # new zeros, as Module.zero_grad: a graph that saved the old gradient (create_graph) keeps it
                    param.grad = param._wrap_like(param.backend.xp.zeros_like(param.grad.array))

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` re-evaluates the loss (returned)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    if param.grad.shape != param.shape:
                        raise RuntimeError(
                            f"{type(self).__name__}: a parameter of shape {param.shape} has a gradient of shape "
                            f"{param.grad.shape}"
                        )
                    state = self.state.get(param, {})
                    self._update(param, param.grad.array, state, group)
                    if state:  # plain SGD keeps none
                        self.state[param] = state
                    versions.bump(param)  # graphs that saved the old value now refuse to backward
        return loss

    def _update(self, param, grad, state, group):
        """Change ``param.array`` (the raw array) in place from the raw gradient array ``grad``."""
        raise NotImplementedError

    # --- saving ----------------------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {name: value}}, "param_groups": [{option: value, "params": [indices]}]}``.

        Parameters are numbered in group order, as PyTorch does, so the dict does not hold them; the state
        values are the optimizer's own tensors (not copies) and Python numbers.
        """
        index_of, groups = {}, []
        for group in self.param_groups:
            indices = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                indices.append(index_of[id(param)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        state = {index_of[id(param)]: dict(values) for param, values in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by ``state_dict`` (from an optimizer over same-shaped parameters)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("param_groups"), (list, tuple)) \
                or not isinstance(state_dict.get("state"), dict):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' (a dict) and 'param_groups' (a list), as "
                f"state_dict() makes, got {_describe_keys(state_dict)}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        params_by_index = {}
        for position, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f"{name}.load_state_dict: parameter group {position} has no list of 'params'")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {position} has {len(saved['params'])} parameters in "
                    f"the saved state but {len(group['params'])} here"
                )
            params_by_index.update(zip(saved["params"], group["params"]))
        new_state = {}
        for index, values in state_dict["state"].items():
            param = params_by_index.get(int(index))
            if param is None:
                raise ValueError(
                    f"{name}.load_state_dict: the saved state names parameter {index}, which no group holds"
                )
            new_state[param] = {key: _state_value_for(param, key, value, name) for key, value in values.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for position, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {position}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines + [")"])


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _describe_keys(value):
    return f"a dict with keys {sorted(map(str, value))}" if isinstance(value, dict) else f"a {type(value).__name__}"


def _state_value_for(param, key, value, name):
    """A saved state entry made ready for ``param``: tensors copied to its device and dtype, numbers as is."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if value.shape != param.shape:
        raise ValueError(
            f"{name}.load_state_dict: state {key!r} has shape {value.shape} but its parameter has shape {param.shape}"
        )
    array = value.array
    if value.backend is not param.backend:
        array = param.backend.asarray(value.backend.to_numpy(array))
    return Tensor._make(array.astype(param.dtype, copy=True), param.backend)


def cache_sized_pieces(backend, arrays):
    """Same-shaped ``arrays`` cut into matching flat pieces of ``backend.cache_piece`` numbers (views: in-place
    passes on them change the arrays), so that a chain of passes over a large parameter runs in a core's cache;
    one piece, the whole arrays, where the backend wants none, they are small, or one is not contiguous (its flat
    view would be a copy)."""
    size, piece = arrays[0].size, backend.cache_piece
    if piece is None or size <= piece or not all(array.flags.c_contiguous for array in arrays):
        return [arrays]
    flat = [array.reshape(-1) for array in arrays]
    return [[array[start:start + piece] for array in flat] for start in range(0, size, piece)]


def new_state_tensor(param):
    """A zero tensor shaped like ``param`` for optimizer state (a momentum buffer, a moment estimate)."""
    return Tensor._make(param.backend.xp.zeros_like(param.array), param.backend)
