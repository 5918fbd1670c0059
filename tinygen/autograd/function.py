"""``Function``: the base class of every differentiable op, and the node type of the graph.

An op is a subclass with two methods side by side::

    class Mul(Function):
        '''z = a * b.   dL/da = g * b,  dL/db = g * a.'''
        save_inputs = True

        def forward(self, a, b):        # raw arrays in, raw array out
            return a * b

        def backward(self, g):          # Tensors in, Tensors out: one gradient per input (or None)
            a, b = self.saved_inputs
            return g * b, g * a

Calling an instance, ``Mul()(a, b)``, runs ``forward`` on the arrays and, if any input requires grad
(and grad mode is on), records the instance as the output's ``grad_fn``. Because ``backward`` is written
with tinygen's own differentiable ops, the backward pass can itself be recorded
(``create_graph=True``) and differentiated again: that is how second derivatives work for every op.
"""
from tinygen import tensor as tensor_module  # a module reference: tensor.py is still loading when we are
from tinygen.autograd.anomaly import _AnomalyMode, check_forward
from tinygen.autograd.grad_mode import _mode
from tinygen.autograd.versions import check_output_unchanged, check_unchanged, versions_of


class DeviceMismatchError(RuntimeError):
    """An op got tensors that live on different devices (tinygen never copies between devices silently)."""


class Function:
    #: backward reads ``self.saved_inputs`` (the input Tensors, checked for in-place changes)
    save_inputs = False
    #: backward reads ``self.saved_output`` (the output Tensor, rebuilt from its saved array)
    save_output = False
    #: the output is a view of the first input: they share memory and their version counter
    is_view = False
    #: the output lives on ``self.target_backend``, not on the inputs' device (only ``ToDevice``)
    moves_device = False

    # Graph bookkeeping lives in slots, so ``release`` can drop everything else (op state, saved arrays)
    # with one ``__dict__.clear()`` while the graph's structure stays walkable.
    __slots__ = (
        "next_edges", "needs_input_grad", "output_shape", "output_dtype", "backend",
        "_saved", "_saved_versions", "_output", "_freed", "site", "__dict__", "__weakref__",
    )

    def forward(self, *arrays):
        """Compute the output array from the input arrays. Store on ``self`` what backward needs."""
        raise NotImplementedError

    def backward(self, grad_output):
        """Given dL/d(output) as a Tensor, return dL/d(input) for each input (a tuple, or one Tensor)."""
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__

    def __call__(self, *inputs):
        backend = inputs[0]._backend
        any_requires_grad = False
        for tensor in inputs:
            if tensor._backend is not backend:
                raise DeviceMismatchError(
                    f"{self.name}: expected all tensors on one device, got {_devices(inputs)}; "
                    f"move them to one device first, with {_moves(inputs)}"
                )
            any_requires_grad = any_requires_grad or tensor.requires_grad
        record = any_requires_grad and _mode.enabled
        if record:
            self.needs_input_grad = tuple(tensor.requires_grad for tensor in inputs)
        self.backend = backend  # forward uses self.backend.xp
        output_data = self.forward(*[tensor.data for tensor in inputs])
        output_backend = self.target_backend if self.moves_device else backend
        if not output_data.ndim:  # NumPy reductions and scalar indexing give scalars: keep 0-d arrays
            output_data = output_backend.xp.asarray(output_data)
        if _AnomalyMode.enabled:
            check_forward(self, output_backend.xp, output_data)
        output = tensor_module.Tensor._make(output_data, output_backend, record, self if record else None,
                              inputs[0]._version if self.is_view else None)
        if not record:
            return output
        self.next_edges = tuple(
            tensor.grad_fn if tensor.grad_fn is not None else (tensor if tensor.requires_grad else None)
            for tensor in inputs
        )
        self.output_shape = output_data.shape
        self.output_dtype = output_data.dtype
        self._freed = False
        if self.save_inputs:
            self._saved = inputs
            self._saved_versions = versions_of(inputs)
        if self.save_output:
            self._output = (output_data, output._version, output._version[0])
        return output

    @property
    def saved_inputs(self):
        """The input Tensors as they were at forward time; an error if one was changed in place since."""
        self._check_not_freed()
        check_unchanged(self.name, self._saved, self._saved_versions)
        return self._saved

    @property
    def saved_output(self):
        """The output Tensor, rebuilt so that, when the backward is recorded, gradients flow back through it."""
        self._check_not_freed()
        data, counter, version = self._output
        check_output_unchanged(self.name, data.shape, counter, version)
        recorded = _mode.enabled
        backend = self.target_backend if self.moves_device else self.backend
        return tensor_module.Tensor._make(data, backend, recorded, self if recorded else None, counter)

    def _check_not_freed(self):
        if self._freed:
            raise RuntimeError(
                f"{self.name}: trying to backward through the graph a second time, but its saved values were "
                "freed after the first backward. Pass retain_graph=True to the first backward() if you need "
                "to go through the graph again"
            )

    def release(self):
        """Free what the forward saved (after a backward without ``retain_graph``); the node can't backward again."""
        self._freed = True
        self._saved = None
        self._output = None
        self.__dict__.clear()


def _device_names(tensors):
    names = []
    for tensor in tensors:
        if tensor.device not in names:
            names.append(tensor.device)
    return names


def _devices(tensors):
    return " and ".join(repr(name) for name in _device_names(tensors))


def _moves(tensors):
    return " or ".join(f".to({name!r})" for name in _device_names(tensors))

