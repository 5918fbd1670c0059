"""Cutting a tensor into pieces along one dimension: ``split``, ``chunk``, ``unbind`` (PyTorch's names), and
repeating each of its slices in place: ``repeat_interleave``.

Each piece is a basic-index view of the input (``x[:, start:stop]``), so its backward writes ``g`` into zeros at
the piece's place (``Index``), and gradients of several pieces add up in the input's ``.grad``.
``repeat_interleave`` indexes with a list that names slice i r_i times, so its backward adds up the r_i copies'
gradients into slice i (indexing's scatter-add).
Tests: tests/test_pieces.py.
"""
import numbers

from tinygen.ops import checks
from tinygen.tensor import Tensor


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


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Each slice along ``dim`` repeated ``repeats`` times in place ([a, b] -> [a, a, b, b]); ``repeats`` an int or
    a 1-D integer tensor (one count per slice, or one for all); ``dim=None`` works on the flattened input.
    ``output_size``, if given, must be the size of the result along ``dim``."""
    checks.require_tensor("repeat_interleave", input)
    if dim is None:
        input, dim = input.reshape(-1), 0
    dim = checks.normalize_dim("repeat_interleave", dim, input.ndim)
    extent = input.shape[dim] if input.ndim else 1
    counts = _counts(repeats, extent)
    if output_size is not None and output_size != sum(counts):
        raise ValueError(f"repeat_interleave: output_size {output_size} is not the size of the result, {sum(counts)}")
    indices = [index for index, count in enumerate(counts) for _ in range(count)]
    if input.ndim == 0:
        return input.reshape(1)[indices]
    return input[(slice(None),) * dim + (indices,)]


def _counts(repeats, extent):
    """``repeats`` (an int, or a 1-D integer tensor of 1 or ``extent`` counts) as a list of ``extent`` ints."""
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or repeats.dtype.kind not in "iu":
            raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor, got a {repeats.dtype} "
                            f"tensor of shape {tuple(repeats.shape)}")
        counts = [int(count) for count in repeats.reshape(-1).tolist()]
    elif isinstance(repeats, numbers.Integral) and not isinstance(repeats, bool):
        counts = [int(repeats)]
    else:
        raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor, got "
                        f"{type(repeats).__name__}")
    if any(count < 0 for count in counts):
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {counts}")
    if len(counts) not in (1, extent):
        raise ValueError(f"repeat_interleave: repeats has {len(counts)} counts; expected 1 or {extent}, one per "
                         "slice along dim")
    return counts * extent if len(counts) == 1 else counts
