"""``Dropout``: zero entries with probability p in training mode (survivors scaled by 1 / (1 - p))."""
import numbers

from tinygen.nn.module import Module
from tinygen.ops.dropout import dropout, dropout2d

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """``F.dropout(input, p, training=self.training)``: random zeros while training, identity in ``eval()``.

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """``F.dropout2d(input, p, training=self.training)``: whole channels zeroed while training (input (N, C, H, W)
    or (C, H, W)), identity in ``eval()``."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training)
