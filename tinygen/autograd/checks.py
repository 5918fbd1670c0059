"""The errors for what a ``Function``'s backward returns, so that a mistake in a custom Function is reported against
the op that made it instead of surfacing later as an unrelated error (or as a silently missing gradient).

The engine's ``_check_input_grads`` makes the comparisons for every node, inline (a comparison or two each); the
messages are built here, only on failure.
"""
from tinygen import tensor as tensor_module  # a module reference: tensor.py is still loading when we are


def gradient_count_error(node, input_grads):
    """``node.backward`` must return one gradient per input of the op (``None`` for an input it does not
    differentiate): ``zip`` with the inputs would otherwise drop the extra ones, or leave the last inputs
    without a gradient, silently."""
    count, inputs = len(input_grads), len(node.next_edges)
    return RuntimeError(
        f"{node.name}.backward returned {count} gradient{'s' if count != 1 else ''} for an op with "
        f"{inputs} input{'s' if inputs != 1 else ''}: return one per input, in the order of forward's "
        "arguments (None for an input that needs no gradient)"
    )


def wrong_gradient_error(node, edge, grad):
    """A gradient must be a Tensor on the device of the input it belongs to (every input of an op lives on the
    op's device, ``node.backend``)."""
    if type(grad) is not tensor_module.Tensor:
        return RuntimeError(
            f"{node.name}.backward returned a {_type_name(grad)} for input {_position(node, edge)} instead of a "
            "Tensor: build gradients with tinygen ops on grad_output (e.g. g * x), which also keeps second "
            "derivatives working"
        )
    return RuntimeError(
        f"{node.name}.backward returned a gradient on device {grad.device!r} for input {_position(node, edge)} "
        f"on device {node.backend.device!r}: compute it from grad_output and the saved inputs, which live there"
    )


def _position(node, edge):
    return next(position for position, other in enumerate(node.next_edges) if other is edge)  # not ==: elementwise


def _type_name(value):
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
