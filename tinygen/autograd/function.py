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
Tests: tests/test_autograd.py.
"""
import functools
import inspect

from tinygen import tensor as tensor_module  # a module reference: tensor.py is still loading when we are
from tinygen.autograd.anomaly import _AnomalyMode, check_forward
from tinygen.autograd.grad_mode import _mode, no_grad
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
    #: a weak reference to the output, set by ``Tensor.retain_grad()``: the engine hands it its gradient
    retained_output = None

    # Graph bookkeeping lives in slots, so ``release`` can drop everything else (op state, saved arrays)
    # with one ``__dict__.clear()`` while the graph's structure stays walkable.
    __slots__ = (
        "next_edges", "needs_input_grad", "output_shape", "output_dtype", "backend",
        "_saved", "_saved_versions", "_output", "_freed", "site", "__dict__", "__weakref__",
    )

    def forward(self, *arrays):
        """Compute the output array from the input arrays. Store on ``self`` what backward needs.
        ``self.needs_input_grad`` holds, per input, whether it requires grad (as PyTorch's ``ctx.needs_input_grad``,
        whatever the grad mode): where none does, no backward will run, and forward may skip what only it reads."""
        raise NotImplementedError

    def backward(self, grad_output):
        """Given dL/d(output) as a Tensor, return dL/d(input) for each input (a tuple, or one Tensor)."""
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__

    @classmethod
    def apply(cls, *args, **kwargs):
        """PyTorch's calling convention, for an op written as PyTorch writes one (static ``forward(ctx, ...)``
        and ``backward(ctx, grad)`` on Tensors): see tinygen/autograd/context_function.py."""
        from tinygen.autograd import context_function

        if not isinstance(inspect.getattr_static(cls, "forward"), staticmethod):
            raise TypeError(f"{cls.__name__}.apply is for ops written as PyTorch writes them (@staticmethod forward("
                            f"ctx, ...) and backward(ctx, grad)); a tinygen Function is called as "
                            f"{cls.__name__}(settings)(tensors), with forward(self, *arrays)")
        return context_function.apply(cls, args, kwargs)

    def __call__(self, *inputs):
        """``op(*tensors)``: run ``forward`` on the inputs' arrays and wrap the result. If grad mode is on and an input
        requires grad, link this node into the graph: the output's ``grad_fn``, with an edge per input to where
        that input's gradient goes (its own ``grad_fn``, itself if it is a leaf that requires grad, or nowhere)."""
        self.backend = backend = inputs[0]._backend
        arrays, requires_grad = [], []  # one pass over the inputs: list comprehensions are calls in Python 3.11
        for tensor in inputs:
            if tensor._backend is not backend:
                raise self._device_mismatch(inputs)
            arrays.append(tensor.array)
            requires_grad.append(tensor.requires_grad)
        record = True in requires_grad and _mode.enabled
        self.needs_input_grad = tuple(requires_grad)
        array = self.forward(*arrays)
        if not array.ndim or self.moves_device or _AnomalyMode.enabled:
            array, backend = self._settle_output(array)
        output = tensor_module.Tensor._make(array, backend, record, self if record else None,
                                            inputs[0]._version if self.is_view else None)
        if record:
            self._link(inputs, output)
        return output

    # --- the bookkeeping of __call__ ----------------------------------------------------------------------
    def _settle_output(self, array):
        """The rare cases of ``forward``'s array: a NumPy scalar (a reduction, scalar indexing) becomes a 0-d array,
        a device move puts it on ``target_backend``, anomaly mode checks it. Returns the array and its backend."""
        backend = self.target_backend if self.moves_device else self.backend
        if not array.ndim:
            array = backend.xp.asarray(array)
        if _AnomalyMode.enabled:
            check_forward(self, backend.xp, array)
        return array, backend

    def _link(self, inputs, output):
        """Record this node: an edge per input to where its gradient goes (its ``grad_fn``; itself, for a leaf that
        requires grad; nowhere), and what ``backward`` reads (``save_inputs``, ``save_output``) with its version."""
        self.next_edges = tuple([
            tensor.grad_fn if tensor.grad_fn is not None else (tensor if tensor.requires_grad else None)
            for tensor in inputs
        ])
        array = output.array
        self.output_shape = array.shape
        self.output_dtype = array.dtype
        self._freed = False
        if self.save_inputs:
            self._saved = inputs
            self._saved_versions = versions_of(inputs)
        if self.save_output:
            self._output = (array, output._version, output._version[0])

    def _device_mismatch(self, inputs):
        return DeviceMismatchError(
            f"{self.name}: expected all tensors on one device, got {_devices(inputs)}; "
            f"move them to one device first, with {_moves(inputs)}"
        )

    # --- what backward reads ----------------------------------------------------------------------------------
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
        array, counter, version = self._output
        check_output_unchanged(self.name, array.shape, counter, version)
        recorded = _mode.enabled
        backend = self.target_backend if self.moves_device else self.backend
        return tensor_module.Tensor._make(array, backend, recorded, self if recorded else None, counter)

    def _check_not_freed(self):
        if self._freed:
            raise freed_graph_error(self)

    def release(self):
        """Free what the forward saved (after a backward without ``retain_graph``); the node can't backward again."""
        self._freed = True
        self._saved = None
        self._output = None
        self.__dict__.clear()


def once_differentiable(backward):
    """PyTorch's ``@once_differentiable``, under ``@staticmethod``, for a backward(ctx, *grads) that cannot itself be
    differentiated (it works on raw arrays, say): it runs without recording, and where its gradients would be
    recorded (``create_graph=True`` with an upstream gradient that requires grad) differentiating them raises."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            results = backward(ctx, *grads)
        recorded = [grad for grad in grads if isinstance(grad, tensor_module.Tensor) and grad.requires_grad]
        if not (_mode.enabled and recorded):
            return results
        marked = [_DifferentiatedTwice(ctx.node.name)(result, recorded[0]) if isinstance(result, tensor_module.Tensor)
                  else result for result in (results if isinstance(results, tuple) else (results,))]
        return tuple(marked) if isinstance(results, tuple) else marked[0]

    return wrapper


class _DifferentiatedTwice(Function):
    """A gradient of a ``@once_differentiable`` backward, unchanged, in a graph that raises if reached: its
    inputs are the gradient and the upstream gradient, so it is recorded wherever the upstream one is."""

    __slots__ = ("op_name",)  # kept when ``release`` clears the rest, for the name

    def __init__(self, op_name):
        self.op_name = op_name

    @property
    def name(self):
        return f"{self.op_name}.backward"

    def forward(self, result, upstream):
        return result

    def backward(self, grad_output):
        raise RuntimeError(f"{self.op_name}: trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def __getattr__(name):
    """``FunctionCtx`` (for type hints, ``ctx: FunctionCtx``), where PyTorch has it; it is defined in
    context_function, which imports this module, so it is looked up when asked for."""
    if name == "FunctionCtx":
        from tinygen.autograd.context_function import FunctionCtx

        return FunctionCtx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def freed_graph_error(node):
    """The error for a backward through ``node`` after an earlier backward released it."""
    return RuntimeError(
        f"{node.name}: trying to backward through the graph a second time, but its saved values were "
        "freed after the first backward. Pass retain_graph=True to the first backward() if you need "
        "to go through the graph again"
    )


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

