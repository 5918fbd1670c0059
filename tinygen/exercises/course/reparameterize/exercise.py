"""reparameterize: the reparameterization trick (a differentiable sample) and the ELBO built from its parts."""
from tinygen.creation import randn
from tinygen.exercises.grading import Hints, check_forward, check_gradients, expect, random_tensor
from tinygen.losses import binary_cross_entropy_with_logits, gaussian_kl
from tinygen.random import Generator

SUMMARY = "the reparameterization trick, and the ELBO (reconstruction + beta * KL)"
READING = "docs/derivations/vae.md"
AFTER = ("gaussian_kl", "bce_with_logits")
REPLACES = {"reparameterize": "tinygen.losses.vae:reparameterize", "elbo": "tinygen.losses.vae:elbo"}

SAMPLE = Hints(
    what="z differs from the reparameterized sample for the same draws of eps",
    direction="a sample of N(mu, sigma^2) is mu plus sigma times a sample of N(0, 1); sigma comes from logvar",
    step="logvar = log sigma^2, so sigma = exp(logvar / 2)",
    answer="mu + (0.5 * logvar).exp() * eps, eps = randn(mu.shape, generator=generator, dtype=mu.dtype, "
           "device=mu.device)",
)
VARIANCE = Hints(what="the noise is scaled by exp(logvar), the variance, where a sample needs the standard "
                      "deviation", direction=SAMPLE.direction, step=SAMPLE.step, answer=SAMPLE.answer)
GRADIENT = Hints(
    what="the gradient of z is wrong: z must depend on mu and logvar through tinygen operations (the noise is "
         "the only constant)",
    direction="dz/dmu = 1 and dz/dlogvar = (z - mu) / 2: write z with Tensor operations so the engine finds them",
    step="(0.5 * logvar).exp() * eps + mu, all Tensors",
    answer=SAMPLE.answer,
)
ANSWER = ("reconstruction = BCE-with-logits per pixel summed over each sample (or gaussian_nll, reduction='none'); "
          "kl = gaussian_kl(mu, logvar, reduction='none'); return ElboTerms(reduce(reconstruction + beta * kl, "
          "reduction), reduce(reconstruction, reduction), reduce(kl, reduction))")
TERMS = Hints(
    what="a term of the ELBO has wrong values",
    direction="per sample: the reconstruction is the negative log-likelihood of the whole image (a sum over its "
              "pixels) and the KL is summed over the latent dimensions; then each is reduced over the batch, and "
              "beta weights the KL",
    step="binary_cross_entropy_with_logits(..., reduction='none') is per pixel: reshape to (N, -1) and sum over "
         "dim 1",
    answer=ANSWER,
)
AVERAGED = Hints(what="the reconstruction term averages over each image's pixels; the log-likelihood of an image "
                      "is a sum over its pixels", direction=TERMS.direction, step=TERMS.step, answer=ANSWER)
BETA = Hints(what="beta weights the reconstruction term; it weights the KL term", direction=TERMS.direction,
             step="loss = reconstruction + beta * kl", answer=ANSWER)


def wrong_elbos(logits, target, mu, logvar, beta):
    """Known wrong losses: the reconstruction averaged over pixels, and beta on the wrong term (batch means)."""
    per_pixel = binary_cross_entropy_with_logits(logits, target, reduction="none").reshape(logits.shape[0], -1)
    kl = gaussian_kl(mu, logvar, reduction="none")
    return (per_pixel.mean(dim=1) + beta * kl).mean(), (beta * per_pixel.sum(dim=1) + kl).mean()


def _wrong_sample(mu, logvar, seed):
    eps = randn(tuple(mu.shape), generator=Generator(mu.device, seed), dtype=mu.dtype, device=mu.device)
    return mu + logvar.exp() * eps


def grade(student, reference):
    mu, logvar = random_tensor((4, 3), 1, low=-2.0, high=2.0), random_tensor((4, 3), 2, low=-3.0, high=1.0)
    case = "reparameterize(mu (4, 3), logvar (4, 3)) with a seeded generator"
    variance = expect(_wrong_sample, mu, logvar, 3)
    check_forward(case, lambda mu, logvar: student.reparameterize(mu, logvar, Generator(mu.device, 3)),
                  lambda mu, logvar: reference.reparameterize(mu, logvar, Generator(mu.device, 3)), [mu, logvar],
                  ["mu", "logvar"], SAMPLE, variants=[(variance, "the noise is scaled by exp(logvar)", VARIANCE)])
    check_gradients(case, lambda mu, logvar: student.reparameterize(mu, logvar, Generator(mu.device, 3)),
                    lambda mu, logvar: reference.reparameterize(mu, logvar, Generator(mu.device, 3)), [mu, logvar],
                    ["mu", "logvar"], {"mu": GRADIENT, "logvar": GRADIENT})

    logits, target = random_tensor((4, 2, 3), 4, low=-3.0, high=3.0), random_tensor((4, 2, 3), 5, low=0.0)
    names = ["decoder_output", "target", "mu", "logvar"]
    inputs = [logits, target, mu, logvar]
    settings = [dict(beta=1.0), dict(beta=4.0), dict(beta=1.0, reduction="sum"), dict(beta=2.0, reduction="none"),
                dict(likelihood="gaussian", sigma=0.5),
                dict(likelihood="gaussian", decoder_logvar=random_tensor((4, 1, 1), 6, requires_grad=False))]
    for options in settings:
        described = ", ".join(f"{key}={value!r}" if key != "decoder_logvar" else "decoder_logvar (4, 1, 1)"
                              for key, value in options.items())
        case = f"elbo(decoder_output (4, 2, 3), target, mu (4, 3), logvar (4, 3), {described})"
        averaged, misweighted = expect(wrong_elbos, logits, target, mu, logvar, options["beta"]) \
            if set(options) == {"beta"} else (None, None)
        variants = [(averaged, "the reconstruction is averaged over pixels", AVERAGED),
                    (misweighted, "beta weights the reconstruction", BETA)] if averaged is not None else []
        for position, term in enumerate(("loss", "reconstruction", "kl")):
            with_term = (lambda k, o: lambda implementation: lambda *xs: implementation(*xs, **o)[k])(position, options)
            check_forward(f"{case}: the {term}", with_term(student.elbo), with_term(reference.elbo), inputs, names,
                          TERMS, variants=variants if term == "loss" else ())
        check_gradients(f"{case}: the loss's gradient", (lambda o: lambda *xs: student.elbo(*xs, **o).loss)(options),
                        (lambda o: lambda *xs: reference.elbo(*xs, **o).loss)(options), inputs, names,
                        {name: TERMS for name in names})
