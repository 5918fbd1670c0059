"""Along one dimension, in order: ``flip`` (reverse it), ``roll`` (shift it cyclically) and ``cumsum`` (running sums).

``flip`` reverses, and reversing twice is the identity, so its backward is ``flip`` again. ``roll`` moves each entry
``shift`` places on, wrapping around, so its backward moves the gradient back: ``roll`` by ``-shift``. ``cumsum``'s
output y_j = sum_{i <= j} x_i takes every x_i with slope 1 into each y_j with j >= i, so
dL/dx_i = sum_{j >= i} g_j: the running sum of g from the end, flip(cumsum(flip(g))). Both backwards are
tinygen ops, so second derivatives work. See docs/derivations/reductions.md.
Tests: tests/test_scan.py.
"""
import numbers

from tinygen.autograd.function import Function
from tinygen.backend.dtypes import int64
from tinygen.ops import checks


class Flip(Function):
    """y = x reversed along ``dims``.   dL/dx = g reversed along ``dims``."""

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return self.backend.xp.flip(x, axis=self.dims).copy()  # a copy, as PyTorch's (NumPy's flip is a view)

    def backward(self, g):
        return Flip(self.dims)(g)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (all entries, flattened, for ``dims=None``).

    dL/dx = g rolled by -shifts.
    """

    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return self.backend.xp.roll(x, self.shifts[0] if self.dims is None else self.shifts, axis=self.dims)

    def backward(self, g):
        return Roll(tuple(-shift for shift in self.shifts), self.dims)(g)


class CumSum(Function):
    """y_j = sum_{i <= j} x_i along ``dim``.   dL/dx = flip(cumsum(flip(g)))."""

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        # integers and bools add up in int64, as in PyTorch (and as ``sum`` does)
        return self.backend.xp.cumsum(x, axis=self.dim, dtype=int64 if x.dtype.kind in "biu" else None)

    def backward(self, g):
        return flip(cumsum(flip(g, (self.dim,)), self.dim), (self.dim,))


def flip(x, dims):
    """``x`` reversed along each of ``dims`` (a tuple or list of ints), as PyTorch's ``flip``."""
    checks.require_tensor("flip", x)
    if not isinstance(dims, (int, tuple, list)):
        raise TypeError(f"flip: dims must be an int or a tuple of ints, got {type(dims).__name__}")
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    normalized = tuple(checks.normalize_dim("flip", dim, x.ndim) for dim in dims)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"flip: dims {dims} name one dimension twice")
    return Flip(normalized)(x)


def roll(x, shifts, dims=None):
    """Shift entries cyclically, as PyTorch's ``roll``: by ``shifts`` (an int or a tuple) along ``dims`` (one per
    shift), or with ``dims=None`` over the flattened tensor, its shape then restored."""
    checks.require_tensor("roll", x)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if any(isinstance(shift, bool) or not isinstance(shift, numbers.Integral) for shift in shifts):
        raise TypeError(f"roll: shifts must be an int or a tuple of ints, got {shifts!r}")
    shifts = tuple(int(shift) for shift in shifts)  # a NumPy integer (a random shift) too
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int (for the flattened tensor), got {shifts}")
        return Roll(shifts, None)(x)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if x.ndim == 0:
        raise IndexError(f"roll: a 0-d tensor has no dimension to roll along, got dims {dims}; pass dims=None")
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length, one shift per dim")
    return Roll(shifts, tuple(checks.normalize_dim("roll", dim, x.ndim) for dim in dims))(x)


def cumsum(x, dim, *, dtype=None):
    """Running sums along ``dim``: y_j = x_0 + ... + x_j; ``dtype`` casts the input first."""
    x = checks.cast_to("cumsum", x, dtype)
    return CumSum(checks.normalize_dim("cumsum", dim, x.ndim))(x)
