"""PyTorch's legacy tensor types, still common in older scripts: ``FloatTensor(2, 3)``, ``x.type(LongTensor)``.

    Tensor = tinygen.cuda.FloatTensor if cuda else tinygen.FloatTensor
    valid = Tensor(batch_size, 1).fill_(1.0)          # a (batch_size, 1) float32 tensor
    z = Tensor(numpy.random.normal(0, 1, (64, 100)))  # the values, as float32
    images.type(Tensor)                              # cast (and move) to that type

A type is a constructor, a target for ``Tensor.type`` and an ``isinstance`` check, as in PyTorch. Sizes give
zeros (tinygen never hands out uninitialized memory; PyTorch's values would be garbage). The CPU types make
tensors on the default device (the CPU unless ``TINYGEN_DEVICE`` says otherwise); the ``tinygen.cuda`` ones on
the GPU, and say so clearly when there is none.
"""
import numbers

from tinygen import backend as backends
from tinygen.backend.dtypes import bool_, float16, float32, float64, int32, int64, uint8

__all__ = [
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor",
    "legacy_types", "tensor_type",
]

#: the type names PyTorch gives each dtype
TYPE_NAMES = {
    float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor", int32: "IntTensor",
    int64: "LongTensor", uint8: "ByteTensor", bool_: "BoolTensor",
}


class LegacyTensorType(type):
    """The metaclass of ``FloatTensor`` and its kin: calling one makes a tensor; ``isinstance`` checks dtype and
    device."""

    def __call__(cls, *args, device=None):
        from tinygen import creation

        target = cls.device()
        if device is not None and backends.normalize_device(device) != target:
            raise ValueError(f"{cls.__qualname__}: its tensors live on {target!r}, got device={device!r}")
        return construct(cls.__qualname__, args, cls.dtype, target)

    def __instancecheck__(cls, value):
        from tinygen.tensor import Tensor

        return isinstance(value, Tensor) and value.dtype == cls.dtype and (value.device == "cuda") == cls.on_gpu

    def device(cls):
        """Where this type's tensors live."""
        if cls.on_gpu:
            if not backends.cuda_is_available():
                raise RuntimeError(f"tinygen.cuda.{cls.__name__}: no GPU here (needs CuPy and a CUDA device); "
                                   f"use tinygen.{cls.__name__}, or pick it with tinygen.cuda.is_available()")
            return "cuda"
        default = backends.get_default_device()
        return "cpu" if default == "cuda" else default

    def __repr__(cls):
        return f"<class '{cls.__qualname__}'>"


def construct(name, args, dtype, device, requires_grad=False):
    """What a legacy constructor makes of its arguments: nothing -> an empty tensor, sizes -> zeros of that shape,
    one sequence or array -> its values; all of ``dtype``, on ``device``."""
    from tinygen import creation

    if not args or (len(args) == 1 and isinstance(args[0], (tuple, list)) and not args[0]):
        made = creation.zeros(0, dtype=dtype, device=device)
    elif all(isinstance(arg, numbers.Integral) and not isinstance(arg, bool) for arg in args):
        made = creation.zeros(*args, dtype=dtype, device=device)
    elif len(args) == 1:
        return creation.tensor(args[0], dtype=dtype, device=device, requires_grad=requires_grad)
    else:
        raise TypeError(f"{name}: expected sizes (ints) or one sequence or array of values, got {args!r}")
    return made.requires_grad_(requires_grad)


def legacy_types(on_gpu):
    """One class per dtype, named as PyTorch names them (``FloatTensor`` ...), for the CPU or for the GPU."""
    prefix = "tinygen.cuda." if on_gpu else "tinygen."
    return {name: LegacyTensorType(name, (), {"dtype": dtype, "on_gpu": on_gpu, "__qualname__": prefix + name})
            for dtype, name in TYPE_NAMES.items()}


_CPU_TYPES = legacy_types(on_gpu=False)
FloatTensor, DoubleTensor, HalfTensor = _CPU_TYPES["FloatTensor"], _CPU_TYPES["DoubleTensor"], _CPU_TYPES["HalfTensor"]
IntTensor, LongTensor = _CPU_TYPES["IntTensor"], _CPU_TYPES["LongTensor"]
ByteTensor, BoolTensor = _CPU_TYPES["ByteTensor"], _CPU_TYPES["BoolTensor"]


def _type_named(name):
    """``"torch.cuda.FloatTensor"`` or ``"tinygen.FloatTensor"`` -> that legacy type; ``None`` for other strings."""
    from tinygen import cuda

    parts = name.split(".")
    if len(parts) not in (2, 3) or parts[0] not in ("torch", "tinygen") or (len(parts) == 3 and parts[1] != "cuda"):
        return None
    types = cuda.LEGACY_TYPES if len(parts) == 3 else _CPU_TYPES
    return types.get(parts[-1])


def tensor_type(tensor, dtype=None):
    """``Tensor.type()``: without an argument the type's name (``"tinygen.FloatTensor"``); with a legacy type, its
    name, or a dtype, the tensor cast (and moved) to it (itself when it already is one)."""
    if dtype is None:
        prefix = "tinygen.cuda." if tensor.device == "cuda" else "tinygen."
        return prefix + TYPE_NAMES[tensor.dtype]
    target = _type_named(dtype) if isinstance(dtype, str) and "." in dtype else dtype
    if isinstance(target, LegacyTensorType):
        device = target.device()
        if tensor.dtype == target.dtype and tensor.device == device:
            return tensor
        return tensor.to(device=device, dtype=target.dtype)
    try:
        if target is None:
            raise TypeError
        return tensor.to(dtype=backends.to_dtype(target))
    except TypeError:
        raise TypeError(f"type(): expected a tensor type such as tinygen.FloatTensor, its name or a dtype, "
                        f"got {dtype!r}") from None
