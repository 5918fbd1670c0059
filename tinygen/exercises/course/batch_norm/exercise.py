"""batch_norm: the training-mode backward of batch normalization."""
from tinygen.exercises.grading import Hints, check_op_backward, expect, random_tensor, sums_to_zero, upstream_for

SUMMARY = "training-mode backward of batch norm"
READING = "docs/derivations/batch-norm.md"
AFTER = ("sum", "mul")
REPLACES = {"BatchNormTraining": "tinygen.ops.normalization:BatchNormTraining"}
WRITES = {"BatchNormTraining": ("backward",)}
EPS = 1e-5

ANSWER_X = ("gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)), the means per channel over N, H, W; "
            "xhat and invstd recomputed from x with tensor ops")
HINTS = {
    "x": Hints(
        what="dL/dx has wrong values (it does sum to zero over each channel, so the mean term is there)",
        direction="mean and var depend on every x of the channel: dL/dx_i has a term through xhat_i, one through "
                  "the mean and one through the variance",
        step="with d = dL/dxhat = g * gamma: dL/dvar = sum(d * (x - mean)) * (-1/2) (var + eps)^(-3/2), "
             "dL/dmean = -sum(d) * invstd, and dL/dx_i = d_i invstd + dL/dvar * 2 (x_i - mean) / M + dL/dmean / M",
        answer=ANSWER_X,
    ),
    "gamma": Hints(
        what="dL/dgamma has wrong values",
        direction="gamma[c] multiplies xhat at every position of channel c",
        step="so dL/dgamma[c] adds up g * xhat over the channel's N * H * W positions",
        answer="(g * xhat).sum(dim=axes) with axes = (0, 2, 3) (or (0,) for (N, C))",
    ),
    "beta": Hints(
        what="dL/dbeta has wrong values",
        direction="beta[c] is added at every position of channel c",
        step="so dL/dbeta[c] adds up g over the channel's positions",
        answer="g.sum(dim=axes) with axes = (0, 2, 3) (or (0,) for (N, C))",
    ),
}
SUMS_TO_ZERO = Hints(
    what="dL/dx does not sum to zero over each channel, as it must: a term through the channel's mean is missing "
         "or wrong",
    direction="shifting every x of a channel by one constant leaves y unchanged (the mean absorbs it), so the "
              "gradient summed over a channel vanishes for any g",
    step="each x_i moves the mean by 1/M, and the mean enters every xhat_j with -invstd: that gives the term "
         "-invstd * mean(dL/dxhat) for every i",
    answer=ANSWER_X,
)
UNBIASED = Hints(
    what="the variance in your backward is normalized by 1/(M - 1), but the forward's is normalized by 1/M "
         "(M = N * H * W values per channel)",
    direction="use the same variance as the forward: the mean of the squared deviations over the channel",
    step="((x - mean) ** 2).mean(dim=axes, keepdim=True), or x.var(dim=axes, unbiased=False, keepdim=True)",
    answer=ANSWER_X,
)
FIXED_EPS = Hints(
    what=f"your backward uses eps = {EPS:g} whatever the layer's eps is",
    direction="the layer's eps is self.eps: BatchNorm2d(eps=1e-3) has another than the default",
    step="(var + self.eps) ** -0.5, the same as the forward's",
    answer=ANSWER_X,
)
#: (input shape, with gamma, with beta, second order, eps)
CASES = [((6, 3), True, True, True, EPS), ((3, 2, 2, 3), True, True, False, 1e-3), ((5, 2, 3), False, True, True, 0.1),
         ((4, 2), False, False, False, EPS)]


def closed_form_gradient(x, gamma, upstream, eps=EPS, unbiased=True):
    """dL/dx of batch norm when the backward (wrongly) uses the variance normalized by 1/(M - 1) (``unbiased``), or
    the variance of the forward with ``eps``."""
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.numel() // x.shape[1]
    centered = x - x.mean(dim=axes, keepdim=True)
    invstd = ((centered * centered).sum(dim=axes, keepdim=True) / (count - 1 if unbiased else count) + eps) ** -0.5
    xhat = centered * invstd
    scale = invstd * gamma.reshape((1, -1) + (1,) * (x.ndim - 2)) if gamma is not None else invstd
    return scale * (upstream - upstream.mean(dim=axes, keepdim=True)
                    - xhat * (upstream * xhat).mean(dim=axes, keepdim=True))


def grade(student, reference):
    for seed, (shape, has_weight, has_bias, second_order, eps) in enumerate(CASES):
        x = random_tensor(shape, 10 * seed, low=-2.0, high=2.0)
        affine = [random_tensor((shape[1],), 10 * seed + k, low=0.5, high=1.5) for k in (1, 2)]
        operands = [x] + [a for a, used in zip(affine, (has_weight, has_bias)) if used]
        names = ["x"] + [n for n, used in (("gamma", has_weight), ("beta", has_bias)) if used]
        case = f"batch norm of x {tuple(shape)}" + "".join(f" with {name}" for name in names[1:]) + f", eps={eps:g}"

        def mine(*operands):
            return student.BatchNormTraining(eps, has_weight, has_bias)(*operands)

        def theirs(*operands):
            return reference.BatchNormTraining(eps, has_weight, has_bias)(*operands)

        upstream, gamma = upstream_for(x, seed), affine[0] if has_weight else None
        note = ("it matches batch norm whose variance is normalized by 1/(M - 1), the unbiased estimate, but the "
                "forward normalizes by 1/M (M = N * H * W values per channel)")
        known = [(expect(closed_form_gradient, x, gamma, upstream, eps), note, UNBIASED)]
        if eps != EPS:
            known.append((expect(closed_form_gradient, x, gamma, upstream, EPS, False),
                          f"it matches batch norm with eps = {EPS:g}, but this layer's eps is {eps:g}", FIXED_EPS))
        symptom = sums_to_zero((0,) + tuple(range(2, x.ndim)), "dL/dx does not sum to zero over each channel",
                               SUMS_TO_ZERO, "sums to zero")
        check_op_backward(case, mine, theirs, operands, names, HINTS, seed=seed, second_order=second_order,
                          variants={"x": known}, symptoms={"x": symptom})
