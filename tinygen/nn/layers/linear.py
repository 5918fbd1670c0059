"""``Linear`` (y = x W^T + b) and ``Identity``."""
import math

from tinygen.nn import init
from tinygen.nn.module import Module, check_size, zeros_parameter
from tinygen.ops.activation import linear

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged (a placeholder; constructor arguments are accepted and ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b.  Input (*, in_features) -> output (*, out_features).

    weight (out_features, in_features) and bias (out_features,) start as in PyTorch: U(-k, k) with
    k = 1 / sqrt(in_features) (``kaiming_uniform_`` with a = sqrt(5) gives exactly that bound).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = check_size("Linear", "in_features", in_features)
        self.out_features = check_size("Linear", "out_features", out_features)
        self.weight = zeros_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = zeros_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
