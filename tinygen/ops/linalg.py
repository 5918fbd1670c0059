"""Matrix products. See docs/derivations/matmul.md.

For Y = A B (A: n x k, B: k x m) and upstream gradient G = dL/dY (n x m):
    dL/dA = G B^T      dL/dB = A^T G
Batched inputs broadcast over leading dimensions; a broadcast operand's gradient is summed back.
1-D operands follow NumPy: a vector on the left is a row, on the right a column, and that dim is dropped.
Tests: tests/test_linalg.py.
"""
import math

from tinygen.autograd.function import Function
from tinygen.ops import checks
from tinygen.ops.shape import reshape, squeeze, sum_to, unsqueeze


class MatMul(Function):
    """Y = A @ B for A (..., n, k), B (..., k, m).   dL/dA = G @ B^T,  dL/dB = A^T @ G (summed over broadcast)."""

    save_inputs = True

    def forward(self, a, b):
        if a.shape[-1] == 1:  # k = 1: each entry is one product a[i] b[j]; broadcasting is several times faster
            return a * b
        if b.ndim == 2 and a.ndim > 2:  # (batch..., n, k) @ (k, m): one large 2-D product is faster
            return (a.reshape(math.prod(a.shape[:-1]), a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))
        return a @ b

    def backward(self, g):
        a, b = self.saved_inputs
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = sum_to(matmul(g, b.mT), a.shape)
        if self.needs_input_grad[1]:
            if b.ndim == 2 and a.ndim > 2:  # sum over the batch inside one 2-D product
                rows = math.prod(a.shape[:-1])
                grad_b = matmul(reshape(a, (rows, b.shape[0])).mT, reshape(g, (rows, b.shape[1])))
            else:
                grad_b = sum_to(matmul(a.mT, g), b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """Matrix product with NumPy's rules for 1-D and batched operands."""
    a, b = checks.as_operand_pair("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a.shape} and {b.shape}")
    a2 = unsqueeze(a, 0) if a.ndim == 1 else a
    b2 = unsqueeze(b, -1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the inner sizes {a2.shape[-1]} and {b2.shape[-2]} differ"
        )
    checks.broadcast_shapes("matmul (batch dimensions)", a2.shape[:-2], b2.shape[:-2])
    y = MatMul()(a2, b2)
    if a.ndim == 1:
        y = squeeze(y, -2)
    if b.ndim == 1:
        y = squeeze(y, -1)
    return y


def mm(a, b):
    """The product of two matrices (PyTorch's ``mm``: 2-D only, no broadcasting)."""
    if getattr(a, "ndim", None) != 2 or getattr(b, "ndim", None) != 2:
        raise ValueError(f"mm: expects two matrices (2-D), got shapes {getattr(a, 'shape', a)} and "
                         f"{getattr(b, 'shape', b)}; matmul takes other shapes")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix products (PyTorch's ``bmm``): (B, n, m) and (B, m, p) -> (B, n, p), no broadcasting."""
    if getattr(a, "ndim", None) != 3 or getattr(b, "ndim", None) != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: expects two 3-D tensors with one batch size, got shapes {getattr(a, 'shape', a)} "
                         f"and {getattr(b, 'shape', b)}; matmul broadcasts")
    return matmul(a, b)
