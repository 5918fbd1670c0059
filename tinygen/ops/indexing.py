"""Indexing: ``x[index]`` and ``gather``. The backward of reading entries is scattering the gradient back.

Basic indexing (ints, slices, ``None``, ``...``) picks each entry at most once and gives a view, so the
backward writes ``g`` into zeros. Advanced indexing (integer or boolean arrays) may pick an entry several
times, so the backward *adds* (``scatter_add``): repeated indices accumulate.
Scattering and gathering are adjoints, so each one's backward is the other: double backward works.
Tests: tests/test_indexing.py.
"""
import numbers

from tinygen.autograd.function import Function
from tinygen.backend.dtypes import int64
from tinygen.ops import checks
from tinygen.tensor import Tensor


class Index(Function):
    """y = x[index].   dL/dx = zeros(x.shape) with g added at ``index``."""

    def __init__(self, index, advanced):
        self.index, self.advanced = index, advanced
        self.is_view = not advanced

    def forward(self, x):
        self.input_shape = x.shape
        return x[self.index]

    def backward(self, g):
        return IndexScatter(self.index, self.advanced, self.input_shape)(g)


class IndexScatter(Function):
    """y = zeros(shape) with g added at ``index``.   dL/dg = (upstream)[index]."""

    def __init__(self, index, advanced, shape):
        self.index, self.advanced, self.shape = index, advanced, shape

    def forward(self, g):
        out = self.backend.xp.zeros(self.shape, dtype=g.dtype)
        if self.advanced:
            self.backend.scatter_add(out, self.index, g)
        else:
            out[self.index] = g
        return out

    def backward(self, upstream):
        return Index(self.index, self.advanced)(upstream)


class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] for dim=1 (PyTorch's gather).   dL/dx = g scatter-added back."""

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.input_shape = x.shape
        return self.backend.xp.take_along_axis(x, self.index, axis=self.dim)

    def backward(self, g):
        return GatherScatter(self.dim, self.index, self.input_shape)(g)


class GatherScatter(Function):
    """y = zeros(shape) with g[i][j][k] added at [i][index[i][j][k]][k] (dim=1).   Its adjoint is ``Gather``."""

    def __init__(self, dim, index, shape):
        self.dim, self.index, self.shape = dim, index, shape

    def forward(self, g):
        xp = self.backend.xp
        out = xp.zeros(self.shape, dtype=g.dtype)
        positions = [
            xp.arange(extent).reshape([-1 if axis == d else 1 for d in range(g.ndim)])
            for axis, extent in enumerate(self.index.shape)
        ]
        positions[self.dim] = self.index
        self.backend.scatter_add(out, tuple(positions), g)
        return out

    def backward(self, upstream):
        return Gather(self.dim, self.index)(upstream)


# --- index normalization --------------------------------------------------------------------------------

def _index_array(x, value, name):
    """A tensor, list or NumPy array used as an index -> an int64 or bool array on x's device."""
    if isinstance(value, Tensor):
        if value.backend is not x.backend:
            raise checks.device_error(name, x, value)
        array = value.array
    else:
        try:
            array = x.backend.asarray(value)
        except (TypeError, ValueError) as error:
            raise IndexError(f"{name}: cannot use {type(value).__name__} as an index ({error})") from None
    if array.dtype.kind == "b":
        return array  # becomes fresh integer arrays (mask.nonzero()) in normalize_index
    if isinstance(value, list) and array.size == 0:
        return array.astype(int64)  # x[[]] picks nothing (the empty list has no dtype of its own)
    if array.dtype.kind not in "iu":
        raise IndexError(f"{name}: index arrays must hold integers or booleans, got dtype {array.dtype}")
    return array.astype(int64)  # a private copy: the backward scatters by it, after any in-place change of the index


def normalize_index(x, index, name="getitem"):
    """Check ``index`` against ``x.shape`` and put it in the form the backend's arrays take.

    Integer arrays are bounds-checked here (CuPy would wrap out-of-range indices silently); boolean masks
    must match the dimensions they cover and become integer arrays (``mask.nonzero()``).
    Returns ``(index_tuple, advanced)``. ``name`` (``getitem`` or ``setitem``) starts every error message.
    """
    parts = index if isinstance(index, tuple) else (index,)
    converted, advanced = [], False
    for part in parts:
        if part is None or part is Ellipsis or isinstance(part, slice):
            converted.append(part)
        elif isinstance(part, numbers.Integral) and not isinstance(part, bool) and not isinstance(part, Tensor):
            converted.append(int(part))
        elif isinstance(part, (Tensor, list, range)) or x.backend.is_array(part) or hasattr(part, "__array__"):
            converted.append(_index_array(x, list(part) if isinstance(part, range) else part, name))
            advanced = True
        else:
            raise IndexError(f"{name}: unsupported index {part!r} of type {type(part).__name__}")

    consumed = sum(1 if not hasattr(p, "dtype") or p.dtype.kind != "b" else p.ndim
                   for p in converted if p is not None and p is not Ellipsis)
    if sum(p is Ellipsis for p in converted) > 1:
        raise IndexError(f"{name}: an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(f"{name}: too many indices ({consumed}) for a tensor of shape {x.shape}")

    result, dim = [], 0
    for part in converted:
        if part is None:
            result.append(part)
            continue
        if part is Ellipsis:
            dim += x.ndim - consumed
            result.append(part)
            continue
        if isinstance(part, int):
            extent = x.shape[dim]
            if not -extent <= part < extent:
                raise IndexError(f"{name}: index {part} is out of range for dimension {dim} of size {extent}")
        elif hasattr(part, "dtype") and part.dtype.kind == "b":
            covered = x.shape[dim:dim + part.ndim]
            if tuple(part.shape) != covered:
                raise IndexError(
                    f"{name}: boolean mask of shape {tuple(part.shape)} does not match the indexed dimensions "
                    f"{covered} of a tensor of shape {x.shape}"
                )
            result.extend(part.nonzero())
            dim += part.ndim
            continue
        elif hasattr(part, "dtype") and part.size:
            extent = x.shape[dim]
            low, high = int(part.min()), int(part.max())
            if low < -extent or high >= extent:
                bad = high if high >= extent else low
                raise IndexError(f"{name}: index {bad} is out of range for dimension {dim} of size {extent}")
        result.append(part)
        dim += 1
    return tuple(result), advanced


def integers_first(index):
    """PyTorch's rule for ints beside index arrays: ``x[1, :, [0, 2]]`` is ``x[1][:, [0, 2]]`` (shape (3, 2) for x of
    shape (2, 3, 4)), where NumPy counts the int as an index array too and, the two being apart, puts their
    dimension first ((2, 3)). For a normalized ``index`` with both: ``(ints, rest)``, the ints applied first (a
    view) and the rest on what they leave; else None."""
    if not any(isinstance(part, int) for part in index):
        return None
    ints = tuple(part if isinstance(part, int) or part is Ellipsis else slice(None)
                 for part in index if part is not None)  # None adds a dim: it goes with the rest
    rest = tuple(part for part in index if not isinstance(part, int))
    return ints, rest


def getitem(x, index):
    index, advanced = normalize_index(x, index)
    split = integers_first(index) if advanced else None
    if split is not None:
        ints, rest = split
        return Index(rest, True)(Index(ints, False)(x))
    return Index(index, advanced)(x)


def gather(x, dim, index):
    """Pick along ``dim``: ``out[..., j, ...] = x[..., index[..., j, ...], ...]`` (index has x's number of dims)."""
    checks.require_tensor("gather", x)
    checks.require_tensor("gather", index, "index")
    dim = checks.normalize_dim("gather", dim, x.ndim)
    if index.dtype.kind not in "iu" or index.ndim != x.ndim:
        raise ValueError(
            f"gather: index must be an integer tensor with {x.ndim} dims like the input, "
            f"got dtype {index.dtype} and shape {index.shape}"
        )
    if index.backend is not x.backend:
        raise checks.device_error("gather", x, index)
    for axis, (extent, index_extent) in enumerate(zip(x.shape, index.shape)):
        if axis != dim and index_extent != extent:
            raise ValueError(
                f"gather: index shape {index.shape} must match input shape {x.shape} in every dim but {dim}"
            )
    if index.numel() and (int(index.array.min()) < 0 or int(index.array.max()) >= x.shape[dim]):
        raise IndexError(f"gather: index values must be in [0, {x.shape[dim]}) for dim {dim} of shape {x.shape}")
    return Gather(dim, index.array.astype(int64))(x)  # a private copy, as in getitem: the backward reads it


def one_hot(tensor, num_classes=-1):
    """(*) class indices -> (*, num_classes) int64 with a 1 at each index (``num_classes=-1``: the largest index
    + 1), as PyTorch's ``F.one_hot``. Not differentiable: its values are counts."""
    checks.require_tensor("one_hot", tensor)
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {tensor.dtype}")
    xp, array = tensor.backend.xp, tensor.array
    classes = (int(array.max()) + 1 if array.size else 0) if num_classes == -1 else num_classes
    if array.size and (int(array.min()) < 0 or int(array.max()) >= classes):
        raise ValueError(f"one_hot: class indices must be in [0, {classes}), got values outside")
    encoded = (array[..., None] == xp.arange(classes)).astype(int64)
    return Tensor._make(encoded, tensor.backend)
