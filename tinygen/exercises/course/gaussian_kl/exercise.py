"""gaussian_kl: the KL term of a VAE, KL(N(mu, sigma^2) || N(0, 1)), forward and backward."""
from tinygen.exercises.grading import Hints, check_forward, check_op_backward, random_tensor

SUMMARY = "KL(N(mu, sigma^2) || N(0, 1)) and its gradient"
READING = "docs/derivations/vae.md"
AFTER = ("bce_with_logits",)
REPLACES = {"gaussian_kl": "tinygen.losses.vae:gaussian_kl"}

FORWARD = Hints(
    what="the KL per element has wrong values (at mu = 0, logvar = 0 it must be 0, and it is never negative)",
    direction="KL(p || q) = E_p[log p(z) - log q(z)] for p = N(mu, s^2), q = N(0, 1): write out both log "
              "densities and take the expectation under p",
    step="E_p[(z - mu)^2] = s^2 and E_p[z^2] = mu^2 + s^2, so E_p[log p] = -log s - 1/2 + c and "
         "E_p[log q] = -(mu^2 + s^2) / 2 + c, with the same constant c; and log s^2 = logvar",
    answer="(exp(logvar) + mu^2 - 1 - logvar) / 2, i.e. -0.5 * (1 + logvar - mu * mu - xp.exp(logvar))",
)
HINTS = {
    "mu": Hints(
        what="dKL/dmu has wrong values (dKL/dlogvar is checked separately)",
        direction="only one term of the KL depends on mu",
        step="that term is mu^2 / 2",
        answer="g * mu",
    ),
    "logvar": Hints(
        what="dKL/dlogvar has wrong values (dKL/dmu is checked separately)",
        direction="differentiate each term of the KL in logvar; exp(logvar) is its own derivative",
        step="d/dlogvar of (exp(logvar) - 1 - logvar) / 2",
        answer="g * (0.5 * (logvar.exp() - 1.0))",
    ),
}


def per_element_kl(mu, logvar):
    """The grader's own closed form, per element."""
    return -0.5 * (1.0 + logvar - mu * mu - logvar.exp())


def grade(student, reference):
    mu, logvar = random_tensor((4, 3), 0, low=-2.0, high=2.0), random_tensor((4, 3), 1, low=-3.0, high=2.0)
    check_forward(f"KL per element for mu {tuple(mu.shape)}, logvar {tuple(logvar.shape)}",
                  lambda mu, logvar: student.GaussianKL()(mu, logvar), per_element_kl, [mu, logvar],
                  ["mu", "logvar"], FORWARD)
    for reduction in ("none", "sum", "mean"):
        check_forward(f"gaussian_kl(mu, logvar, reduction={reduction!r})",
                      lambda mu, logvar: student.gaussian_kl(mu, logvar, reduction),
                      lambda mu, logvar: reference.gaussian_kl(mu, logvar, reduction), [mu, logvar], ["mu", "logvar"],
                      FORWARD)
    check_op_backward(f"backward for mu {tuple(mu.shape)}, logvar {tuple(logvar.shape)}",
                      lambda mu, logvar: student.GaussianKL()(mu, logvar), per_element_kl, [mu, logvar],
                      ["mu", "logvar"], HINTS)
