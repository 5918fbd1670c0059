"""``tinygen.amp``: PyTorch's mixed-precision spellings, so a training loop written with them runs unchanged.

    scaler = tinygen.amp.GradScaler("cuda", enabled=use_amp)
    with tinygen.autocast(device_type="cuda", enabled=use_amp):
        loss = criterion(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()

tinygen has no mixed precision: ``autocast`` changes no op's dtype. With ``enabled=False`` that is exactly
PyTorch's behaviour; with ``enabled=True`` it warns once that the ops run in their tensors' dtypes (float32 by
default), where PyTorch would run matmuls and convolutions in float16/bfloat16.

``GradScaler`` is PyTorch's loss scaling, step for step: ``scale(loss)`` multiplies by the scale s,
``unscale_(optimizer)`` divides the gradients by s and notes whether any is inf or NaN, ``step`` skips the
optimizer's step when one is, and ``update`` multiplies s by ``backoff_factor`` after a skipped step, or by
``growth_factor`` after ``growth_interval`` steps in a row without one. As in PyTorch, a scaler for ``"cuda"``
made where there is no GPU warns and disables itself (every call then passes through).
"""
import warnings

from tinygen import backend as backends

__all__ = ["GradScaler", "autocast"]

_warned = []


class autocast:  # noqa: N801  (PyTorch's name)
    """A context manager (and decorator) accepted for PyTorch scripts: ops keep their tensors' dtypes."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise TypeError(f"autocast: device_type must be a string such as 'cuda' or 'cpu', got {device_type!r}")
        self.device_type, self.dtype, self.enabled = device_type, dtype, bool(enabled)

    def __enter__(self):
        if self.enabled and not _warned:
            _warned.append(True)
            warnings.warn("autocast: tinygen has no mixed precision; ops run in their tensors' dtypes (float32 by "
                          "default), where PyTorch would run some in float16/bfloat16", UserWarning, stacklevel=2)
        return self

    def __exit__(self, *exc_info):
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, self.dtype, self.enabled):
                return function(*args, **kwargs)

        return wrapper


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Loss scaling with PyTorch's rules (see the module's docstring); every method passes through when disabled."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if device == "cuda" and enabled and not backends.cuda_is_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available; disabling (as PyTorch does)",
                          UserWarning, stacklevel=2)
            enabled = False
        if not growth_factor > 1.0 or not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1 and backoff_factor in (0, 1), got "
                             f"{growth_factor} and {backoff_factor}")
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or growth_interval <= 0:
            raise ValueError(f"GradScaler: growth_interval must be a positive integer, got {growth_interval!r}")
        self._enabled = bool(enabled)
        self._scale, self._growth_tracker = float(init_scale), 0
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval = growth_interval
        self._per_optimizer = {}  # id(optimizer) -> {"stage": ..., "found_inf": bool}

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        """The current scale s (1.0 when disabled), a Python float."""
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` times s: a tensor, or a list/tuple of them (as PyTorch's)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        return outputs * self._float32(self._scale)

    def unscale_(self, optimizer):
        """Divide every gradient that ``optimizer`` holds by s, in place, and note whether one is inf or NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update()")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step()")
        inverse = self._float32(1.0 / self._scale)  # PyTorch: the float64 reciprocal, then float32
        found_inf = False
        for group in optimizer.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                xp = grad.backend.xp
                found_inf = found_inf or not bool(xp.isfinite(grad.array).all())
                param.grad = grad._wrap_like((grad.array * inverse).astype(grad.array.dtype, copy=False))
        state.update(stage=_UNSCALED, found_inf=found_inf)

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless a gradient is inf or NaN (then the step is skipped and None returned)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """Set the scale for the next iteration: ``new_scale``, else back off after an inf/NaN, grow after
        ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        else:
            if not self._per_optimizer:
                raise RuntimeError("No inf checks were recorded prior to update.")
            if any(state["found_inf"] for state in self._per_optimizer.values()):
                self._scale = self._float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = self._float32(self._scale * self._growth_factor)
                    if grown != float("inf"):
                        self._scale = grown
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    @staticmethod
    def _float32(value):
        """``value`` rounded to float32, as PyTorch keeps its scale (a Python float holding that value)."""
        import numpy

        return float(numpy.float32(value))

    # --- saving --------------------------------------------------------------------------------------
    def state_dict(self):
        """PyTorch's keys; empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor, self._backoff_factor = state_dict["growth_factor"], state_dict["backoff_factor"]
        self._growth_interval, self._growth_tracker = state_dict["growth_interval"], state_dict["_growth_tracker"]
