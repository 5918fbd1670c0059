"""``tinygen.nn.functional`` (import as ``F``): the functional form of every layer and loss, PyTorch's names.

Each family lives in its own module; this file only gathers them under one name.
"""
from tinygen.ops import elementwise as _elementwise
from tinygen.ops.elementwise import sigmoid, softplus, tanh  # noqa: F401
from tinygen.ops.padding import pad  # noqa: F401
from tinygen.ops.shape import flatten  # noqa: F401
from tinygen.ops.linalg import matmul  # noqa: F401
from tinygen.ops.activation import *  # noqa: F401,F403
from tinygen.ops.composed_activation import *  # noqa: F401,F403
from tinygen.ops.conv import *  # noqa: F401,F403
from tinygen.ops.pooling import *  # noqa: F401,F403
from tinygen.ops.pixel_shuffle import *  # noqa: F401,F403
from tinygen.ops.normalization import *  # noqa: F401,F403
from tinygen.ops.dropout import *  # noqa: F401,F403
from tinygen.losses import *  # noqa: F401,F403
from tinygen.nn.layers.embedding import embedding  # noqa: F401
from tinygen.ops.indexing import one_hot  # noqa: F401
from tinygen.ops.norm import cosine_similarity, normalize  # noqa: F401
from tinygen.ops.attention import scaled_dot_product_attention  # noqa: F401
from tinygen.missing_names import module_getattr as _module_getattr  # noqa: E402


# ``inplace`` as PyTorch spells it: tinygen returns a new tensor (the same values; the input is left as it was),
# as the layers do (nn.ReLU(inplace=True)), since an in-place change would break the graph that records it.
def relu(input, inplace=False):
    return _elementwise.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _elementwise.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return _elementwise.elu(input, alpha)


__getattr__ = _module_getattr("nn.functional")
