"""Numerical pitfalls: saturating activations, log of a probability, pow's domain, huge logits, and gradient checks
that confuse a kink with a bug (or run in a precision where finite differences mean nothing)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.autograd import AnomalyError
from tinygen.testing import GradcheckError, gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import host

F = tinygen.nn.functional
FLOATS = [tinygen.float32, tinygen.float64]
# The math below overflows or divides by zero on purpose in places; NumPy's warnings about it are expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _values_and_gradient(fn, values, dtype, upstream=None):
    x = tinygen.tensor(values, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.backward(tinygen.ones(y.shape, dtype=dtype) if upstream is None else upstream)
    return host(y), host(x.grad)


# --- probabilities and logs ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_on_probabilities_is_finite_at_p_0_and_1(dtype):
    """BCE(p, t) = -(t log p + (1 - t) log(1 - p)) is log(0) = -inf at a confidently wrong p, and its gradient
    (p - t) / (p (1 - p)) divides by zero: a discriminator that saturates once turns the loss into inf/NaN and
    training never recovers. As PyTorch, tinygen clamps each log at -100 and the denominator at 1e-12."""
    p = [0.0, 1.0, 0.0, 1.0, 0.5]
    t = tinygen.tensor([0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    loss, gradient = _values_and_gradient(lambda p: F.binary_cross_entropy(p, t, reduction="none"), p, dtype)
    np.testing.assert_allclose(loss, [0.0, 0.0, 100.0, 100.0, np.log(2.0)], rtol=1e-6)
    assert np.isfinite(gradient).all()
    assert gradient[2] < 0 < gradient[3]   # still pushes p away from the wrong end


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_of_sigmoid_underflows_so_logsigmoid_and_bce_with_logits_exist(dtype):
    """sigmoid(-1e4) rounds to 0, so log(sigmoid(x)) is -inf and its gradient 1/0 * 0 = NaN, although
    log sigmoid(x) = -softplus(-x) is a perfectly finite -1e4 with slope 1. The same rounding makes BCE on a
    sigmoid output lose its gradient exactly when the model is confidently wrong. That is why logsigmoid and
    binary_cross_entropy_with_logits exist: they never form the probability."""
    x = [-1e4, -50.0, 0.0, 50.0, 1e4]
    naive, naive_gradient = _values_and_gradient(lambda x: x.sigmoid().log(), x, dtype)
    assert naive[0] == -np.inf and np.isnan(naive_gradient[0])
    stable, stable_gradient = _values_and_gradient(F.logsigmoid, x, dtype)
    np.testing.assert_allclose(stable, [-1e4, -50.0, -np.log(2.0), 0.0, 0.0], rtol=1e-6, atol=1e-20)
    np.testing.assert_allclose(stable_gradient, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-20)

    ones = tinygen.ones(5, dtype=dtype)
    _, through_probability = _values_and_gradient(
        lambda x: F.binary_cross_entropy(x.sigmoid(), ones, reduction="none"), x, dtype)
    loss, on_logits = _values_and_gradient(
        lambda x: F.binary_cross_entropy_with_logits(x, ones, reduction="none"), x, dtype)
    assert through_probability[0] == 0.0              # confidently wrong, and no gradient to fix it
    np.testing.assert_allclose(on_logits, [-1.0, -1.0, -0.5, 0.0, 0.0], atol=1e-20)   # sigmoid(x) - t
    np.testing.assert_allclose(loss[0], 1e4, rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_tanh_exp_softplus_and_sigmoid_at_plus_and_minus_1e4(dtype):
    """At |x| = 1e4 every textbook formula meets inf: tanh as (e^x - e^-x)/(e^x + e^-x) is inf/inf = NaN,
    softplus as log(1 + e^x) is inf, sigmoid as 1/(1 + e^-x) is fine one way and 1/inf the other, and gradients
    written from those forms inherit the NaN. tinygen's forms are finite wherever the function is: only exp(1e4)
    itself, which no float can hold, is inf."""
    x = [-1e4, 1e4]
    cases = {
        "tanh": (tinygen.tanh, [-1.0, 1.0], [0.0, 0.0]),
        "sigmoid": (tinygen.sigmoid, [0.0, 1.0], [0.0, 0.0]),
        "softplus": (tinygen.softplus, [0.0, 1e4], [0.0, 1.0]),
        "elu": (tinygen.elu, [-1.0, 1e4], [0.0, 1.0]),
        "exp": (tinygen.exp, [0.0, np.inf], [0.0, np.inf]),
        "logsumexp": (lambda x: x.logsumexp(0) * tinygen.ones(2, dtype=dtype), [1e4, 1e4], [0.0, 2.0]),
    }
    for name, (fn, expected, expected_gradient) in cases.items():
        values, gradient = _values_and_gradient(fn, x, dtype)
        np.testing.assert_allclose(values, expected, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_of_huge_logits_is_finite(dtype):
    """softmax(x) with exp(x) unshifted overflows at x ~ 89 in float32 (inf / inf = NaN); log(softmax(x)) of a
    finite softmax still gives log(0) = -inf for the losing classes. log_softmax = x - logsumexp(x), shifted by
    the max, is finite, and so are cross-entropy and its gradient."""
    logits = [[1e4, 0.0, -1e4], [100.0, 100.0, 100.0]]
    values, gradient = _values_and_gradient(lambda x: x.log_softmax(1), logits, dtype)
    np.testing.assert_allclose(values, [[0.0, -1e4, -2e4], [-np.log(3.0)] * 3], rtol=1e-6)
    np.testing.assert_allclose(gradient, [[-2.0, 1.0, 1.0], [0.0, 0.0, 0.0]], atol=1e-6)
    naive, _ = _values_and_gradient(lambda x: x.softmax(1).log(), logits, dtype)
    assert naive[0, 2] == -np.inf
    target = tinygen.tensor([2, 0])
    loss, loss_gradient = _values_and_gradient(lambda x: F.cross_entropy(x, target), logits, dtype)
    np.testing.assert_allclose(loss, (2e4 + np.log(3.0)) / 2, rtol=1e-6)
    assert np.isfinite(loss_gradient).all()


# --- pow's domain ------------------------------------------------------------------------------------------

def test_pow_with_negative_bases_is_nan_only_where_the_real_power_is_undefined():
    """(-2) ** 3 = -8 with slope 12, but engines that compute a ** b as exp(b log a) (for every exponent, or for
    float ones like 3.0) get NaN. Non-integer powers of negative numbers are undefined in the reals: NaN is the
    right answer there. And the slope of a ** 0 = 1 is 0 even at a = 0, where b * a ** (b - 1) reads 0 * inf."""
    base = [-2.0, -0.5, 0.0, 2.0]
    for exponent in (3, 3.0, 2, -1, tinygen.tensor(3.0, dtype=tinygen.float64)):
        values, gradient = _values_and_gradient(lambda a: a ** exponent, base, tinygen.float64)
        e = float(exponent)
        with np.errstate(divide="ignore"):
            np.testing.assert_allclose(values, np.power(base, e), err_msg=str(exponent))
            np.testing.assert_allclose(gradient, e * np.power(base, e - 1), err_msg=str(exponent))
    values, _ = _values_and_gradient(lambda a: a ** 0.5, base, tinygen.float64)
    assert np.isnan(values[:2]).all() and not np.isnan(values[2:]).any()

    a = tinygen.tensor([0.0, 0.0, 2.0], dtype=tinygen.float64, requires_grad=True)
    b = tinygen.tensor([0.0, 2.0, 0.0], dtype=tinygen.float64, requires_grad=True)
    (a ** b).sum().backward()
    assert host(a.grad).tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(host(b.grad), [0.0, 0.0, np.log(2.0)])


def test_anomaly_mode_names_the_pow_that_made_a_nan():
    """A NaN found in the loss ten ops later says nothing about where it came from. Anomaly mode stops at the op
    that produced it, forward or backward, and names the op and the line."""
    x = tinygen.tensor([-2.0, 4.0], requires_grad=True)
    with tinygen.detect_anomaly():
        with pytest.raises(AnomalyError, match=r"PowConstant produced NaN in its forward .*test_numerics\.py:\d+"):
            x ** 0.5
        y = tinygen.tensor([0.0, 4.0], requires_grad=True) ** 0.5    # finite forward, infinite slope at 0
        with pytest.raises(AnomalyError, match=r"PowConstant produced Inf in its backward .*test_numerics\.py:\d+"):
            y.sum().backward()


# --- gradient checks at kinks and in low precision ----------------------------------------------------------

KINKED = {  # fn, its kinks
    "relu": (tinygen.relu, (0.0,)),
    "abs": (tinygen.abs, (0.0,)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), (0.0,)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), (-0.5, 0.5)),
    "hinge": (lambda x: (1.0 - x).relu() + (1.0 + x).relu(), (-1.0, 1.0)),
}


@pytest.mark.parametrize("name", KINKED)
@given(data=st.data())
def test_strategies_keep_inputs_off_kinks_so_gradcheck_checks_the_gradient(name, data):
    """Random inputs land within eps of a kink now and then, and the central difference there averages two
    slopes: a flaky gradient test, 'fixed' by loosening tolerances until it checks nothing. The strategies take
    the kinks (``away_from``) and keep every value at least ``margin`` from each."""
    fn, kinks = KINKED[name]
    margin = 0.05
    x = data.draw(tst.tensors(tst.shapes(min_dims=1, max_dims=2), low=-1.5, high=1.5, requires_grad=True,
                              away_from=kinks, margin=margin))
    distances = np.abs(host(x)[..., None] - np.array(kinks))
    assert distances.min() >= margin - 1e-12
    gradcheck(fn, [x])


@pytest.mark.parametrize("kinks, margin", [((0.0, 0.12), 0.05), ((0.0, 0.01, 0.02), 0.1), ((-0.5, 0.5), 0.3)])
def test_away_from_keeps_clear_of_every_kink_even_when_kinks_are_close(kinks, margin):
    """Pushing a value away from one kink, then from the next, can push it back onto the first (kinks a few
    margins apart, as clamp(0, 0.12) has): values near 0 went to 0.1, then back to 0.0 for the kink at 0.12.
    Every value must end at least ``margin`` from every kink."""
    values = tinygen.linspace(-1.5, 1.5, 3001, dtype=tinygen.float64)
    moved = tinygen.Tensor._make(tst.move_off_kinks(values.backend.xp, values.array, kinks, margin), values.backend)
    distances = np.abs(host(moved)[:, None] - np.array(kinks))
    assert distances.min() >= margin - 1e-12


@pytest.mark.parametrize("fn, values", [
    (tinygen.relu, [0.0, 1.0]),                                   # relu at 0
    (tinygen.relu, [3e-7, 1.0]),                                  # within eps of the kink
    (lambda x: x.amax(0), [1.0, 1.0, 1.0]),                       # a three-way tie in max
    (lambda x: x.max(0).values, [2.0, 2.0]),                      # max(dim) gives the tie to one index
    (lambda x: x.clamp(0.0, 1.0), [1.0, 0.5]),                    # at a clamp bound
], ids=["relu-at-0", "relu-near-0", "amax-tie", "max-dim-tie", "clamp-bound"])
def test_gradcheck_explains_a_failure_at_a_kink_instead_of_reporting_a_gradient_bug(fn, values):
    """At a kink the analytic gradient picks one side (or splits ties) while the central difference averages
    both: gradcheck fails there for a correct op. A bare 'gradient mismatch' sends people hunting a bug that does
    not exist; tinygen's message gives the one-sided slopes and says the input sits on a kink."""
    x = tinygen.tensor(values, dtype=tinygen.float64, requires_grad=True)
    explained = r"one-sided slopes there differ \(left .*, right .*\).*non-differentiable"
    with pytest.raises(GradcheckError, match=explained):
        gradcheck(fn, [x])


def test_a_real_gradient_bug_away_from_kinks_is_not_blamed_on_a_kink():
    """The kink note must not excuse a wrong backward: where the function is smooth, the one-sided slopes agree
    and the message is a plain mismatch."""
    class WrongSquare(tinygen.Function):
        save_inputs = True

        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.saved_inputs
            return g * x      # should be 2 x

    x = tinygen.tensor([0.5, 1.5], dtype=tinygen.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="gradient mismatch") as failure:
        gradcheck(lambda x: WrongSquare()(x), [x])
    assert "one-sided" not in str(failure.value)


@pytest.mark.parametrize("dtype", [tinygen.float32, tinygen.float16])
@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_gradcheck_refuses_low_precision(check, dtype):
    """In float32 a finite difference with eps = 1e-6 has a rounding error of ~1e-7 / 1e-6 = 10%: a check there
    passes wrong gradients or fails right ones. gradcheck and gradgradcheck refuse, and say to use float64."""
    x = tinygen.tensor([0.3, 0.7], dtype=dtype, requires_grad=True)
    with pytest.raises(GradcheckError, match=f"dtype {dtype}; finite differences are meaningless .* float64"):
        check(tinygen.tanh, [x])
