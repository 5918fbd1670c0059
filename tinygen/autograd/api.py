"""The two entry points of reverse mode, with PyTorch's signatures.

``backward(y)``        accumulates dy/dx into ``x.grad`` for every leaf x that requires grad (``inputs=[x1, x2]``:
                       into those tensors' ``.grad`` only, running only the nodes that lead to them).
``grad(y, [x1, x2])``  returns (dy/dx1, dy/dx2) and touches no ``.grad``; with ``create_graph=True`` the
                       results are part of a new graph, so they can be differentiated again (gradient penalty).
Tests: tests/test_autograd.py.
"""
import warnings

from tinygen.autograd.engine import run_backward
from tinygen.autograd.trace import _Tracing
from tinygen.tensor import Tensor


def _as_list(value, name):
    """A Tensor, or any iterable of them (``model.parameters()``, a generator, as PyTorch takes), as a list."""
    if isinstance(value, Tensor):
        return [value]
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name}: expected a Tensor or a sequence of Tensors, got {type(value).__name__}")
    items = list(value)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(item).__name__}")
    return items


def _root_gradients(caller, outputs, gradients):
    """Check each output can be differentiated and pair it with dL/d(output) (1 for a one-element output)."""
    if gradients is None:
        gradients = [None] * len(outputs)
    if len(gradients) != len(outputs):
        raise ValueError(f"{caller}: got {len(outputs)} outputs but {len(gradients)} gradients")
    result = []
    for position, (output, gradient) in enumerate(zip(outputs, gradients)):
        if not output.requires_grad:
            raise RuntimeError(
                f"{caller}: output {position} (shape {output.shape}) does not require grad and has no grad_fn: "
                "nothing it depends on requires grad, or it was computed under no_grad()"
            )
        if gradient is None:
            if output.numel() != 1:
                raise RuntimeError(
                    f"{caller}: output {position} has shape {output.shape}; a gradient can be implied only for "
                    f"a one-element output. Pass {'grad_outputs' if caller == 'grad' else 'gradient'}= (dL/d output, "
                    "same shape) or reduce it first, e.g. .sum()"
                )
            gradient = output._wrap_like(output.backend.xp.ones(output.array.shape, dtype=output.dtype))
        else:
            if not isinstance(gradient, Tensor):
                raise TypeError(f"{caller}: gradient {position} must be a Tensor, got {type(gradient).__name__}")
            if gradient.backend is not output.backend:
                raise RuntimeError(
                    f"{caller}: gradient {position} is on {gradient.device!r} but the output is on {output.device!r}"
                )
            if gradient.shape != output.shape:
                raise RuntimeError(
                    f"{caller}: gradient {position} has shape {gradient.shape} but the output has shape "
                    f"{output.shape}; they must match"
                )
            if gradient.dtype != output.dtype:
                gradient = gradient.to(dtype=output.dtype)
            if not gradient.requires_grad:  # a private copy: the engine may hand it to a leaf's .grad
                gradient = gradient._wrap_like(gradient.array.copy())
        result.append(gradient)
    return result


def _walk(*args, **kwargs):
    """``run_backward``, telling an active ``trace()`` when the walk raised (its caller may catch the error)."""
    tracer = _Tracing.active
    depth = tracer.open_passes() if tracer is not None else 0
    try:
        return run_backward(*args, **kwargs)
    except BaseException as error:
        if tracer is not None:
            tracer.abort_passes(depth, error)
        raise


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` (weighted by ``grad_tensors``) into the leaves' ``.grad``.

    With ``inputs`` (a Tensor or a sequence of them, each requiring grad), only their ``.grad`` is accumulated (a
    non-leaf input's too) and every other tensor is left alone; nodes that lead to no input do not run, so the
    walk does only the work those gradients need. An input the tensors do not depend on keeps its ``.grad``.
    """
    outputs = _as_list(tensors, "backward")
    gradients = _as_list(grad_tensors, "backward")
    targets = _backward_inputs(inputs)
    roots = _root_gradients("backward", outputs, gradients)
    retain_graph = create_graph if retain_graph is None else retain_graph
    _walk(outputs, roots, retain_graph, create_graph, targets=targets, accumulate=targets is not None)


def _backward_inputs(inputs):
    """``backward``'s ``inputs`` as a list (``None`` when not given): non-empty, and each requiring grad."""
    targets = _as_list(inputs, "backward")
    if targets is None:
        return None
    if not targets:
        raise RuntimeError("backward: inputs is empty; name the tensors whose .grad to accumulate into, or leave "
                           "inputs out for every leaf")
    for position, tensor in enumerate(targets):
        if not tensor.requires_grad:
            raise RuntimeError(f"backward: input {position} (shape {tensor.shape}) does not require grad")
    return targets


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=False):
    """d(outputs)/d(inputs), weighted by ``grad_outputs``, as a tuple with one Tensor per input.

    An input that the outputs do not depend on is an error, unless ``allow_unused=True`` (its entry is ``None``).
    ``only_inputs`` is PyTorch's retired argument: accepted, and ``False`` warns as PyTorch does.
    """
    if not only_inputs:
        warnings.warn("grad: only_inputs is deprecated and ignored (it is always True); to accumulate gradients "
                      "into other leaves use tinygen.autograd.backward", FutureWarning, stacklevel=2)
    output_list = _as_list(outputs, "grad")
    input_list = _as_list(inputs, "grad")
    for position, tensor in enumerate(input_list):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad: input {position} (shape {tensor.shape}) does not require grad")
    roots = _root_gradients("grad", output_list, _as_list(grad_outputs, "grad"))
    results = _walk(
        output_list, roots, create_graph if retain_graph is None else retain_graph, create_graph, targets=input_list
    )
    for position, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {position} (shape {input_list[position].shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(results)
