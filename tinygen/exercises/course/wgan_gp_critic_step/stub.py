"""Exercise wgan_gp_critic_step: one training step of WGAN-GP's critic.    Read: docs/derivations/gan-losses.md"""
from tinygen.losses import discriminator_loss, gradient_penalty


def critic_step(critic, optimizer, real, fake, lambda_=10.0, generator=None):
    """Train the critic C for one step on L_C = mean C(fake) - mean C(real) + lambda_ * penalty, and return the
    step's numbers as Python floats: ``{"loss_c": L_C, "wasserstein": mean C(real) - mean C(fake),
    "gradient_penalty": the penalty}``.

    critic: a Module mapping a batch to scores (N,) or (N, 1); optimizer: an optimizer over the critic's
    parameters; real: a batch of data; fake: a batch the generator made (it may still be attached to the
    generator's graph). lambda_ and generator go to ``gradient_penalty(critic, real, fake, lambda_,
    generator=generator)`` (imported, as is ``discriminator_loss(real_scores, fake_scores, "wasserstein")``,
    which is mean C(fake) - mean C(real)).

      - This step trains the critic only: no gradient may reach the generator.
      - Gradients accumulate in ``.grad`` across backward calls: clear them before this step's backward.
    """
    raise NotImplementedError("critic_step: not written yet (read its docstring)")
