"""``Tensor``: an array of one backend plus the bookkeeping reverse mode needs.

A tensor holds
    array          the backend array (NumPy or CuPy) that ops compute on; it bypasses autograd
                   (``.data`` is PyTorch's: this tensor's values as a tensor cut out of the graph)
    requires_grad  whether gradients flow to it
    grad_fn        the ``Function`` that made it (``None`` for leaves: tensors the user made)
    grad           after ``backward()``, dL/d(this tensor), for leaves that require grad

The math lives in ``tinygen.ops``; the methods here only forward to it (a façade), so ``x.exp()``,
``tinygen.exp(x)`` and ``x ** 2`` are the same op. That makes tensor.py and ops import each other, the one
cycle in tinygen: this module imports ops at its end, once the class exists (docs/architecture.md).
"""
import builtins
import weakref

from tinygen import backend as _backend_module
from tinygen.backend.dtypes import is_floating, to_dtype


class Tensor:
    __slots__ = ("array", "requires_grad", "grad_fn", "grad", "_backend", "_version", "__weakref__")
    __hash__ = object.__hash__  # identity: tensors are dictionary keys in the engine, while == is elementwise
    # NumPy must not treat a tensor as a sequence: ``np.float64(2) * x`` then calls ``x.__rmul__`` (it gave an
    # object array of 0-d tensors), and ``np.exp(x)`` is a TypeError rather than a silent elementwise loop.
    __array_ufunc__ = None

    def __init__(self, *data, dtype=None, requires_grad=False, device=None):
        """PyTorch's legacy constructor: ``Tensor(values)`` or ``Tensor(*sizes)`` (zeros), float32 unless ``dtype``
        says otherwise (``tinygen.tensor`` infers the dtype from the values instead)."""
        from tinygen.backend import normalize_device
        from tinygen.backend.dtypes import default_float_dtype
        from tinygen.legacy import construct

        made = construct("Tensor", data, dtype or default_float_dtype, normalize_device(device), requires_grad)
        self.array, self._backend = made.array, made._backend
        self.requires_grad, self.grad_fn, self.grad = made.requires_grad, None, None
        self._version = [0]

    @classmethod
    def _make(cls, array, backend, requires_grad=False, grad_fn=None, version=None):
        """Wrap a backend array without copying or checking (for ops; users call ``tinygen.tensor``)."""
        tensor = object.__new__(cls)
        tensor.array = array
        tensor._backend = backend
        tensor.requires_grad = requires_grad
        tensor.grad_fn = grad_fn
        tensor.grad = None
        tensor._version = [0] if version is None else version
        return tensor

    def _wrap_like(self, array):
        """A new leaf tensor on this tensor's device holding ``array``."""
        return Tensor._make(array, self._backend)

    # --- what it is --------------------------------------------------------------------------
    @property
    def shape(self):
        return self.array.shape  # a tuple on every backend

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def device(self):
        """``"cpu"``, ``"cuda"`` or ``"strict"``."""
        return self._backend.device

    @property
    def backend(self):
        return self._backend

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        """All dimensions reversed (for a matrix, the transpose)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dimensions swapped (a batch of transposed matrices)."""
        return self.transpose(-2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def is_floating_point(self):
        return is_floating(self.dtype)

    # --- conversions ---------------------------------------------------------------------------
    def numpy(self, force=False):
        """The values as a NumPy array on the host (for a CPU tensor, shares memory; else a copy). ``force=True``
        (PyTorch's) detaches first."""
        if force:
            return self.detach().numpy()
        if self.requires_grad:
            raise RuntimeError("numpy(): the tensor requires grad; call .detach().numpy() to get its values")
        return self._backend.to_numpy(self.array)

    def __array__(self, dtype=None, copy=None):
        """``numpy.asarray(x)``: the values of a CPU tensor that needs no gradient (as PyTorch). For any other
        tensor a clear error: without this, NumPy would build an object array of 0-d tensors, silently."""
        if self.device != "cpu" or self.requires_grad:
            reason = "it requires grad" if self.requires_grad else f"it is on {self.device!r}"
            raise TypeError(f"NumPy cannot read this tensor implicitly ({reason}); use x.detach().numpy()")
        return self.array if dtype is None else self.array.astype(dtype, copy=False)

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): the tensor has {self.array.size} elements (shape {self.shape}); expected one")
        return self.array.item()

    def tolist(self):
        return self._backend.to_numpy(self.array).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.array.item())

    def __index__(self):
        if self.ndim != 0 or self.dtype.kind not in "iu":
            raise TypeError("only 0-d integer tensors can be used as an index")
        return int(self.array.item())

    def to(self, device=None, dtype=None, non_blocking=False):
        """Move to ``device`` and/or cast to ``dtype`` (``x.to("cuda")``, ``x.to(tinygen.float64)``).

        Differentiable: gradients flow back to the original device and dtype. ``non_blocking`` is accepted as in
        PyTorch; the copy is made at once either way.
        """
        device, dtype = device_and_dtype("to", device, dtype)
        result = self
        if dtype is not None and to_dtype(dtype) != self.dtype:
            result = ops.arithmetic.cast(result, to_dtype(dtype))
        if device is not None and _backend_module.normalize_device(device) != self.device:
            result = ops.shape.to_device(result, _backend_module.get_backend(device))
        return result

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=_backend_module.float32)

    def double(self):
        return self.to(dtype=_backend_module.float64)

    def long(self):
        return self.to(dtype=_backend_module.int64)

    def half(self):
        return self.to(dtype=_backend_module.float16)

    def int(self):  # noqa: A003  (PyTorch's name)
        return self.to(dtype=_backend_module.int32)

    def bool(self):  # noqa: A003
        return self.to(dtype=_backend_module.bool_)

    def byte(self):
        return self.to(dtype=_backend_module.uint8)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    # --- autograd ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad (only into the ``.grad``
        of ``inputs``, a Tensor or a sequence of them, when given).

        ``gradient`` is dL/d(self); it may be left out only for a one-element tensor (it is then 1).
        The graph's saved values are freed afterwards unless ``retain_graph=True``.
        """
        from tinygen.autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self):
        """The same values (shared memory) cut out of the graph: a leaf that does not require grad. It shares the
        version counter, so an in-place change through it still makes a backward that saved the values fail."""
        return Tensor._make(self.array, self._backend, False, None, self._version)

    @property
    def data(self):
        """PyTorch's ``.data``: the same values (shared memory) as a new leaf that does not require grad, with a
        version counter of its own, so autograd does not see in-place changes made through it (``detach()``
        shares the counter and does). ``p.data.clamp_(-c, c)`` works even while ``p`` requires grad. The raw
        backend array is ``.array``; docs/tensors.md compares the three."""
        return Tensor._make(self.array, self._backend)

    @data.setter
    def data(self, value):
        """``x.data = y``: ``x`` now holds ``y``'s values (shared memory; shape, dtype and device may change) and
        keeps its own ``requires_grad``, ``grad_fn``, ``.grad`` and version, as in PyTorch."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        if self.requires_grad and not is_floating(value.dtype):
            raise RuntimeError(
                f"Tensor.data: the tensor requires grad, so its data must be floating point, got dtype {value.dtype}"
            )
        self.array, self._backend = value.array, value._backend

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not is_floating(self.dtype):
            raise TypeError(
                f"requires_grad_(): only floating-point tensors can require grad, got dtype {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) works on leaves only; use detach() for a non-leaf tensor")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor too during the next ``backward()``."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad, so it will get no gradient")
        if self.grad_fn is not None:
            self.grad_fn.retained_output = weakref.ref(self)

    def clone(self):
        """A copy with its own memory; gradients flow back to ``self``."""
        return ops.shape.clone(self)

    # --- in-place updates (they bump the version counter so stale saved values are caught) -------
    def _check_inplace(self, name, operand=None):
        if is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{name}: in-place change of a tensor that requires grad is not allowed while recording a graph; "
                "use `with tinygen.no_grad():` (e.g. for parameter updates) or an out-of-place op"
            )
        if is_grad_enabled() and isinstance(operand, Tensor) and operand.requires_grad:
            # PyTorch would make self part of the graph; tinygen records no in-place writes, and a silent write
            # of the values alone would lose the gradient through them
            raise RuntimeError(
                f"{name}: the value requires grad but the tensor written into does not, so the gradient through "
                "the write would be lost (PyTorch records such writes, tinygen does not); build the result out of "
                "place: tinygen.stack / tinygen.cat of the pieces, tinygen.where, or x = x + y"
            )
        if any(stride == 0 and extent > 1 for stride, extent in zip(self.array.strides, self.shape)):
            # NumPy marks such views read-only, CuPy does not: refuse on every device alike
            raise RuntimeError(
                f"{name}: the tensor of shape {self.shape} is a broadcast view (expand, broadcast_to): several of its "
                "entries are one memory location, so an in-place write is ambiguous; clone() it first"
            )

    def _inplace(self, name, array_update, operand=None):
        self._check_inplace(name, operand)
        array_update(self.array)
        versions.bump(self)
        return self

    def _operand_array(self, value, name):
        if isinstance(value, Tensor):
            if value._backend is not self._backend:
                raise ops.checks.device_error(name, self, value)
            return value.array
        return value

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        ops.checks.check_number_fits("fill_", "value", value, self.dtype)

        def update(array):
            array[...] = value

        return self._inplace("fill_", update)

    def copy_(self, source):
        source_array = self._operand_array(source, "copy_")
        ops.checks.broadcastable_to("copy_", getattr(source_array, "shape", ()), self.shape)

        def update(array):
            array[...] = source_array

        return self._inplace("copy_", update, source)

    def add_(self, other, alpha=1):
        other_array = self._operand_array(other, "add_")

        def update(array):
            array += other_array * alpha if alpha != 1 else other_array

        return self._inplace("add_", update, other)

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        other_array = self._operand_array(other, "mul_")

        def update(array):
            array *= other_array

        return self._inplace("mul_", update, other)

    def div_(self, other):
        other_array = self._operand_array(other, "div_")

        def update(array):
            array /= other_array

        return self._inplace("div_", update, other)

    def clamp_(self, min=None, max=None):
        xp = self._backend.xp

        def update(array):
            xp.clip(array, min, max, out=array)

        return self._inplace("clamp_", update)

    # x += y: in place, except on a tensor that a recorded graph computed (a non-leaf that requires grad, as
    # ResNet's `out += identity`): there, as tinygen records no in-place change, x is rebound to x + y, which has
    # PyTorch's values and gradients (a view taken of the old x does not see the change, as it would in PyTorch)
    def _out_of_place_in_graph(self):
        return is_grad_enabled() and self.requires_grad and self.grad_fn is not None

    def __iadd__(self, other):
        return self + other if self._out_of_place_in_graph() else self.add_(other)

    def __isub__(self, other):
        return self - other if self._out_of_place_in_graph() else self.sub_(other)

    def __imul__(self, other):
        return self * other if self._out_of_place_in_graph() else self.mul_(other)

    def __itruediv__(self, other):
        return self / other if self._out_of_place_in_graph() else self.div_(other)

    def __setitem__(self, index, value):
        """``x[index] = value`` in place; allowed on tensors that don't require grad, or under ``no_grad``."""
        value_array = self._operand_array(value, "setitem")
        index, advanced = ops.indexing.normalize_index(self, index, "setitem")
        split = ops.indexing.integers_first(index) if advanced else None

        def update(array):
            if split is None:
                array[index] = value_array
            else:  # PyTorch's order: the ints first (a view), then the index arrays
                array[split[0]][split[1]] = value_array

        self._inplace("setitem", update, value)

    # --- printing -------------------------------------------------------------------------------
    def __format__(self, spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number, as in PyTorch; any tensor takes an empty spec."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"Tensor.__format__: the format {spec!r} applies to a 0-d tensor (one number), this one "
                            f"has shape {tuple(self.shape)}; format x.item() or each value")
        return str(self)

    def __repr__(self):
        host = _backend_module.get_backend("cpu").xp
        values = host.array2string(
            self._backend.to_numpy(self.array), separator=", ", precision=4, threshold=1000, prefix="tensor("
        )
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in _DTYPES_SHOWN_IMPLICITLY:
            extras.append(f"dtype=tinygen.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([values] + extras) + ")"

    # --- arithmetic ------------------------------------------------------------------------------
    def __add__(self, other):
        return ops.arithmetic.add(self, other)

    def __radd__(self, other):
        return ops.arithmetic.add(other, self)

    def __sub__(self, other):
        return ops.arithmetic.sub(self, other)

    def __rsub__(self, other):
        return ops.arithmetic.sub(other, self)

    def __mul__(self, other):
        return ops.arithmetic.mul(self, other)

    def __rmul__(self, other):
        return ops.arithmetic.mul(other, self)

    def __truediv__(self, other):
        return ops.arithmetic.div(self, other)

    def __rtruediv__(self, other):
        return ops.arithmetic.div(other, self)

    def __floordiv__(self, other):
        return ops.arithmetic.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.arithmetic.floor_divide(other, self)

    def __mod__(self, other):
        return ops.arithmetic.remainder(self, other)

    def __rmod__(self, other):
        return ops.arithmetic.remainder(other, self)

    def floor_divide(self, other):
        return ops.arithmetic.floor_divide(self, other)

    def remainder(self, other):
        return ops.arithmetic.remainder(self, other)

    def __pow__(self, exponent):
        return ops.arithmetic.pow(self, exponent)

    def __rpow__(self, base):
        return ops.arithmetic.pow(base, self)

    def __neg__(self):
        return ops.arithmetic.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.elementwise.abs(self)

    def __matmul__(self, other):
        return ops.linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.linalg.matmul(other, self)

    # comparisons give boolean tensors (no gradient)
    def __eq__(self, other):
        return ops.comparison.compare("eq", self, other)

    def __ne__(self, other):
        return ops.comparison.compare("ne", self, other)

    def __lt__(self, other):
        return ops.comparison.compare("lt", self, other)

    def __le__(self, other):
        return ops.comparison.compare("le", self, other)

    def __gt__(self, other):
        return ops.comparison.compare("gt", self, other)

    def __ge__(self, other):
        return ops.comparison.compare("ge", self, other)

    # & | ^ ~: logical on bool tensors, bitwise on integer ones (as PyTorch)
    def __invert__(self):
        return ops.comparison.bitwise_not(self)

    def __and__(self, other):
        return ops.comparison.bitwise("and", self, other)

    def __rand__(self, other):
        return ops.comparison.bitwise("and", other, self)

    def __or__(self, other):
        return ops.comparison.bitwise("or", self, other)

    def __ror__(self, other):
        return ops.comparison.bitwise("or", other, self)

    def __xor__(self, other):
        return ops.comparison.bitwise("xor", self, other)

    def __rxor__(self, other):
        return ops.comparison.bitwise("xor", other, self)

    def __getitem__(self, index):
        return ops.indexing.getitem(self, index)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in builtins.range(self.shape[0]))

    # --- named methods (each forwards to the op of the same name) ---------------------------------
    def add(self, other, *, alpha=1):
        return ops.arithmetic.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return ops.arithmetic.sub(self, other, alpha=alpha)

    def mul(self, other):
        return ops.arithmetic.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return ops.arithmetic.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return ops.arithmetic.pow(self, exponent)

    def neg(self):
        return ops.arithmetic.neg(self)

    def matmul(self, other):
        return ops.linalg.matmul(self, other)

    def mm(self, other):
        return ops.linalg.mm(self, other)

    def bmm(self, other):
        return ops.linalg.bmm(self, other)

    def exp(self):
        return ops.elementwise.exp(self)

    def log(self):
        return ops.elementwise.log(self)

    def sqrt(self):
        return ops.elementwise.sqrt(self)

    def abs(self):
        return ops.elementwise.abs(self)

    def sin(self):
        return ops.elementwise.sin(self)

    def cos(self):
        return ops.elementwise.cos(self)

    def square(self):
        return ops.elementwise.square(self)

    def rsqrt(self):
        return ops.elementwise.rsqrt(self)

    def log1p(self):
        return ops.elementwise.log1p(self)

    def expm1(self):
        return ops.elementwise.expm1(self)

    def reciprocal(self):
        return ops.elementwise.reciprocal(self)

    def floor(self):
        return ops.elementwise.floor(self)

    def ceil(self):
        return ops.elementwise.ceil(self)

    def round(self):  # noqa: A003
        return ops.elementwise.round(self)

    def tanh(self):
        return ops.elementwise.tanh(self)

    def erf(self):
        return ops.special.erf(self)

    def sigmoid(self):
        return ops.elementwise.sigmoid(self)

    def relu(self):
        return ops.elementwise.relu(self)

    def softplus(self, beta=1.0, threshold=20.0):
        return ops.elementwise.softplus(self, beta, threshold)

    def sign(self):
        return ops.elementwise.sign(self)

    def softmax(self, dim=None, *, dtype=None):
        return ops.activation.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim=None, *, dtype=None):
        return ops.activation.log_softmax(self, dim, dtype=dtype)

    def clamp(self, min=None, max=None):
        return ops.elementwise.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return ops.elementwise.clamp_min(self, min)

    def clamp_max(self, max):
        return ops.elementwise.clamp_max(self, max)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return ops.elementwise.nan_to_num(self, nan, posinf, neginf)

    def logical_not(self):
        return ops.comparison.logical_not(self)

    def logical_and(self, other):
        return ops.comparison.logical_and(self, other)

    def logical_or(self, other):
        return ops.comparison.logical_or(self, other)

    def logical_xor(self, other):
        return ops.comparison.logical_xor(self, other)

    def maximum(self, other):
        return ops.elementwise.maximum(self, other)

    def minimum(self, other):
        return ops.elementwise.minimum(self, other)

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return ops.reduction.sum(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return ops.reduction.prod(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return ops.reduction.mean(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return ops.reduction.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return ops.reduction.std(self, dim, unbiased, keepdim, correction)

    def max(self, dim=None, keepdim=False):
        return ops.reduction.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return ops.reduction.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return ops.reduction.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return ops.reduction.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return ops.reduction.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return ops.reduction.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return ops.reduction.logsumexp(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return ops.comparison.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return ops.comparison.all(self, dim, keepdim)

    def nonzero(self, *, as_tuple=False):
        return ops.comparison.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return ops.comparison.argwhere(self)

    def reshape(self, *shape):
        return ops.shape.reshape(self, *shape)

    def view(self, *shape):
        return ops.shape.view(self, *shape)

    def view_as(self, other):
        return ops.shape.view(self, other.shape)

    def reshape_as(self, other):
        return ops.shape.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return ops.shape.transpose(self, dim0, dim1)

    def t(self):
        """The transpose of a matrix; a vector or a 0-d tensor as it is (PyTorch's ``t``)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; use transpose(dim0, "
                             "dim1)")
        return self.T

    def split(self, split_size_or_sections, dim=0):
        return ops.pieces.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return ops.pieces.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return ops.pieces.unbind(self, dim)

    def flip(self, dims):
        return ops.scan.flip(self, dims)

    def cumsum(self, dim, *, dtype=None):
        return ops.scan.cumsum(self, dim, dtype=dtype)

    def roll(self, shifts, dims=None):
        return ops.scan.roll(self, shifts, dims)

    def unflatten(self, dim, sizes):
        return ops.shape.unflatten(self, dim, sizes)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return ops.pieces.repeat_interleave(self, repeats, dim, output_size=output_size)

    def triu(self, diagonal=0):
        return ops.triangular.triu(self, diagonal)

    def tril(self, diagonal=0):
        return ops.triangular.tril(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return ops.triangular.diagonal(self, offset, dim1, dim2)

    def sort(self, dim=-1, descending=False, *, stable=False):
        return ops.sorting.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return ops.sorting.argsort(self, dim, descending, stable=stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return ops.sorting.topk(self, k, dim, largest, sorted)

    def permute(self, *dims):
        return ops.shape.permute(self, *dims)

    def squeeze(self, dim=None):
        return ops.shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.shape.unsqueeze(self, dim)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.shape.flatten(self, start_dim, end_dim)

    def expand(self, *shape):
        return ops.shape.expand(self, *shape)

    def expand_as(self, other):
        return ops.shape.broadcast_to(self, other.shape)

    def broadcast_to(self, shape):
        return ops.shape.broadcast_to(self, shape)

    def contiguous(self):
        return ops.shape.contiguous(self)

    def is_contiguous(self):
        return bool(self.array.flags.c_contiguous)

    def gather(self, dim, index):
        return ops.indexing.gather(self, dim, index)

    def masked_fill(self, mask, value):
        return ops.elementwise.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        """``x[mask] = value`` in place (``mask`` a bool tensor that broadcasts to x), under the rules of
        ``__setitem__``."""
        ops.checks.require_tensor("masked_fill_", mask, "mask")
        if mask.dtype != _backend_module.bool_:
            raise TypeError(f"masked_fill_: mask must be a bool tensor, got dtype {mask.dtype}")
        mask_array = self._operand_array(mask, "masked_fill_")
        try:
            full_mask = self._backend.xp.broadcast_to(mask_array, self.shape)
        except ValueError:
            raise ValueError(f"masked_fill_: a mask of shape {tuple(mask.shape)} does not broadcast to the tensor's "
                             f"shape {tuple(self.shape)}") from None
        value_array = self._operand_array(value, "masked_fill_")
        return self._inplace("masked_fill_", lambda array: array.__setitem__(full_mask, value_array), value)

    def detach_(self):
        """Cut this tensor out of the graph in place: a leaf that does not require grad."""
        self.grad_fn, self.requires_grad = None, False
        return self

    def repeat(self, *repeats):
        """Tile the tensor ``repeats[i]`` times along dim i (more repeats than dims add leading dims), as
        PyTorch's ``repeat``: a broadcast and a reshape, so the backward sums the tiles."""
        return ops.shape.repeat(self, *repeats)

    # --- PyTorch's other spellings (issue 15) --------------------------------------------------------------
    # Names PyTorch scripts use; each forwards to tinygen's own op, so nothing here has math of its own.
    def eq(self, other):
        return ops.comparison.compare("eq", self, other)

    def ne(self, other):
        return ops.comparison.compare("ne", self, other)

    def lt(self, other):
        return ops.comparison.compare("lt", self, other)

    def le(self, other):
        return ops.comparison.compare("le", self, other)

    def gt(self, other):
        return ops.comparison.compare("gt", self, other)

    def ge(self, other):
        return ops.comparison.compare("ge", self, other)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The p-norm over ``dim`` (all entries when ``None``); see ``tinygen.norm``."""
        return ops.norm.norm(self, p, dim, keepdim, dtype)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with N(mean, std^2) draws (``tinygen.random.normal_``, as ``nn.init.normal_``)."""
        from tinygen import random as tg_random

        self._check_inplace("normal_")
        return tg_random.normal_(self, mean, std, generator)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill in place with U(a, b) draws (``tinygen.random.uniform_``, as ``nn.init.uniform_``)."""
        from tinygen import random as tg_random

        self._check_inplace("uniform_")
        return tg_random.uniform_(self, a, b, generator)

    def type(self, dtype=None, non_blocking=False):
        """Without an argument the type's name (``"tinygen.FloatTensor"``); else cast to a legacy type
        (``tinygen.LongTensor``), its name or a dtype. See ``tinygen.legacy``."""
        from tinygen import legacy

        return legacy.tensor_type(self, dtype)

    @property
    def is_cuda(self):
        return self.device == "cuda"

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype and device (unless given)."""
        from tinygen.creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from tinygen.creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """``tinygen.tensor(data)`` with this tensor's dtype and device (unless given)."""
        from tinygen.creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from tinygen.creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def __getattr__(self, name):
        """Only called for a name the class lacks: say that tinygen lacks it (and what to use instead)."""
        from tinygen import missing_names

        descriptor = getattr(type(self), name, None)
        if isinstance(descriptor, property):  # the property itself failed: let its own error show
            return descriptor.fget(self)
        raise missing_names.error("Tensor", name, type(self))
    # --- end of PyTorch's other spellings ----------------------------------------------------------------


_DTYPES_SHOWN_IMPLICITLY = (_backend_module.float32, _backend_module.int64, _backend_module.bool_)


def to_dtype_or_none(value):
    """``value`` as a dtype if it names one, else ``None`` (so ``x.to("cuda")`` and ``x.to("float64")`` both work)."""
    if isinstance(value, str) and value.split(":")[0] in _backend_module.DEVICES:
        return None
    try:
        return to_dtype(value)
    except TypeError:
        return None


def device_and_dtype(caller, device, dtype):
    """``to(device, dtype)``'s arguments sorted out: ``to(tinygen.float64)`` passes a dtype first; a name that is
    neither a device nor a dtype is an error saying both."""
    if device is None or isinstance(device, _backend_module.Backend):
        return device, dtype
    if to_dtype_or_none(device) is not None:
        return None, device
    if isinstance(device, str) and device.split(":")[0] not in _backend_module.DEVICES:
        raise ValueError(
            f"{caller}: {device!r} is neither a device ({', '.join(map(repr, _backend_module.DEVICES))}) nor a dtype "
            "(such as 'float32' or tinygen.float64)"
        )
    return device, dtype


# Autograd and the ops need the Tensor class, so they are imported after it is defined.
from tinygen.autograd import versions  # noqa: E402
from tinygen.autograd.grad_mode import is_grad_enabled  # noqa: E402
from tinygen import ops  # noqa: E402
