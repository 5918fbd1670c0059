"""``Variable``: the wrapper PyTorch retired in 0.4, when tensors took on autograd themselves.

``Variable(x)`` gives what PyTorch gives: a tensor sharing ``x``'s memory, cut out of the graph (a leaf),
requiring grad if ``requires_grad=True``. Old scripts run unchanged; a DeprecationWarning says what to write
now (shown by default in the script itself, not in libraries that use it).
"""
import warnings

__all__ = ["Variable"]


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802  (PyTorch's name)
    from tinygen.tensor import Tensor

    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: expected a Tensor, got {type(data).__name__}")
    warnings.warn(
        "Variable is deprecated: tensors carry autograd themselves. Variable(x) is x.detach() (with "
        "requires_grad_() when requires_grad=True); volatile=True is `with tinygen.no_grad():`",
        DeprecationWarning, stacklevel=2,
    )
    if volatile:
        warnings.warn("Variable: volatile has no effect; use `with tinygen.no_grad():`", UserWarning, stacklevel=2)
    return data.detach().requires_grad_(requires_grad)
