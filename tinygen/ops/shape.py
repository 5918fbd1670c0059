"""Shape ops: they move or repeat numbers without changing them, so their backward moves gradients back.

    reshape, permute, broadcast_to   backward: reshape back, inverse permutation, sum_to the input shape
    sum_to                           backward: broadcast_to (the pair are each other's adjoints)
    cat                              backward: slice the gradient
    clone, contiguous, to_device     backward: identity (to_device: move the gradient back)

Views (reshape when possible, permute/transpose, squeeze/unsqueeze/flatten, broadcast_to/expand, detach,
basic slicing) share memory with their input, and its version counter; see ``docs/tensors.md``.
Padding is in ``padding``. Tests: tests/test_shape.py.
"""
import math

from tinygen.autograd.function import Function
from tinygen.ops import checks
from tinygen.tensor import Tensor


class Reshape(Function):
    """y = x viewed with another shape (a copy where the memory layout allows no view).  dL/dx = reshape(g, x.shape)."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.input_shape = x.shape
        y = x.reshape(self.shape)
        # Only a true view shares x's version counter: an in-place change of a copy must not look like one of x.
        self.is_view = bool(self.backend.xp.may_share_memory(x, y))
        return y

    def backward(self, g):
        return reshape(g, self.input_shape)


class Permute(Function):
    """y = x with its dimensions reordered by ``dims``.  dL/dx = permute(g, inverse(dims))."""

    is_view = True

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for position, dim in enumerate(self.dims):
            inverse[dim] = position
        return permute(g, *inverse)


class BroadcastTo(Function):
    """y = x repeated along broadcast dimensions.  dL/dx = sum_to(g, x.shape): each copy's gradient adds up."""

    is_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.input_shape = x.shape
        return self.backend.xp.broadcast_to(x, self.shape)

    def backward(self, g):
        return sum_to(g, self.input_shape)


class SumTo(Function):
    """y = x summed down to ``shape`` (the reverse of broadcasting).  dL/dx = broadcast_to(g, x.shape)."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.input_shape = x.shape
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + axis for axis, extent in enumerate(self.shape) if extent == 1 and x.shape[lead + axis] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape)

    def backward(self, g):
        return broadcast_to(g, self.input_shape)


class Clone(Function):
    """y = a copy of x with its own memory.  dL/dx = g."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


class Contiguous(Function):
    """y = x laid out in C order.  dL/dx = g."""

    def forward(self, x):
        return self.backend.xp.ascontiguousarray(x)

    def backward(self, g):
        return g


class ToDevice(Function):
    """y = x copied to another device.  dL/dx = g copied back."""

    moves_device = True

    def __init__(self, target_backend):
        self.target_backend = target_backend

    def forward(self, x):
        self.source_backend = self.backend
        return self.target_backend.asarray(self.backend.to_numpy(x))

    def backward(self, g):
        return to_device(g, self.source_backend)


class Concatenate(Function):
    """y = the inputs joined along ``dim``.  dL/dx_i = the slice of g where x_i landed."""

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *arrays):
        self.sizes = [array.shape[self.dim] for array in arrays]
        return self.backend.xp.concatenate(arrays, axis=self.dim)

    def backward(self, g):
        grads, start = [], 0
        for size in self.sizes:
            index = (slice(None),) * self.dim + (slice(start, start + size),)
            grads.append(g[index])
            start += size
        return tuple(grads)


# --- public functions ----------------------------------------------------------------------------------

def _parse_shape(shape, name):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(extent, int) and not isinstance(extent, bool) for extent in shape):
        raise TypeError(f"{name}: shape must be integers, got {shape}")
    return tuple(shape)


def _infer_shape(name, x, shape):
    shape = _parse_shape(shape, name)
    unknown = [axis for axis, extent in enumerate(shape) if extent == -1]
    if len(unknown) > 1 or any(extent < -1 for extent in shape):
        raise ValueError(f"{name}: invalid shape {shape} (at most one -1, no other negative sizes)")
    known = math.prod(extent for extent in shape if extent != -1)
    size = x.numel()
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"{name}: cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}")
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1:]
    elif known != size:
        raise ValueError(f"{name}: cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}")
    return shape


def reshape(x, *shape):
    """Same numbers, new shape (one size may be -1: inferred). A view when the memory layout allows."""
    checks.require_tensor("reshape", x)
    shape = _infer_shape("reshape", x, shape)
    return x if shape == x.shape else Reshape(shape)(x)


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into dims of ``sizes`` (whose product is its size; one of them may be -1): a reshape."""
    checks.require_tensor("unflatten", input)
    if input.ndim == 0:
        raise ValueError("unflatten: a 0-d tensor has no dimension to unflatten")
    dim = checks.normalize_dim("unflatten", dim, input.ndim)
    sizes, extent = tuple(sizes), input.shape[dim]
    product, inferred = math.prod(size for size in sizes if size != -1), sizes.count(-1)
    fits = product == extent if inferred == 0 else inferred == 1 and product > 0 and extent % product == 0
    if not sizes or not fits or any(size < -1 for size in sizes):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply up to the size of dim {dim} ({extent}) of a "
                         f"tensor of shape {tuple(input.shape)} (one size may be -1)")
    return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1:])


def view(x, *shape):
    """Like ``reshape``, but an error where the result could not share memory (as PyTorch's ``view``): a view
    needs the new shape to regroup dims that lie one after another in memory (``_regroups_memory_runs``)."""
    checks.require_tensor("view", x)
    shape = _infer_shape("view", x, shape)
    if shape == x.shape or x.numel() <= 1 or x.is_contiguous():
        return reshape(x, shape)
    strides = tuple(stride // x.array.itemsize for stride in x.array.strides)
    if not _regroups_memory_runs(x.shape, strides, shape):
        raise RuntimeError(
            f"view: the tensor of shape {x.shape} (strides {strides}) cannot be viewed as {shape}: that would join "
            "dims that are not next to each other in memory; use reshape() (which copies when needed) or "
            "contiguous() first"
        )
    return reshape(x, shape)


def _regroups_memory_runs(shape, strides, new_shape):
    """Whether ``new_shape`` only splits and joins runs of dims that lie one after another in memory.

    Dims i and i+1 are one run when stride_i = stride_{i+1} * size_{i+1} (size-1 dims are left out: they place
    nothing). A view must cut each run into new dims whose sizes multiply to the run's size, in order; NumPy's
    reshape then gives a view, as PyTorch's ``view`` does (``x[:, 6:].view(2, 2, 3)``, a transposed tensor's
    last dim split)."""
    runs, previous_stride = [], None
    for size, stride in zip(shape, strides):
        if size == 1:
            continue
        if runs and previous_stride == stride * size:
            runs[-1] *= size
        else:
            runs.append(size)
        previous_stride = stride
    run, product = 0, 1
    for size in (size for size in new_shape if size != 1):
        product *= size
        if product == runs[run]:
            run, product = run + 1, 1
        elif runs[run] % product:
            return False
    return run == len(runs)


def permute(x, *dims):
    """Reorder dimensions: ``y.shape[i] = x.shape[dims[i]]``."""
    checks.require_tensor("permute", x)
    dims = _parse_shape(dims, "permute")
    normalized = tuple(checks.normalize_dim("permute", d, x.ndim) for d in dims)
    if sorted(normalized) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} dimensions of shape {x.shape}")
    return x if normalized == tuple(range(x.ndim)) else Permute(normalized)(x)


def transpose(x, dim0, dim1):
    """Swap two dimensions."""
    checks.require_tensor("transpose", x)
    dims = list(range(x.ndim))
    a, b = checks.normalize_dim("transpose", dim0, x.ndim), checks.normalize_dim("transpose", dim1, x.ndim)
    if x.ndim < 2:
        return x
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, *dims)


def squeeze(x, dim=None):
    """Drop size-1 dimensions (all of them, or only ``dim`` if it has size 1)."""
    checks.require_tensor("squeeze", x)
    if dim is None:
        return reshape(x, tuple(extent for extent in x.shape if extent != 1))
    dims = checks.normalize_dims("squeeze", dim, x.ndim)
    return reshape(x, tuple(extent for axis, extent in enumerate(x.shape) if not (axis in dims and extent == 1)))


def unsqueeze(x, dim):
    """Insert a size-1 dimension at ``dim`` (``-1``: at the end)."""
    checks.require_tensor("unsqueeze", x)
    dim = checks.normalize_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    checks.require_tensor("flatten", x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start = checks.normalize_dim("flatten", start_dim, x.ndim)
    end = checks.normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def broadcast_to(x, shape):
    """Repeat ``x`` along broadcast dimensions to ``shape`` (a read-only view)."""
    checks.require_tensor("broadcast_to", x)
    shape = _parse_shape((shape,), "broadcast_to")
    checks.broadcastable_to("broadcast_to", x.shape, shape)
    return x if shape == x.shape else BroadcastTo(shape)(x)


def expand(x, *sizes):
    """``broadcast_to`` with PyTorch's spelling: -1 keeps a dimension's size."""
    sizes = _parse_shape(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor with {x.ndim} dimensions")
    shape = tuple(x.shape[axis - lead] if extent == -1 and axis >= lead else extent for axis, extent in enumerate(sizes))
    return broadcast_to(x, shape)


def repeat(x, *repeats):
    """``x`` tiled ``repeats[i]`` times along dim i: y[..., r a + i, ...] = x[..., i, ...]. Each dim of size a becomes
    (r, a) broadcast from (1, a), then one reshape: the backward (broadcast's) sums the r tiles."""
    repeats = tuple(repeats[0]) if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)) else repeats
    if len(repeats) < x.ndim or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in repeats):
        raise ValueError(f"repeat: expected one non-negative int per dim of the tensor of shape {x.shape} (or more), "
                         f"got {repeats}")
    sizes = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
    paired = reshape(x, tuple(size for a in sizes for size in (1, a)))
    tiled = broadcast_to(paired, tuple(size for r, a in zip(repeats, sizes) for size in (r, a)))
    return reshape(tiled, tuple(r * a for r, a in zip(repeats, sizes)))


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (which must broadcast to ``x.shape``): the gradient of broadcasting."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    checks.broadcastable_to("sum_to", shape, x.shape)
    return SumTo(shape)(x)


def clone(x):
    return Clone()(checks.require_tensor("clone", x))


def contiguous(x):
    return x if x.is_contiguous() else Contiguous()(x)


def to_device(x, backend):
    """``x`` copied to ``backend``'s device (``Tensor.to`` calls this)."""
    return ToDevice(backend)(x)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension; all other sizes must match. As in PyTorch, a 1-D empty tensor
    (shape (0,), e.g. ``tinygen.tensor([])`` that a loop starts from) is left out whatever the others' shapes,
    though its dtype still takes part in the result's."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    for t in tensors:
        checks.require_tensor("cat", t, "every element")
    kept = [t for t in tensors if t.shape != (0,)]
    if kept and len(kept) < len(tensors):
        dtype = _common_dtype("cat", tensors)[0].dtype
        tensors = [t.to(dtype=dtype) for t in kept]
    first = tensors[0]
    dim = checks.normalize_dim("cat", dim, first.ndim)
    for t in tensors[1:]:
        if t.ndim != first.ndim or t.shape[:dim] + t.shape[dim + 1:] != first.shape[:dim] + first.shape[dim + 1:]:
            raise ValueError(
                f"cat: shapes {[x.shape for x in tensors]} differ outside dim {dim}; "
                "all sizes but the joined one must match"
            )
    tensors = _common_dtype("cat", tensors)
    return Concatenate(dim)(*tensors)  # new memory even for one tensor (as PyTorch): never an alias of an input


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for t in tensors:
        checks.require_tensor("stack", t, "every element")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {sorted(shapes)}")
    dim = checks.normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def _common_dtype(name, tensors):
    """Same device for all, and one dtype: the promoted one."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t.backend is not tensors[0].backend:
            raise checks.device_error(name, tensors[0], t)
        dtype = checks.promote_dtypes(dtype, t.dtype)
    return [t if t.dtype == dtype else t.to(dtype=dtype) for t in tensors]
