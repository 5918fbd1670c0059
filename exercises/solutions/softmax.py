"""Exercise softmax: softmax and log-softmax, stable forwards and their backwards, and cross-entropy.
Read: docs/derivations/activations.md"""
from tinygen.exercises.given import LogSoftmaxBase, SoftmaxBase
from tinygen.losses.arguments import check_reduction, reduce


class Softmax(SoftmaxBase):
    """y = exp(x) / sum(exp(x)) along ``self.dim``: each slice becomes a probability vector.

    ``forward(x)``: raw arrays (``xp = self.backend.xp``). Computed as written, exp(1000) overflows: the grader
    tries logits of +-1000 in float32 and float64. Subtracting any constant from a slice does not change its
    softmax: choose one that keeps every exp finite. ``save_output = True``: ``self.saved_output`` is y.
    ``backward(g)``: dL/dx with tensor ops. Derive dy_i/dx_j (it involves y_i, y_j and whether i == j), then
    the sum over i of g_i dy_i/dx_j; it simplifies to a short expression in y and g.
    """

    def forward(self, x):
        # solution: begin
        xp = self.backend.xp
        exponentials = xp.exp(x - x.max(axis=self.dim, keepdims=True))
        return exponentials / exponentials.sum(axis=self.dim, keepdims=True)
        # solution: end

    def backward(self, g):
        # solution: begin
        y = self.saved_output
        return y * (g - (g * y).sum(dim=self.dim, keepdim=True))
        # solution: end


class LogSoftmax(LogSoftmaxBase):
    """y = log softmax(x) along ``self.dim`` = x - log sum exp(x): exact for any logits, also where softmax
    underflows to 0 and its log would be -inf.

    ``forward(x)``: raw arrays; no exp may overflow and no log may see 0. ``self.saved_output`` is y.
    ``backward(g)``: dL/dx with tensor ops (exp(y) is the softmax). Check: adding one constant to a whole slice
    of x changes nothing, so dL/dx sums to zero along ``self.dim``, for any g.
    """

    def forward(self, x):
        # solution: begin
        xp = self.backend.xp
        shifted = x - x.max(axis=self.dim, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        # solution: end

    def backward(self, g):
        # solution: begin
        y = self.saved_output
        return g - y.exp() * g.sum(dim=self.dim, keepdim=True)
        # solution: end


def cross_entropy(input, target, reduction="mean"):
    """The loss of a classifier: -log softmax(input)[n, target[n]] per sample n, then reduced over the batch.

    input: logits (N, C); target: class indices (N,) (an integer Tensor). reduction: "mean", "sum" or "none"
    (``reduce(per_sample, reduction)`` is imported). Use your LogSoftmax (over the class dimension, 1) and pick
    each sample's target entry: ``t.gather(1, target.unsqueeze(1))`` picks t[n, target[n]] as an (N, 1) Tensor.
    """
    check_reduction("cross_entropy", reduction)
    # solution: begin
    log_probabilities = LogSoftmax(1)(input)
    picked = log_probabilities.gather(1, target.unsqueeze(1)).squeeze(1)
    return reduce(-picked, reduction)
    # solution: end
