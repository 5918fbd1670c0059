"""Exercise batch_norm: the training-mode backward of batch normalization.    Read: docs/derivations/batch-norm.md"""
from tinygen.exercises.given import BatchNormTrainingForward


class BatchNormTraining(BatchNormTrainingForward):
    """For x (N, C) or (N, C, H, W), per channel c over its M = N*H*W values:
        mean = sum(x) / M,   var = sum((x - mean)^2) / M,   xhat = (x - mean) / sqrt(var + eps),
        y = gamma * xhat + beta.
    Inputs are (x), (x, gamma), (x, beta) or (x, gamma, beta): ``self.has_weight`` and ``self.has_bias`` say
    which; gamma and beta have shape (C,). ``self.eps`` is eps.

    The forward is given (tinygen's own); ``self.saved_inputs`` gives the inputs as Tensors.

    Write ``backward(g)``: g = dL/dy (x's shape). Return (dL/dx, [dL/dgamma,] [dL/dbeta]) for the inputs given.
      - dL/dbeta and dL/dgamma are per-channel sums (shape (C,)).
      - dL/dx: mean and var depend on every x of the channel, so dL/dx_i gets three terms: the direct one
        through xhat_i, one through the mean, one through the variance. Derive them and simplify; the result
        fits on one line with the per-channel means of g and of g * xhat.
      - Check: shifting all x of a channel by the same amount does not change y, so your dL/dx must sum to
        zero over each channel, for any g.
      - Recompute mean, var and xhat from x with tensor ops (``x.mean(dim=..., keepdim=True)``, ...) rather than
        reusing the forward's arrays (``self.mean``, ``self.invstd`` are constants): the grader checks second
        derivatives. A (C,) vector reshaped to (1, C, 1, 1) broadcasts against (N, C, H, W).
    """

    def backward(self, g):
        raise NotImplementedError("BatchNormTraining.backward: not written yet (read its docstring)")
