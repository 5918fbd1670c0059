"""Exercise tanh: the backward of y = tanh(x).    Read: docs/derivations/elementwise.md"""
from tinygen.exercises.given import TanhForward


class Tanh(TanhForward):
    """y = tanh(x), elementwise; x and y have any shape, the same one.

    The forward is given (tinygen's own); ``save_output = True`` keeps y, and ``self.saved_output`` returns it
    as a Tensor inside backward.

    Write ``backward(g)``: g = dL/dy (y's shape). Return dL/dx (x's shape).
      - Derive d tanh(x)/dx. Write it in terms of y, the output you already have: no need to save x.
      - Chain rule, elementwise: dL/dx = g * dy/dx.
      - Use tensor ops on Tensors (g, y), not raw arrays (``.array``), so your backward can itself be differentiated
        (the grader checks second derivatives too).
    """

    def backward(self, g):
        raise NotImplementedError("Tanh.backward: not written yet (read its docstring)")
