"""Cutting a tensor into pieces along one dimension: ``split``, ``chunk``, ``unbind`` (PyTorch's names).

Each piece is a basic-index view of the input (``x[:, start:stop]``), so its backward writes ``g`` into zeros at
the piece's place (``Index``), and gradients of several pieces add up in the input's ``.grad``.
Tests: tests/test_pieces.py.
"""
import numbers

from tinygen.ops import checks


def _pieces(x, dim, bounds):
    """The views ``x[..., start:stop, ...]`` along ``dim``, one per (start, stop) of ``bounds``."""
    before = (slice(None),) * dim
    return tuple(x[before + (slice(start, stop),)] for start, stop in bounds)


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last one smaller if the size does not divide), or of the given
    sizes (a list that sums to the dimension's size)."""
    checks.require_tensor("split", x)
    dim = checks.normalize_dim("split", dim, x.ndim)
    extent, sizes = x.shape[dim], split_size_or_sections
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        if sizes <= 0:
            raise ValueError(f"split: split_size must be positive, got {sizes}")
        starts = range(0, max(extent, 1), sizes)
        return _pieces(x, dim, [(start, min(start + sizes, extent)) for start in starts])
    sizes = list(sizes)
    if not all(isinstance(size, numbers.Integral) and size >= 0 for size in sizes) or sum(sizes) != extent:
        raise ValueError(f"split: sections {sizes} must be non-negative ints that sum to the size {extent} of dim "
                         f"{dim} (shape {tuple(x.shape)})")
    ends = [sum(sizes[:i + 1]) for i in range(len(sizes))]
    return _pieces(x, dim, zip([0] + ends[:-1], ends))


def chunk(x, chunks, dim=0):
    """``chunks`` pieces along ``dim`` of ceil(size / chunks) each, the last smaller: fewer pieces when that size
    leaves nothing for the last ones (as PyTorch)."""
    checks.require_tensor("chunk", x)
    if not isinstance(chunks, numbers.Integral) or isinstance(chunks, bool) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    dim = checks.normalize_dim("chunk", dim, x.ndim)
    return split(x, max(1, -(-x.shape[dim] // chunks)), dim)


def unbind(x, dim=0):
    """The slices ``x.select(dim, i)`` for every i: pieces one smaller in rank."""
    checks.require_tensor("unbind", x)
    dim = checks.normalize_dim("unbind", dim, x.ndim)
    before = (slice(None),) * dim
    return tuple(x[before + (i,)] for i in range(x.shape[dim]))
