"""Exercise gradient_penalty: WGAN-GP's penalty, which needs a gradient of a gradient.
Read: docs/derivations/gan-losses.md"""
import tinygen
from tinygen.creation import rand


def gradient_penalty(critic, real, fake, lambda_=10.0, generator=None):
    """lambda_ * mean over the batch of (||d critic(x_hat) / d x_hat||_2 - 1)^2   (Gulrajani et al. 2017).

    critic: a callable (a Module or a function) that maps a batch (N, ...) to one score per sample, (N,) or
    (N, 1). real, fake: batches of one shape (N, ...), e.g. (N, 1, 28, 28). Return a 0-d Tensor.

    1. Detach real and fake: the penalty trains the critic only and must send no gradient to the generator.
    2. Draw one eps per sample, EXACTLY as ``rand((N, 1, ..., 1), generator=generator, dtype=real.dtype,
       device=real.device)`` with real.ndim - 1 ones (``rand`` is imported), so the grader's numbers match.
    3. x_hat = eps * real + (1 - eps) * fake, a leaf that requires grad (``.requires_grad_()``).
    4. The gradient of the critic's summed scores with respect to x_hat: ``tinygen.grad(...)``. The penalty
       must itself be differentiated with respect to the critic's weights, so this gradient must be
       recorded: find the argument of ``tinygen.grad`` that does that.
    5. Per sample, the 2-norm over all of its elements; then the formula above. For a stable derivative at
       a zero gradient use sqrt(sum of squares + 1e-12).
    6. The penalty needs a graph even when the caller is inside ``tinygen.no_grad()``: wrap steps 3-5 in
       ``with tinygen.enable_grad():``.
    """
    raise NotImplementedError("gradient_penalty: not written yet (read its docstring)")
