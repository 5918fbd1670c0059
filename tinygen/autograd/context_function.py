"""PyTorch's way of writing an op, for scripts and coursework written for it: static ``forward(ctx, ...)`` and
``backward(ctx, grad)`` on Tensors, called through ``apply``::

    class MyReLU(tinygen.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * (x > 0).to(grad_output.dtype)

    y = MyReLU.apply(x)

``apply`` runs the definition inside one tinygen ``Function`` node (``ContextNode``): forward gets the inputs as
Tensors cut out of the graph (nothing it does is recorded) and any other arguments as they are; backward gets
dL/d(output) as a Tensor and returns one gradient per argument of forward (``None`` for a non-tensor). What
forward saved comes back in backward as the inputs and output themselves (checked for in-place changes), so a
backward written with tensor ops can be differentiated again (``create_graph=True``). PyTorch 2's style, a
``forward(*args)`` without ctx and a ``setup_context(ctx, inputs, output)``, runs the same way.

Several outputs (forward returns a tuple): a tinygen node has one output, so the node's output packs the
differentiable outputs (floating-point Tensors not passed to ``ctx.mark_non_differentiable``), raveled and
concatenated in their common dtype, and ``apply`` returns each as its piece of it, reshaped and cast back
(``_Output``, whose backward is ``_Place``). Backward splits dL/d(packed) into one gradient per output: zeros for
an output the loss does not depend on (``None`` after ``ctx.set_materialize_grads(False)``), ``None`` for a
non-Tensor output.
Tests: tests/test_context_function.py, tests/test_context_function_outputs.py.
"""
import inspect

from tinygen.autograd.function import Function, freed_graph_error
from tinygen.autograd.grad_mode import no_grad
from tinygen.tensor import Tensor


class FunctionCtx:
    """What forward and backward share: ``save_for_backward(*tensors)`` / ``saved_tensors``,
    ``needs_input_grad`` (one flag per argument of forward), ``mark_non_differentiable(*outputs)``,
    ``set_materialize_grads(value)`` and any attribute forward sets."""

    materialize_grads = True
    non_differentiable = ()

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    @property
    def saved_tensors(self):
        return self.node.saved_tensors(getattr(self, "to_save", ()))

    def mark_non_differentiable(self, *outputs):
        """These outputs of forward do not require grad; backward still gets a gradient for each (zeros or None)."""
        self.non_differentiable = outputs

    def set_materialize_grads(self, value):
        """``False``: backward gets ``None`` instead of zeros for an output the loss does not depend on."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        raise NotImplementedError(f"{self.node.name}: ctx.mark_dirty (a forward that changes its input in place) is "
                                  "not supported: return a new tensor instead (x * 2, not x.mul_(2)) and drop "
                                  "mark_dirty")


class ContextNode(Function):
    """The graph node of one ``definition.apply(*args)``: its inputs are the Tensor arguments, its output forward's
    output (or, for several, the differentiable ones packed into one array: see the module's docstring)."""

    save_inputs = True
    save_output = True
    __slots__ = ("op_name",)  # kept when ``release`` clears the rest: the name still shows in grad_fn

    def __init__(self, definition, args):
        self.definition, self.args, self.op_name = definition, args, definition.__name__
        self.ctx = FunctionCtx()
        self.ctx.node = self
        self.reached = set()  # the outputs a gradient came through in this backward (``_Output.backward`` adds)

    @property
    def name(self):
        return self.op_name

    def forward(self, *arrays):
        needs = iter(self.needs_input_grad)
        self.ctx.needs_input_grad = tuple(next(needs) if _is_tensor(arg) else False for arg in self.args)
        self.detached = [Tensor._make(array, self.backend) for array in arrays]
        detached = iter(self.detached)
        inputs = tuple(next(detached) if _is_tensor(arg) else arg for arg in self.args)
        with no_grad():
            if _has_setup_context(self.definition):
                output = self.definition.forward(*inputs)
                self.definition.setup_context(self.ctx, inputs, output)
            else:
                output = self.definition.forward(self.ctx, *inputs)
        return self._pack(output)

    def _pack(self, output):
        """The node's output array: forward's one Tensor output, or its differentiable outputs packed."""
        self.single = _is_tensor(output) and self._differentiable(output)
        if self.single:
            self.outputs = (output,)
            return output.array
        if not isinstance(output, tuple) and not _is_tensor(output):
            raise TypeError(f"{self.name}.forward must return a Tensor or a tuple, got {type(output).__name__}")
        self.outputs = output if isinstance(output, tuple) else (output,)
        self.returns_tuple = isinstance(output, tuple)
        self.pieces, start = {}, 0  # output index: (start, stop, shape, dtype) in the packed array
        for index, tensor in enumerate(self.outputs):
            if self._differentiable(tensor):
                self.pieces[index] = (start, start + tensor.numel(), tensor.array.shape, tensor.array.dtype)
                start += tensor.numel()
        xp = self.backend.xp
        if not self.pieces:
            return xp.zeros(0)
        return xp.concatenate([self.outputs[index].array.reshape(-1) for index in self.pieces])

    def _differentiable(self, output):
        return (_is_tensor(output) and output.is_floating_point()
                and not any(output is marked for marked in self.ctx.non_differentiable))

    def unpack(self, packed):
        """What ``apply`` returns: forward's output, each differentiable output a piece of ``packed``."""
        if self.single:
            return packed
        outputs = tuple(_Output(self, index)(packed) if index in self.pieces else output
                        for index, output in enumerate(self.outputs))
        return outputs if self.returns_tuple else outputs[0]

    def saved_tensors(self, saved):
        """What forward saved, as the tensors of the graph: an input as the input, an output as the output."""
        inputs = {id(detached): position for position, detached in enumerate(self.detached)}
        outputs = {id(output): index for index, output in enumerate(self.outputs)}
        return tuple(self._saved_output(outputs[id(tensor)]) if id(tensor) in outputs else
                     self.saved_inputs[inputs[id(tensor)]] if id(tensor) in inputs else tensor for tensor in saved)

    def _saved_output(self, index):
        if self.single:
            return self.saved_output
        return _Output(self, index)(self.saved_output) if index in self.pieces else self.outputs[index]

    def backward(self, grad_output):
        grads = _backward_of(self.definition)(self.ctx, *self._output_grads(grad_output))
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) > len(self.args) and all(grad is None for grad in grads[len(self.args):]):
            grads = grads[:len(self.args)]  # Nones for arguments forward left at their defaults, as PyTorch allows
        if len(grads) != len(self.args):
            raise RuntimeError(f"{self.name}.backward returned {len(grads)} gradients for the {len(self.args)} "
                               "arguments of forward: return one per argument, None for one that is not a Tensor")
        for grad, arg in zip(grads, self.args):
            if grad is not None and not _is_tensor(arg):
                raise RuntimeError(f"{self.name}.backward returned a gradient for the argument {arg!r}, which is "
                                   "not a Tensor: return None for it")
        return tuple(grad for grad, arg in zip(grads, self.args) if _is_tensor(arg))

    def _output_grads(self, packed_grad):
        """dL/d(each output of forward), cut from dL/d(packed output). An output the loss does not depend on gets
        zeros of its shape and dtype (``None`` after ``set_materialize_grads(False)``); a non-Tensor gets ``None``."""
        if self.single:
            return (packed_grad,)
        reached, self.reached = self.reached, set()
        materialize = self.ctx.materialize_grads
        grads = []
        for index, output in enumerate(self.outputs):
            if index in self.pieces and (materialize or index in reached):
                grads.append(_cut(packed_grad, self.pieces[index]))
            elif _is_tensor(output) and materialize:
                grads.append(output.new_zeros(output.shape))
            else:
                grads.append(None)
        return grads


class _Output(Function):
    """Output ``index`` of a definition with several: its piece of the node's packed output, reshaped and cast
    back to its dtype. Backward puts dL/d(output) in the piece's place (``_Place``) and tells the node that a
    gradient came through this output (what ``set_materialize_grads(False)`` needs to know)."""

    __slots__ = ("op_name",)

    def __init__(self, node, index):
        self.node, self.index, self.op_name = node, index, f"{node.name}[{index}]"

    @property
    def name(self):
        return self.op_name

    def forward(self, packed):
        self.packed_dtype, self.packed_size = packed.dtype, packed.shape[0]
        start, stop, shape, dtype = self.node.pieces[self.index]
        return packed[start:stop].reshape(shape).astype(dtype)  # a copy: outputs don't alias each other

    def backward(self, grad):
        node = self.node
        if node._freed:  # a backward through another output released it
            raise freed_graph_error(node)
        node.reached.add(self.index)
        return _Place(node.pieces[self.index], self.packed_dtype, self.packed_size)(grad)


class _Place(Function):
    """dL/d(packed) from dL/d(one output): the gradient raveled in its piece's place, zeros elsewhere. Linear; its
    backward cuts the piece out again, so second derivatives go through it."""

    def __init__(self, piece, packed_dtype, packed_size):
        self.piece, self.packed_dtype, self.packed_size = piece, packed_dtype, packed_size

    def forward(self, grad):
        start, stop, _, _ = self.piece
        packed = self.backend.xp.zeros(self.packed_size, dtype=self.packed_dtype)
        packed[start:stop] = grad.reshape(-1)
        return packed

    def backward(self, grad_packed):
        return _cut(grad_packed, self.piece)


def _cut(packed, piece):
    """One output's piece of a packed Tensor, in that output's shape and dtype (differentiable: tensor ops)."""
    start, stop, shape, dtype = piece
    return packed[start:stop].reshape(shape).to(dtype=dtype)


def apply(definition, args, kwargs):
    """``definition.apply(*args, **kwargs)``: the output(s) of ``definition.forward``, recorded as one node."""
    args = _arguments(definition, args, kwargs)
    tensors = [arg for arg in args if _is_tensor(arg)]
    if not tensors:
        raise TypeError(f"{definition.__name__}.apply: expected at least one Tensor argument, got "
                        f"{', '.join(type(arg).__name__ for arg in args) or 'none'}")
    node = ContextNode(definition, args)
    return node.unpack(node(*tensors))


def _arguments(definition, args, kwargs):
    """forward's arguments in order, as PyTorch binds them: keyword arguments to their places; with
    ``setup_context``, forward's defaults filled in too."""
    setup_context = _has_setup_context(definition)
    if not kwargs and not setup_context:
        return args
    ctx = () if setup_context else (None,)
    try:
        bound = inspect.signature(definition.forward).bind(*ctx, *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{definition.__name__}.apply: {error}") from None
    if setup_context:
        bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"{definition.__name__}.apply: {', '.join(bound.kwargs)} can be given by keyword only with "
                        "every argument of forward before it (apply passes them to forward by position)")
    return bound.args[len(ctx):]


def _backward_of(definition):
    """The definition's ``backward``, or ``vjp`` (PyTorch's other name for it) where it writes that instead."""
    if definition.backward is not Function.backward:
        return definition.backward
    if getattr(definition, "vjp", None) is not None:
        return definition.vjp
    raise NotImplementedError(f"{definition.__name__} has no backward: write @staticmethod backward(ctx, *grads), "
                              "returning one gradient per argument of forward")


def _has_setup_context(definition):
    return getattr(definition, "setup_context", None) is not None


def _is_tensor(value):
    return isinstance(value, Tensor)
