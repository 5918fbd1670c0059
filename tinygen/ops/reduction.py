"""Reductions over dimensions: sum, prod, mean, var, std, amax/amin, max/min, logsumexp, argmax/argmin.

A reduction sends each output's gradient back to every input that fed it: ``sum`` copies it (broadcast),
``prod`` scales it by the product of the other entries, ``amax`` gives it to the maxima (split evenly at ties),
``logsumexp`` weights it by softmax.
``dim=None`` reduces over everything; ``keepdim=True`` keeps reduced dims as size 1.
See docs/derivations/reductions.md.
Tests: tests/test_reduction.py.
"""
import collections
import math

from tinygen.autograd.function import Function
from tinygen.backend.dtypes import int64
from tinygen.ops import checks, elementwise
from tinygen.ops.shape import broadcast_to, reshape, squeeze
from tinygen.tensor import Tensor

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])


def _kept_shape(shape, dims):
    """The shape after reducing ``dims`` with keepdim=True."""
    return tuple(1 if axis in dims else extent for axis, extent in enumerate(shape))


def shift_for_exp(xp, x, axis):
    """The max of raw array ``x`` over ``axis`` (kept as size 1): exp(x - shift) <= 1 never overflows.

    An empty slice has no max; 0 stands in (softmax of nothing is empty, logsumexp of nothing is -inf).
    """
    if x.size == 0:
        axes = (axis,) if isinstance(axis, int) else axis
        return xp.zeros([1 if a in axes else extent for a, extent in enumerate(x.shape)], dtype=x.dtype)
    return x.max(axis=axis, keepdims=True)


def _spread(g, input_shape, dims):
    """Send a reduced gradient back to the input's shape: restore reduced dims as size 1, then broadcast."""
    return broadcast_to(reshape(g, _kept_shape(input_shape, dims)), input_shape)


class Sum(Function):
    """y = sum of x over ``dims``.   dL/dx = g broadcast back over the summed dims."""

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.input_shape = x.shape
        # integers and bools add up in int64, as in PyTorch (NumPy sums uint8 to uint64, and to int32 where C's long is)
        total_dtype = int64 if x.dtype.kind in "biu" else None
        return x.sum(axis=self.dims, keepdims=self.keepdim, dtype=total_dtype)

    def backward(self, g):
        return _spread(g, self.input_shape, self.dims)


class Prod(Function):
    """y = product of x over ``dims``.   dL/dx_i = g * (product of the other entries x_j, j != i).

    Not g * y / x_i, which is 0 / 0 at a zero. With P the product of a slice's non-zero entries, the other
    entries' product is P / x_i (x_i taken as 1 if it is 0) times the product of the *other zeros*: 1 if there
    are none; with one zero x_m, x_m itself for i != m (value 0, slope 1) and 1 for i = m; with two, the other
    one for i among them, else 0; with more, 0. Written with tinygen's ops, these have the right values and
    slopes, so second derivatives are exact at zeros too. See docs/derivations/reductions.md.
    """

    save_inputs = True

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        # integers and bools multiply in int64, as in PyTorch (and as ``sum`` adds)
        return x.prod(axis=self.dims, keepdims=self.keepdim, dtype=int64 if x.dtype.kind in "biu" else None)

    def backward(self, g):
        from tinygen.ops.elementwise import where

        (x,) = self.saved_inputs
        backend, dims = x.backend, self.dims
        is_zero = x == 0
        zeros_in_slice = _spread(sum(is_zero, dims, keepdim=True), x.shape, dims).array

        def mask(array):
            return Tensor._make(array, backend)

        nonzero = where(is_zero, 1.0, x)
        zero_sum = _spread(sum(where(is_zero, x, 0.0), dims, keepdim=True), x.shape, dims)  # value 0, slope 1
        other_zeros = where(mask(zeros_in_slice == 0), 1.0,
                            where(mask(zeros_in_slice == 1), where(is_zero, 1.0, zero_sum),
                                  where(mask((zeros_in_slice == 2) & is_zero.array), zero_sum - x, 0.0)))
        others = _spread(Prod(dims, True)(nonzero), x.shape, dims) / nonzero * other_zeros
        return _spread(g, x.shape, dims) * others


class Amax(Function):
    """y = max of x over ``dims``.   dL/dx = g / (number of maxima) at each maximum, 0 elsewhere."""

    save_inputs = True

    def __init__(self, dims, keepdim, largest):
        self.dims, self.keepdim, self.largest = dims, keepdim, largest

    def forward(self, x):
        reduce = x.max if self.largest else x.min
        kept = reduce(axis=self.dims, keepdims=True)
        is_extreme = x == kept
        self.share = is_extreme / is_extreme.sum(axis=self.dims, keepdims=True)
        return kept if self.keepdim else kept.reshape([e for a, e in enumerate(x.shape) if a not in self.dims])

    def backward(self, g):
        (x,) = self.saved_inputs
        share = Tensor._make(self.share.astype(g.dtype, copy=False), g.backend)
        return _spread(g, x.shape, self.dims) * share


class LogSumExp(Function):
    """y = log sum exp(x) over ``dims``, computed as m + log sum exp(x - m), m = max x (no overflow).

    dL/dx = g * softmax(x) = g * exp(x - m) / sum exp(x - m). (Not g * exp(x - y): for huge x, y = m + log 2
    rounds to m, and exp(x - y) would give weights 1, 1 instead of 1/2, 1/2.) The shift m is a constant:
    softmax does not depend on it, so the formula stays exact to differentiate again.
    """

    save_inputs = True

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        xp = self.backend.xp
        shift = shift_for_exp(xp, x, self.dims)
        self.shift = xp.where(xp.isfinite(shift), shift, checks.typed_scalar(0, shift))  # all -inf (or inf) rows
        y = xp.log(xp.exp(x - self.shift).sum(axis=self.dims, keepdims=True)) + self.shift
        return y if self.keepdim else y.reshape([e for a, e in enumerate(x.shape) if a not in self.dims])

    def backward(self, g):
        from tinygen.ops.elementwise import exp, where

        (x,) = self.saved_inputs
        exps = exp(x - Tensor._make(self.shift, x.backend))
        totals = sum(exps, self.dims, keepdim=True)
        empty = Tensor._make(totals.array == 0, x.backend)  # an all -inf slice: weights 0, not 0 / 0
        return _spread(g, x.shape, self.dims) * (exps / where(empty, 1.0, totals))


# --- public functions ----------------------------------------------------------------------------------

def sum(x, dim=None, keepdim=False, *, dtype=None):
    """Sum of the entries, over ``dim`` (an int, a tuple, or None for all); ``dtype`` casts the input first."""
    x = checks.cast_to("sum", x, dtype)
    dims = checks.normalize_dims("sum", dim, x.ndim)
    if not dims and dim is not None:
        return x
    return Sum(dims, keepdim)(x)


def prod(x, dim=None, keepdim=False, *, dtype=None):
    """Product of the entries (``dim=None``) or along one ``dim``, as PyTorch's ``prod``; integers and bools
    multiply in int64, and ``dtype`` casts the input first. The gradient is right at zeros (see ``Prod``)."""
    x = checks.cast_to("prod", x, dtype)
    if dim is None:
        return Prod(tuple(range(x.ndim)), False)(x)
    dim = checks.normalize_dim("prod", dim, x.ndim)
    return Prod((dim,) if x.ndim else (), keepdim)(x)


def _count(x, dims):
    return math.prod(x.shape[d] for d in dims)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` divided by the number of elements summed (NaN for an empty reduction, as PyTorch);
    ``dtype`` casts the input first."""
    x = checks.float_input("mean", checks.cast_to("mean", x, dtype))
    dims = checks.normalize_dims("mean", dim, x.ndim)
    count = _count(x, dims)
    return sum(x, dims, keepdim) * (1.0 / count if count else math.nan)


def var(x, dim=None, unbiased=True, keepdim=False, correction=None):
    """Variance: sum (x - mean)^2 / (N - correction); ``correction`` defaults to 1 (unbiased) or 0."""
    x = checks.float_input("var", x)
    dims = checks.normalize_dims("var", dim, x.ndim)
    if correction is None:
        correction = 1 if unbiased else 0
    centered = x - mean(x, dims, keepdim=True)
    denominator = _count(x, dims) - correction
    scale = 1.0 / denominator if denominator > 0 else math.nan
    return sum(centered * centered, dims, keepdim) * scale


def std(x, dim=None, unbiased=True, keepdim=False, correction=None):
    from tinygen.ops.elementwise import sqrt

    return sqrt(var(x, dim, unbiased, keepdim, correction))


def _check_not_empty(name, x, dims, largest):
    """An empty slice has no max (or min): refuse a reduction over a dimension of size 0."""
    for axis in dims:
        if x.shape[axis] == 0:
            raise ValueError(
                f"{name}: cannot take the {'max' if largest else 'min'} over dimension {axis} of size 0 "
                f"(input shape {x.shape}): an empty slice has none"
            )


def _extreme(name, x, dim, keepdim, largest):
    checks.require_tensor(name, x)
    dims = checks.normalize_dims(name, dim, x.ndim)
    _check_not_empty(name, x, dims, largest)
    return Amax(dims, keepdim, largest)(x)


def amax(x, dim=None, keepdim=False):
    """Largest value over ``dim``; at ties the gradient is split evenly among the maxima."""
    return _extreme("amax", x, dim, keepdim, True)


def amin(x, dim=None, keepdim=False):
    return _extreme("amin", x, dim, keepdim, False)


def _max_or_min(name, x, dim, keepdim, largest):
    """Without ``dim``: the extreme value (like amax). With ``dim``: ``(values, indices)`` as PyTorch;
    the values' gradient goes to the index returned (the first extreme)."""
    if dim is None:
        return _extreme(name, x, None, False, largest)
    from tinygen.ops.indexing import gather

    dim = checks.normalize_dim(name, dim, x.ndim)
    indices = _arg_extreme(name, x, dim, True, largest)
    if not x.ndim:  # a 0-d tensor is its own extreme, at index 0
        return MaxResult(_extreme(name, x, None, False, largest), indices)
    values = gather(x, dim, indices)
    if not keepdim:
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return MaxResult(values, indices)


def max(x, dim=None, keepdim=False):
    """The largest value (no ``dim``), or (values, indices) along ``dim``; ``max(x, y)`` with a tensor ``y`` is
    PyTorch's other overload, the elementwise ``maximum``."""
    if isinstance(dim, Tensor):
        return elementwise.maximum(x, dim)
    return _max_or_min("max", x, dim, keepdim, True)


def min(x, dim=None, keepdim=False):
    """As ``max``; ``min(x, y)`` with a tensor ``y`` is the elementwise ``minimum``."""
    if isinstance(dim, Tensor):
        return elementwise.minimum(x, dim)
    return _max_or_min("min", x, dim, keepdim, False)


def _arg_extreme(name, x, dim, keepdim, largest):
    checks.require_tensor(name, x)
    xp = x.backend.xp
    find = xp.argmax if largest else xp.argmin
    _check_not_empty(name, x, checks.normalize_dims(name, dim, x.ndim), largest)
    if dim is None:
        result = find(x.array.reshape(-1))
        result = result.reshape((1,) * x.ndim) if keepdim else result
    else:
        dim = checks.normalize_dim(name, dim, x.ndim)
        result = find(x.array, axis=dim)
        if keepdim and x.ndim:  # a 0-d input's one dim is virtual: the result stays 0-d
            result = xp.expand_dims(result, dim)
    return Tensor._make(xp.asarray(result, dtype=int64), x.backend)


def argmax(x, dim=None, keepdim=False):
    """Index of the largest value (the first one at ties); no gradient."""
    return _arg_extreme("argmax", x, dim, keepdim, True)


def argmin(x, dim=None, keepdim=False):
    return _arg_extreme("argmin", x, dim, keepdim, False)


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, stable for huge values."""
    x = checks.float_input("logsumexp", x)
    dims = checks.normalize_dims("logsumexp", dim, x.ndim)
    return LogSumExp(dims, keepdim)(x)
