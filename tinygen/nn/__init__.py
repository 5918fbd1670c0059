"""Neural-network building blocks: ``Module``, ``Parameter``, the layers, ``functional`` and ``init``."""
from tinygen.nn.module import Module, Parameter  # noqa: F401
from tinygen.nn import functional  # noqa: F401
from tinygen.nn.layers.activation import *  # noqa: F401,F403
from tinygen.nn.layers.causal_conv import CausalConv2d  # noqa: F401
from tinygen.nn.layers.container import *  # noqa: F401,F403
from tinygen.nn.layers.conv import *  # noqa: F401,F403
from tinygen.nn.layers.dropout import *  # noqa: F401,F403
from tinygen.nn.layers.embedding import Embedding  # noqa: F401
from tinygen.nn.parallel import DataParallel  # noqa: F401
from tinygen.nn.layers.linear import *  # noqa: F401,F403
from tinygen.nn.layers.normalization import *  # noqa: F401,F403
from tinygen.nn.layers.padding import *  # noqa: F401,F403
from tinygen.nn.layers.pooling import *  # noqa: F401,F403
from tinygen.nn.layers.shape import *  # noqa: F401,F403
from tinygen.nn.layers.loss import *  # noqa: F401,F403  (issue 15: loss modules)
from tinygen.nn import utils  # noqa: F401,E402
from tinygen.missing_names import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("nn")
