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
backward written with tensor ops can be differentiated again (``create_graph=True``). One output per op, as every
tinygen ``Function``. Tests: tests/test_context_function.py.
"""
from tinygen.autograd.function import Function
from tinygen.autograd.grad_mode import no_grad
from tinygen.tensor import Tensor


class FunctionCtx:
    """What forward and backward share: ``save_for_backward(*tensors)`` / ``saved_tensors``,
    ``needs_input_grad`` (one flag per argument of forward) and any attribute forward sets."""

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    @property
    def saved_tensors(self):
        return self.node.saved_tensors(getattr(self, "to_save", ()))


class ContextNode(Function):
    """The graph node of one ``definition.apply(*args)``: its inputs are the Tensor arguments."""

    save_inputs = True
    save_output = True
    __slots__ = ("op_name",)  # kept when ``release`` clears the rest: the name still shows in grad_fn

    def __init__(self, definition, args):
        self.definition, self.args, self.op_name = definition, args, definition.__name__
        self.ctx = FunctionCtx()
        self.ctx.node = self

    @property
    def name(self):
        return self.op_name

    def forward(self, *arrays):
        needs = iter(self.needs_input_grad)
        self.ctx.needs_input_grad = tuple(next(needs) if _is_tensor(arg) else False for arg in self.args)
        self.detached = [Tensor._make(array, self.backend) for array in arrays]
        inputs = iter(self.detached)
        with no_grad():
            output = self.definition.forward(self.ctx, *[next(inputs) if _is_tensor(arg) else arg
                                                         for arg in self.args])
        if not _is_tensor(output):
            raise TypeError(f"{self.name}.forward must return one Tensor (tinygen ops have one output), got "
                            f"{type(output).__name__}")
        self.detached_output = output
        return output.array

    def saved_tensors(self, saved):
        """What forward saved, as the tensors of the graph: an input as the input, the output as the output."""
        places = {id(detached): position for position, detached in enumerate(self.detached)}
        return tuple(self.saved_output if tensor is self.detached_output else
                     self.saved_inputs[places[id(tensor)]] if id(tensor) in places else tensor for tensor in saved)

    def backward(self, grad_output):
        grads = self.definition.backward(self.ctx, grad_output)
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


def apply(definition, args):
    """``definition.apply(*args)``: the output of ``definition.forward``, recorded as one node."""
    tensors = [arg for arg in args if _is_tensor(arg)]
    if not tensors:
        raise TypeError(f"{definition.__name__}.apply: expected at least one Tensor argument, got "
                        f"{', '.join(type(arg).__name__ for arg in args) or 'none'}")
    return ContextNode(definition, args)(*tensors)


def _is_tensor(value):
    return isinstance(value, Tensor)
