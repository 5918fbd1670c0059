"""``tinygen.nn.functional`` (import as ``F``): the functional form of every layer and loss, PyTorch's names.

Each family lives in its own module; this file only gathers them under one name.
"""
from tinygen.ops.elementwise import elu, leaky_relu, relu, sigmoid, softplus, tanh  # noqa: F401
from tinygen.ops.shape import flatten, pad  # noqa: F401
from tinygen.ops.linalg import matmul  # noqa: F401
from tinygen.ops.activation import *  # noqa: F401,F403
from tinygen.ops.conv import *  # noqa: F401,F403
from tinygen.ops.pooling import *  # noqa: F401,F403
from tinygen.ops.normalization import *  # noqa: F401,F403
from tinygen.ops.dropout import *  # noqa: F401,F403
from tinygen.losses import *  # noqa: F401,F403
from tinygen.missing_names import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("nn.functional")
