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
        # solution: begin
        x = self.saved_inputs[0]
        axes = (0,) + tuple(range(2, x.ndim))
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        centered = x - x.mean(dim=axes, keepdim=True)
        invstd = ((centered * centered).mean(dim=axes, keepdim=True) + self.eps) ** -0.5
        xhat = centered * invstd
        scale = invstd * self.saved_inputs[1].reshape(per_channel) if self.has_weight else invstd
        grad_x = scale * (g - g.mean(dim=axes, keepdim=True) - xhat * (g * xhat).mean(dim=axes, keepdim=True))
        grads = [grad_x]
        if self.has_weight:
            grads.append((g * xhat).sum(dim=axes))
        if self.has_bias:
            grads.append(g.sum(dim=axes))
        return tuple(grads)
        # solution: end
