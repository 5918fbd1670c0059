"""Exercise relu: relu and leaky relu, forward and backward.    Read: docs/derivations/elementwise.md"""
from tinygen.exercises.given import LeakyReLUBase, ReLUBase


class ReLU(ReLUBase):
    """y = max(x, 0), elementwise.

    ``forward(x)``: x is a raw array (``self.backend.xp`` is numpy or cupy); return y. ``save_inputs = True``
    (below) keeps x: ``self.saved_inputs`` gives it back as a Tensor in backward.
    ``backward(g)``: return dL/dx, with tensor ops. The slope is 1 where x > 0 and 0 elsewhere; at x = 0
    exactly tinygen (like PyTorch) takes the slope of the left side, 0. A comparison such as ``x > 0`` gives a
    boolean Tensor; ``.to(dtype=g.dtype)`` makes it 0.0 / 1.0.
    """

    save_inputs = True

    def forward(self, x):
        # solution: begin
        return self.backend.xp.maximum(x, 0)
        # solution: end

    def backward(self, g):
        # solution: begin
        (x,) = self.saved_inputs
        return g * (x > 0).to(dtype=g.dtype)
        # solution: end


class LeakyReLU(LeakyReLUBase):
    """y = x where x > 0, else negative_slope * x (``self.negative_slope``, any number >= 0, also above 1).

    ``forward(x)``: raw arrays, as for ReLU. ``backward(g)``: the slope is 1 where x > 0 and negative_slope
    elsewhere, also at x = 0 exactly (the left side's slope, as in PyTorch).
    """

    save_inputs = True

    def forward(self, x):
        # solution: begin
        return self.backend.xp.where(x > 0, x, self.negative_slope * x)
        # solution: end

    def backward(self, g):
        # solution: begin
        (x,) = self.saved_inputs
        positive = (x > 0).to(dtype=g.dtype)
        return g * (positive + self.negative_slope * (1.0 - positive))
        # solution: end
