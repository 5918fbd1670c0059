"""Vector norms over dimensions (PyTorch's ``torch.norm`` / ``Tensor.norm`` with a number ``p`` or ``"fro"``).

    ||x||_p = (sum_i |x_i|^p)^(1/p)   p > 0      ||x||_inf = max_i |x_i|   ||x||_-inf = min_i |x_i|
    ||x||_0 = the number of non-zero x_i

Gradient, with y the norm and g = dL/dy spread back over the reduced dimensions:

    p = 2:           g x / y                      p = 1:   g sign(x)
    other p:         g sign(x) |x|^(p-1) / y^(p-1)
    p = +-inf:       g sign(x) on the entries with |x_i| = y, split evenly among ties
    p = 0:           0
and 0 wherever y = 0 (the subgradient PyTorch picks). The backward is written with tinygen's ops on x and
on y (the saved output, itself differentiable), so a gradient penalty's double backward goes through it.
``normalize`` (``F.normalize``) divides by the norm, composed of ``norm``, ``clamp`` and ``/``; so is
``cosine_similarity`` (``F.cosine_similarity``), the sum of the products of two normalized vectors.
See docs/derivations/reductions.md for how a reduced gradient is spread back.
"""
import math
import numbers

from tinygen.autograd.function import Function
from tinygen.backend.dtypes import is_floating, to_dtype
from tinygen.ops import checks
from tinygen.ops.elementwise import abs, clamp, sign, where
from tinygen.ops.reduction import _spread
from tinygen.tensor import Tensor

__all__ = ["cosine_similarity", "norm", "normalize"]


class VectorNorm(Function):
    """y = ||x||_p over ``dims``; the formulas are in the module docstring."""

    save_inputs = True
    save_output = True

    def __init__(self, p, dims, keepdim):
        self.p, self.dims, self.keepdim = p, dims, keepdim

    def forward(self, x):
        xp, p, dims = self.backend.xp, self.p, self.dims
        magnitude = xp.abs(x)
        if p == math.inf:
            y = magnitude.max(axis=dims, keepdims=True)
        elif p == -math.inf:
            y = magnitude.min(axis=dims, keepdims=True)
        elif p == 0:
            y = (x != 0).sum(axis=dims, keepdims=True).astype(x.dtype)
        elif p == 1:
            y = magnitude.sum(axis=dims, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=dims, keepdims=True))
        else:
            y = (magnitude ** p).sum(axis=dims, keepdims=True) ** (1.0 / p)
            self.entry_is_zero = x == 0  # where |x|^(p-1) may be infinite while the gradient is 0
        if p in (math.inf, -math.inf):  # the entries at the norm, each with its share of the gradient
            at_norm = (magnitude == y).astype(x.dtype)
            self.share = at_norm / at_norm.sum(axis=dims, keepdims=True)
        self.is_zero = y == 0
        return y if self.keepdim else y.reshape([e for a, e in enumerate(x.shape) if a not in dims])

    def backward(self, g):
        (x,) = self.saved_inputs
        p = self.p
        if p == 0:
            return x * 0.0
        y = _spread(self.saved_output, x.shape, self.dims)
        g = _spread(g, x.shape, self.dims)
        if p == 1:
            return g * sign(x)
        if p in (math.inf, -math.inf):
            return g * sign(x) * Tensor._make(self.share, x.backend)
        is_zero = _spread(Tensor._make(self.is_zero, x.backend), x.shape, self.dims)
        safe_y = where(is_zero, 1.0, y)  # y = 0 means x = 0 there: gradient 0
        if p == 2:
            return g * x / safe_y
        safe_magnitude = where(Tensor._make(self.entry_is_zero, x.backend), 1.0, abs(x))
        return g * sign(x) * safe_magnitude ** (p - 1) / safe_y ** (p - 1)


def _order(p):
    """``p`` as a float (``"fro"`` is 2); other strings (``"nuc"``) are not vector norms."""
    if p == "fro":
        return 2.0
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ValueError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r} (tinygen has vector norms only)")
    return float(p)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """||input||_p over ``dim`` (an int, a tuple, or ``None`` for all entries); ``keepdim`` keeps them as size 1.

    ``dtype`` casts the input first. Gradients as in the module docstring, 0 at a zero vector.
    """
    checks.require_tensor("norm", input)
    if dtype is not None:
        input = input.to(dtype=to_dtype(dtype))
    if not is_floating(input.dtype):
        raise TypeError(f"norm: expected a floating-point input, got dtype {input.dtype}; pass dtype=tinygen.float32")
    order = _order(p)
    dims = checks.normalize_dims("norm", dim, input.ndim)
    if order in (math.inf, -math.inf) and any(input.shape[axis] == 0 for axis in dims):
        raise ValueError(f"norm: the {p}-norm of an empty slice is undefined (input shape {input.shape})")
    return VectorNorm(order, dims, keepdim)(input)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p, eps) over ``dim`` (PyTorch's ``F.normalize``): unit vectors along ``dim``, a zero
    vector stays zero. Made of ``norm``, ``clamp`` and a division, so gradients of any order follow from theirs."""
    checks.require_tensor("normalize", input)
    eps = checks.real_number("normalize", "eps", eps)
    return input / clamp(norm(input, p, dim, keepdim=True), min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` of the broadcast shape (PyTorch's
    ``F.cosine_similarity``; that dim is removed). Made of ``norm``, ``clamp``, ``/`` and ``sum``, so gradients of
    any order follow from theirs. Where a norm is below eps, the gradient is that of this formula (clamp's: the
    norm is a constant there); PyTorch's lets the gradient through that clamp, so the two differ there only."""
    checks.require_tensor("cosine_similarity", x1, "x1")
    checks.require_tensor("cosine_similarity", x2, "x2")
    eps = checks.real_number("cosine_similarity", "eps", eps)
    x1, x2 = checks.as_operand_pair("cosine_similarity", x1, x2)
    shape = checks.broadcast_shapes("cosine_similarity", x1.shape, x2.shape)
    dim = checks.normalize_dim("cosine_similarity", dim, len(shape))
    x1, x2 = (checks.float_input("cosine_similarity", x).broadcast_to(shape) for x in (x1, x2))
    return ((x1 / clamp(norm(x1, 2, dim, keepdim=True), min=eps)) *
            (x2 / clamp(norm(x2, 2, dim, keepdim=True), min=eps))).sum(dim)
