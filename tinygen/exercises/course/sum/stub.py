"""Exercise sum: the backward of y = x.sum(dim, keepdim).    Read: docs/derivations/reductions.md"""
from tinygen.exercises.given import SumForward
from tinygen.ops.shape import broadcast_to, reshape


class Sum(SumForward):
    """y = x summed over the dimensions ``self.dims`` (a tuple of non-negative ints, e.g. (0, 2); every
    dimension for ``x.sum()``). With ``self.keepdim`` the summed dimensions stay as size 1:
    x (2, 3, 4).sum(dim=1) -> (2, 4);  .sum(dim=1, keepdim=True) -> (2, 1, 4);  .sum() -> ().

    The forward is given (tinygen's own); it stores the input's shape in ``self.input_shape``.

    Write ``backward(g)``: g = dL/dy has y's shape. Return dL/dx with the shape ``self.input_shape``.
      - Each x_i enters exactly one sum with slope 1, so dL/dx_i is the gradient of the sum it went into.
      - So the gradient is g copied back along the summed dimensions: first ``reshape`` g so that every
        summed dimension is there with size 1 (it already is when keepdim=True), then ``broadcast_to`` the
        input's shape. Both are imported above.
      - Use tensor ops, not raw arrays (``.array``): the grader checks second derivatives too.
    """

    def backward(self, g):
        raise NotImplementedError("Sum.backward: not written yet (read its docstring)")
