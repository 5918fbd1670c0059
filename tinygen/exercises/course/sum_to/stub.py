"""Exercise sum_to: summing down to a shape, the reverse of broadcasting.    Read: docs/derivations/broadcasting.md"""
from tinygen.exercises.given import SumToBase
from tinygen.ops.shape import broadcast_to


class SumTo(SumToBase):
    """y = sum_to(x, shape): x summed down to ``self.shape``, a shape that broadcasts to x's shape. It is what
    every broadcast needs in its backward: an entry that broadcasting copied to many places gets the sum of
    their gradients. Examples: x (2, 3, 4) -> (3, 4) sums dim 0; -> (3, 1) sums dims 0 and 2; -> () sums all.

    ``forward(x)``: x is a raw array (``self.backend.xp`` is numpy or cupy). Return an array of exactly the shape
    ``self.shape`` (it may have fewer dimensions than x).
      - Broadcasting ``self.shape`` up to x's shape copies along two kinds of dimensions: work out which, and
        sum over both (``x.sum(axis=..., keepdims=True)``, then ``.reshape``).
      - Keep x's shape in ``self.input_shape``: backward needs it.
    ``backward(g)``: g = dL/dy has shape ``self.shape``. Return dL/dx (x's shape), with tensor ops
    (``broadcast_to`` is imported), so that it can be differentiated again.
    """

    def forward(self, x):
        raise NotImplementedError("SumTo.forward: not written yet (read its docstring)")

    def backward(self, g):
        raise NotImplementedError("SumTo.backward: not written yet (read its docstring)")
