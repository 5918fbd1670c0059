"""Exercise mul: the backward of z = a * b with broadcasting.    Read: docs/derivations/broadcasting.md"""
from tinygen.exercises.given import MulForward
from tinygen.ops.shape import sum_to


class Mul(MulForward):
    """z = a * b, elementwise, where a and b broadcast against each other: (3, 1) * (1, 4) -> (3, 4),
    (4,) * (2, 3, 4) -> (2, 3, 4).

    The forward is given (tinygen's own); ``save_inputs = True`` keeps a and b, and ``self.saved_inputs``
    returns them as Tensors inside backward.

    Write ``backward(g)``: g = dL/dz has z's (broadcast) shape. Return ``(dL/da, dL/db)``, each with the shape
    of its own input.
      - Without broadcasting, dz_i/da_i = b_i, so dL/da = g * b elementwise (and symmetrically for b).
      - With broadcasting, one entry of a was copied to many entries of z; its gradient is the SUM of their
        gradients. ``sum_to(t, shape)`` (imported above) sums t over the dimensions that were broadcast to
        reach ``shape``.
      - ``self.needs_input_grad[i]`` tells whether input i needs a gradient; you may return None for one
        that does not.
      - Use tensor ops (g * b, sum_to), not raw arrays (``.array``): the grader checks second derivatives too.
    """

    def backward(self, g):
        # solution: begin
        a, b = self.saved_inputs
        grad_a = sum_to(g * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(g * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b
        # solution: end
