"""tinygen: a small, readable deep-learning engine for generative models (GANs, VAEs).

    import tinygen as tg
    x = tg.randn(64, 100, requires_grad=True)
    y = (x @ w).tanh().mean()
    y.backward()            # x.grad now holds dy/dx

Layout (read in this order): backend -> tensor + autograd -> ops -> nn, losses -> optim -> data -> models
-> metrics, viz -> training -> cli; beside them testing (gradient checks) and exercises, and PyTorch's spellings
(legacy types, cuda, utils.data, vision). docs/architecture.md draws it.
"""
from tinygen.backend import (  # noqa: F401
    bool_,
    cuda_is_available,
    float16,
    float32,
    float64,
    get_default_device,
    int32,
    int64,
    set_default_device,
    uint8,
)
from tinygen.tensor import Tensor  # noqa: F401
from tinygen.autograd import (  # noqa: F401
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinygen.creation import (  # noqa: F401
    arange,
    as_tensor,
    empty,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from tinygen.random import Generator, manual_seed  # noqa: F401
from tinygen.cores import get_num_threads, set_num_threads  # noqa: F401
from tinygen.ops.arithmetic import add, div, floor_divide, mul, neg, pow, remainder, sub  # noqa: F401
from tinygen.ops.comparison import allclose, equal, isfinite, isnan, logical_not  # noqa: F401
from tinygen.ops.comparison import logical_and, logical_or, logical_xor  # noqa: F401
from tinygen.ops.comparison import argwhere, nonzero  # noqa: F401
from tinygen.ops.elementwise import (  # noqa: F401
    abs,
    ceil,
    clamp,
    cos,
    elu,
    exp,
    floor,
    leaky_relu,
    log,
    masked_fill,
    maximum,
    minimum,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    tanh,
    where,
)
from tinygen.ops.indexing import gather  # noqa: F401
from tinygen.ops.linalg import bmm, matmul, mm  # noqa: F401
from tinygen.ops.reduction import (  # noqa: F401
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from tinygen.ops.padding import pad  # noqa: F401
from tinygen.ops.shape import (  # noqa: F401
    broadcast_to,
    cat,
    flatten,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

from tinygen import nn, optim  # noqa: E402,F401  (after the ops they are built on)
from tinygen.serialization import load, save  # noqa: E402,F401

clip = clamp
concatenate = cat

# --- PyTorch's names for scripts written for it (issue 15; see docs/coming-from-pytorch.md) -----------------
from tinygen.backend.device import device  # noqa: E402,F401
from tinygen.legacy import (  # noqa: E402,F401
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
)
from tinygen.ops.norm import norm  # noqa: E402,F401
from tinygen.ops.activation import log_softmax, softmax  # noqa: E402,F401
from tinygen.ops.pieces import chunk, repeat_interleave, split, unbind  # noqa: E402,F401
from tinygen.ops.shape import unflatten  # noqa: E402,F401
from tinygen.ops.scan import cumsum, flip, roll  # noqa: E402,F401
from tinygen.ops.sorting import argsort, sort, topk  # noqa: E402,F401
from tinygen.ops.triangular import diagonal, tril, triu  # noqa: E402,F401
from tinygen.ops.elementwise import clamp_max, clamp_min, nan_to_num  # noqa: E402,F401
from tinygen.ops.elementwise import expm1, log1p, reciprocal  # noqa: E402,F401
from tinygen.backend.dtypes import finfo, iinfo  # noqa: E402,F401
from tinygen.ops.special import erf  # noqa: E402,F401
from tinygen.pytorch_names import Size, empty_like, is_floating_point, numel  # noqa: E402,F401
from tinygen.pytorch_names import from_numpy, get_default_dtype, is_tensor  # noqa: E402,F401
from tinygen import accelerator, amp, autograd, backends, cuda, utils  # noqa: E402,F401
from tinygen.amp import autocast  # noqa: E402,F401


def _autograd_getattr(name):
    """``from torch.autograd import gradcheck``: tinygen's checks live in tinygen.testing, above autograd in the
    layers, so they are handed to it from here, at the top, and loaded on first use (not at every start-up)."""
    if name in ("gradcheck", "gradgradcheck"):
        from tinygen import testing

        return getattr(testing, name)
    raise AttributeError(f"module 'tinygen.autograd' has no attribute {name!r}")


autograd.__getattr__ = _autograd_getattr
from tinygen.missing_names import module_getattr as _module_getattr  # noqa: E402

#: PyTorch's other names of the dtypes (``dtype=torch.float``, ``torch.long``), served by ``__getattr__`` so that
#: ``from tinygen import *`` does not shadow the builtins float, int and bool
DTYPE_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32, "bool": bool_}
_missing_name = _module_getattr("tinygen", lazy_submodules=("vision",))


def __getattr__(name):
    return DTYPE_ALIASES[name] if name in DTYPE_ALIASES else _missing_name(name)


__version__ = "0.1.0"
