"""Parts of matrices, over the last two dims (or the two named): ``triu`` / ``tril`` (the upper / lower triangle,
the rest zero: causal masks) and ``diagonal`` (one diagonal, gathered into the last dim).

``triu`` multiplies x by a fixed 0/1 mask, so its backward masks g the same way: triu(g). ``diagonal`` picks the
entries x[..., i, i + offset]; its backward puts g back at those places in zeros, and the backward of that
scatter is ``diagonal`` again, so second derivatives work. See docs/derivations/reductions.md.
Tests: tests/test_triangular.py.
"""
from tinygen.autograd.function import Function
from tinygen.ops import checks

__all__ = ["triu", "tril", "diagonal"]


class Triangle(Function):
    """y = x on and above (``upper``) or on and below the ``diagonal``-th diagonal, 0 elsewhere.
    dL/dx = g masked the same way."""

    def __init__(self, upper, diagonal):
        self.upper, self.diagonal = upper, diagonal

    def forward(self, x):
        xp = self.backend.xp
        return (xp.triu if self.upper else xp.tril)(x, self.diagonal)

    def backward(self, g):
        return Triangle(self.upper, self.diagonal)(g)


def _diagonal_places(xp, n, offset):
    """Row and column indices of a diagonal of length ``n`` (above the main one for offset > 0)."""
    rows = xp.arange(n) + max(-offset, 0)
    return rows, rows + offset


def _diagonal_length(shape, offset, dim1, dim2):
    return max(0, min(shape[dim1] + min(offset, 0), shape[dim2] - max(offset, 0)))


class Diagonal(Function):
    """y[..., i] = x[..., i, i + offset] over dims (dim1, dim2), which move to the end.
    dL/dx = zeros with g at those places (``DiagonalScatter``)."""

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, x):
        xp = self.backend.xp
        self.shape = x.shape
        rows, columns = _diagonal_places(xp, _diagonal_length(x.shape, self.offset, self.dim1, self.dim2),
                                         self.offset)
        return xp.moveaxis(x, (self.dim1, self.dim2), (-2, -1))[..., rows, columns]

    def backward(self, g):
        return DiagonalScatter(self.shape, self.offset, self.dim1, self.dim2)(g)


class DiagonalScatter(Function):
    """y = zeros(shape) with y[..., i, i + offset] = g[..., i] (``Diagonal``'s backward).   dL/dg = diagonal(G)."""

    def __init__(self, shape, offset, dim1, dim2):
        self.shape, self.offset, self.dim1, self.dim2 = shape, offset, dim1, dim2

    def forward(self, g):
        xp = self.backend.xp
        out = xp.zeros(self.shape, dtype=g.dtype)
        rows, columns = _diagonal_places(xp, g.shape[-1], self.offset)
        xp.moveaxis(out, (self.dim1, self.dim2), (-2, -1))[..., rows, columns] = g
        return out

    def backward(self, gg):
        return Diagonal(self.offset, self.dim1, self.dim2)(gg)


def _matrices(name, input):
    checks.require_tensor(name, input)
    if input.ndim < 2:
        raise ValueError(f"{name}: expects a tensor of at least 2 dims (a matrix or a batch of them), "
                         f"got shape {tuple(input.shape)}")
    return input


def _offset(name, argument, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: {argument} must be an int, got {type(value).__name__}")
    return value


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: entries (i, j) with j - i >= diagonal kept, the rest 0."""
    return Triangle(True, _offset("triu", "diagonal", diagonal))(_matrices("triu", input))


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: entries (i, j) with j - i <= diagonal kept, the rest 0
    (``tril(ones(L, L)).bool()`` is a causal mask)."""
    return Triangle(False, _offset("tril", "diagonal", diagonal))(_matrices("tril", input))


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset``-th diagonal of the matrices over dims (dim1, dim2), as PyTorch's ``diagonal``: those two
    dims are removed and the diagonal is the last dim (a copy here, a view in PyTorch)."""
    _matrices("diagonal", input)
    offset = _offset("diagonal", "offset", offset)
    dim1, dim2 = (checks.normalize_dim("diagonal", dim, input.ndim) for dim in (dim1, dim2))
    if dim1 == dim2:
        raise ValueError(f"diagonal: dim1 and dim2 must be different dims, got {dim1} and {dim2}")
    return Diagonal(offset, dim1, dim2)(input)
