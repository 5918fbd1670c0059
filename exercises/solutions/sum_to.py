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
        # solution: begin
        self.input_shape = x.shape
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + axis for axis, size in enumerate(self.shape) if size == 1 and x.shape[lead + axis] != 1
        )
        return x.sum(axis=axes, keepdims=True).reshape(self.shape)
        # solution: end

    def backward(self, g):
        # solution: begin
        return broadcast_to(g, self.input_shape)
        # solution: end
