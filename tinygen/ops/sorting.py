"""Sorting along a dimension: ``sort``, ``argsort`` and ``topk``, with PyTorch's names, defaults and return types.

The values are the input's entries picked at the sorted indices by ``Gather``, so the gradient is gather's: each
value's gradient goes back to the entry it came from (scattered), and gathering it again gives double backward.
tinygen's sort is always stable (tied entries keep their input order, also with ``descending``), on NumPy and CuPy
alike; PyTorch's default ``stable=False`` may order ties otherwise, so the indices of ties can differ from PyTorch's
(the values cannot). NaN counts as the largest value, as in PyTorch.
See docs/derivations/reductions.md. Tests: tests/test_sorting.py.
"""
import collections
import numbers

from tinygen.backend.dtypes import int64
from tinygen.ops import checks
from tinygen.ops.indexing import Gather
from tinygen.ops.shape import reshape
from tinygen.tensor import Tensor

__all__ = ["argsort", "sort", "topk"]

SortResult = collections.namedtuple("SortResult", ["values", "indices"])  # PyTorch's torch.return_types.sort
TopKResult = collections.namedtuple("TopKResult", ["values", "indices"])


def _order(x, dim, descending):
    """The indices (raw int64 array) that sort ``x`` along ``dim``, ties in input order.

    Descending and still stable: sort the reversed slice, reverse that order, and count positions from the end.
    """
    xp, argsort = x.backend.xp, x.backend.stable_argsort
    if not descending:
        return argsort(x.array, dim).astype(int64, copy=False)
    reversed_order = argsort(xp.flip(x.array, axis=dim), dim)
    return (x.shape[dim] - 1 - xp.flip(reversed_order, axis=dim)).astype(int64, copy=False)


def _picked(x, dim, order):
    """(values, indices): the entries of ``x`` at ``order`` along ``dim`` (differentiable) and the indices."""
    return Gather(dim, order)(x), Tensor._make(order, x.backend)


def _along(name, x, dim):
    """``x`` and ``dim`` normalized, a 0-d ``x`` as one entry (``_shaped_like`` makes its results 0-d again)."""
    checks.require_tensor(name, x)
    dim = checks.normalize_dim(name, dim, x.ndim)
    return (reshape(x, (1,)) if x.ndim == 0 else x), dim


def _shaped_like(x, values, indices, result_type):
    if x.ndim == 0:
        return result_type(reshape(values, ()), reshape(indices, ()))
    return result_type(values, indices)


def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices) with values = input sorted along ``dim`` and input.gather(dim, indices) == values.
    dL/dinput = the values' gradient scattered back to the indices. Always stable (see the module docstring)."""
    x, dim = _along("sort", input, dim)
    return _shaped_like(input, *_picked(x, dim, _order(x, dim, descending)), SortResult)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64, no gradient): ``sort(...).indices``."""
    x, dim = _along("argsort", input, dim)
    order = Tensor._make(_order(x, dim, descending), x.backend)
    return reshape(order, ()) if input.ndim == 0 else order


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) entries along ``dim``, in order (also
    for ``sorted=False``, where PyTorch leaves the order open). dL/dinput = the values' gradient scattered back."""
    x, dim = _along("topk", input, dim)
    extent = x.shape[dim]
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k <= extent:
        raise ValueError(f"topk: k must be an int in [0, {extent}] (the size of dimension {dim}), got {k!r}")
    kept = int(k) if input.ndim else 1  # a 0-d input gives its entry for k = 0 too, as in PyTorch
    order = _order(x, dim, largest)[(slice(None),) * dim + (slice(0, kept),)]
    return _shaped_like(input, *_picked(x, dim, order), TopKResult)
