"""Exercise matmul: the backward of Y = A @ B, batched.    Read: docs/derivations/matmul.md"""
from tinygen.exercises.given import MatMulForward
from tinygen.ops.linalg import matmul
from tinygen.ops.shape import sum_to


class MatMul(MatMulForward):
    """Y = A @ B for A (..., n, k) and B (..., k, m) -> Y (..., n, m). Both have at least 2 dimensions here
    (``tinygen.matmul`` turns vectors into matrices before it gets here); the leading "batch" dimensions
    broadcast against each other, e.g. (5, 2, 3) @ (3, 4) -> (5, 2, 4) or (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2).

    The forward is given (tinygen's own); ``self.saved_inputs`` returns A and B as Tensors in backward.

    Write ``backward(g)``: G = dL/dY has Y's shape (..., n, m). Return ``(dL/dA, dL/dB)`` with A's and B's shapes.
      - Derive, for plain matrices, dL/dA_ip = sum_j G_ij B_pj and dL/dB_pj = sum_i G_ij A_ip, and write
        both as matrix products. Check the shapes: dL/dA is (n, k), dL/dB is (k, m).
      - ``t.mT`` swaps the last two dimensions (a batch of transposes); ``matmul`` (imported) multiplies
        batches of matrices.
      - A batch dimension that was broadcast must be summed back, as for any broadcast: ``sum_to(t, shape)``.
      - Use tensor ops, not raw arrays (``.array``): the grader checks second derivatives too.
    """

    def backward(self, g):
        # solution: begin
        a, b = self.saved_inputs
        grad_a = sum_to(matmul(g, b.mT), a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(matmul(a.mT, g), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b
        # solution: end
