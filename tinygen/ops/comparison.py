"""Comparisons and logic. Their results are boolean tensors: they are not differentiable and never require grad.
Tests: tests/test_comparison.py.
"""
from tinygen.ops import checks
from tinygen.tensor import Tensor

_OPERATORS = {
    "eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "and": "logical_and", "or": "logical_or",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
}


def _boolean(array, backend):
    """A tensor holding a ufunc's boolean result (asarray: on 0-d inputs NumPy's ufuncs return a NumPy scalar)."""
    return Tensor._make(backend.xp.asarray(array), backend)


def compare(op, a, b):
    """``a <op> b`` elementwise with broadcasting (``op`` in eq ne lt le gt ge and or)."""
    if not isinstance(b, Tensor) and not isinstance(a, Tensor):
        return NotImplemented
    try:
        a, b = checks.as_operand_pair(op, a, b)
    except TypeError:
        if op in ("eq", "ne"):  # x == None, x == "text": plain Python answers, as PyTorch gives
            return op == "ne"
        raise
    checks.broadcast_shapes(op, a.shape, b.shape)
    xp = a.backend.xp
    return _boolean(getattr(xp, _OPERATORS[op])(a.array, b.array), a.backend)


def logical_not(x):
    checks.require_tensor("logical_not", x)
    return _boolean(x.backend.xp.logical_not(x.array), x.backend)


_BITWISE = {"and": ("&", "bitwise_and"), "or": ("|", "bitwise_or"), "xor": ("^", "bitwise_xor")}


def _require_bool_or_integer(symbol, x):
    if x.dtype.kind not in "biu":
        raise TypeError(
            f"{symbol}: bitwise ops take bool or integer tensors, got {x.dtype} (as in PyTorch); for a truth "
            "test compare first, e.g. (x > 0) & (x < 1), or use tinygen.logical_and/or/xor/not"
        )


def bitwise(op, a, b):
    """``a & b``, ``a | b``, ``a ^ b`` (``op`` in and, or, xor) as PyTorch's: logical on bool tensors, bitwise
    on integer ones (promoted as for arithmetic: int32 & int64 is int64), refused for floats. Not
    differentiable."""
    if not isinstance(b, Tensor) and not isinstance(a, Tensor):
        return NotImplemented
    symbol, ufunc = _BITWISE[op]
    a, b = checks.as_operand_pair(symbol, a, b)
    _require_bool_or_integer(symbol, a)
    checks.broadcast_shapes(symbol, a.shape, b.shape)
    return _boolean(getattr(a.backend.xp, ufunc)(a.array, b.array), a.backend)


def bitwise_not(x):
    """``~x`` as PyTorch's: logical not of a bool tensor, the bitwise complement (-x - 1) of an integer one."""
    checks.require_tensor("~", x)
    _require_bool_or_integer("~", x)
    return _boolean(x.backend.xp.invert(x.array), x.backend)


def _logical(name, input, other):
    """``input <name> other`` on truth values (nonzero is true), broadcast; a bool tensor, as PyTorch's."""
    checks.require_tensor(name, input)
    checks.require_tensor(name, other, "other")
    return compare(name, input, other)


def logical_and(input, other):
    return _logical("logical_and", input, other)


def logical_or(input, other):
    return _logical("logical_or", input, other)


def logical_xor(input, other):
    return _logical("logical_xor", input, other)


def isfinite(x):
    return _boolean(x.backend.xp.isfinite(x.array), x.backend)


def isnan(x):
    return _boolean(x.backend.xp.isnan(x.array), x.backend)


def nonzero(input, *, as_tuple=False):
    """The indices of ``input``'s nonzero (true) entries in row-major order, as PyTorch's: an int64 tensor of
    shape (count, input.ndim), or with ``as_tuple`` one 1-D int64 tensor per dim (what ``x[...]`` takes). Not
    differentiable: indices are integers."""
    checks.require_tensor("nonzero", input)
    xp, backend = input.backend.xp, input.backend
    array = input.array if input.ndim else input.array.reshape(1)  # a 0-d input: one entry, as PyTorch takes it
    indices = [index.astype(xp.int64) for index in xp.nonzero(array)]
    if input.ndim == 0:
        count = indices[0].shape[0]
        return (_boolean(indices[0], backend),) if as_tuple else _boolean(xp.zeros((count, 0), xp.int64), backend)
    if as_tuple:
        return tuple(_boolean(index, backend) for index in indices)
    return _boolean(xp.stack(indices, axis=1), backend)


def argwhere(input):
    """``nonzero(input)``: the (count, ndim) int64 indices of the nonzero entries."""
    return nonzero(input)


def any(x, dim=None, keepdim=False):
    """Whether some element is nonzero: over all of ``x``, or along ``dim`` (a bool tensor, ``keepdim`` as
    ``sum``'s)."""
    if dim is None:
        return _boolean(x.array.any(), x.backend)
    return _boolean(x.array.any(axis=checks.normalize_dim("any", dim, x.ndim), keepdims=keepdim), x.backend)


def all(x, dim=None, keepdim=False):
    """Whether every element is nonzero, as ``any``."""
    if dim is None:
        return _boolean(x.array.all(), x.backend)
    return _boolean(x.array.all(axis=checks.normalize_dim("all", dim, x.ndim), keepdims=keepdim), x.backend)


def equal(a, b):
    """True if both tensors have one shape and the same values (a Python bool, like ``torch.equal``)."""
    return a.shape == b.shape and bool((a == b).all())


def allclose(a, b, rtol=1e-5, atol=1e-8):
    """True if |a - b| <= atol + rtol |b| everywhere (a Python bool)."""
    a, b = checks.as_operand_pair("allclose", a, b)
    return bool(a.backend.xp.allclose(a.array, b.array, rtol=rtol, atol=atol))
