"""The likely causes a failed check reports: each is named exactly when the numbers show it, and not otherwise
(a checker that invents a cause misleads as much as one that misses it). Plain host arrays, no randomness left to
chance: every array comes from a fixed seed."""
import numpy as np

from tinygen.testing import diagnosis

ATOL, RTOL = 1e-5, 1e-3
rng = np.random.default_rng(7)
NUMERIC = rng.standard_normal((4, 3))
X = rng.standard_normal((4, 3))


def value_cause(analytic, numeric=NUMERIC, x=X, sizes=()):
    return diagnosis.value_cause(analytic, numeric, x, ATOL, RTOL, sizes)


# --- wrong shapes -------------------------------------------------------------------------------------------------

def test_unsummed_leading_axes_are_named_and_the_fix_is_verified():
    numeric = rng.standard_normal(3)
    gradient = np.tile(numeric / 4, (4, 1))
    cause = diagnosis.shape_cause(gradient, (3,), numeric, ATOL, RTOL)
    assert cause == ("it was not summed over axis 0, which broadcasting added or stretched: sum it there, e.g. "
                     ".sum(axis=0); with that fix it matches the numeric gradient")


def test_unsummed_stretched_axes_suggest_keepdims():
    numeric = rng.standard_normal((1, 3, 1, 1))
    gradient = np.broadcast_to(numeric / 8, (2, 3, 2, 2)).copy()
    cause = diagnosis.shape_cause(gradient, (1, 3, 1, 1), numeric, ATOL, RTOL)
    assert cause.startswith("it was not summed over axes (0, 2, 3), which broadcasting added or stretched: sum it "
                            "there, e.g. .sum(axis=(0, 2, 3), keepdims=True); with that fix it matches")


def test_unsummed_added_and_stretched_axes_suggest_a_reshape():
    numeric = rng.standard_normal((3, 1))
    gradient = np.broadcast_to(numeric / 10, (2, 3, 5)).copy()
    cause = diagnosis.shape_cause(gradient, (3, 1), numeric, ATOL, RTOL)
    assert "it was not summed over axes (0, 2)" in cause and "e.g. .sum(axis=(0, 2)).reshape((3, 1))" in cause
    assert cause.endswith("with that fix it matches the numeric gradient")


def test_a_suggested_fix_that_does_not_match_is_said_so():
    numeric = rng.standard_normal(3)
    gradient = rng.standard_normal((4, 3))
    cause = diagnosis.shape_cause(gradient, (3,), numeric, ATOL, RTOL)
    assert cause.endswith("(even so it would not match the numeric gradient)")


def test_a_transposed_shape_is_named():
    numeric = rng.standard_normal((2, 3))
    assert diagnosis.shape_cause(numeric.T.copy(), (2, 3), numeric, ATOL, RTOL) == (
        "it has the transposed shape: transpose it (.T); with that fix it matches the numeric gradient")


def test_the_shape_of_another_input_is_named_when_no_fix_works():
    numeric = rng.standard_normal((2, 3))
    cause = diagnosis.shape_cause(rng.standard_normal((5, 7)), (2, 3), numeric, ATOL, RTOL, "input 1 'w'")
    assert cause == ("it has the shape of input 1 'w': are the gradients returned in the order of forward's "
                     "parameters?")


def test_an_unrelated_shape_has_no_cause():
    numeric = rng.standard_normal((2, 3))
    assert diagnosis.shape_cause(rng.standard_normal((5, 7)), (2, 3), numeric, ATOL, RTOL) is None


def test_shapes_that_are_not_a_broadcast_are_not_called_unsummed():
    numeric = rng.standard_normal(3)
    cause = diagnosis.shape_cause(rng.standard_normal((4, 2)), (3,), numeric, ATOL, RTOL)
    assert cause is None


# --- wrong values -------------------------------------------------------------------------------------------------

def test_zero_everywhere_is_a_stub():
    assert value_cause(np.zeros_like(NUMERIC)).startswith("the analytic gradient is zero everywhere")


def test_a_whole_factor_is_named():
    assert value_cause(3 * NUMERIC) == ("the analytic gradient is 3 times the numeric one everywhere: off by a "
                                        "constant factor of 3")


def test_a_negative_whole_factor_is_named():
    assert value_cause(-2 * NUMERIC).startswith("the analytic gradient is -2 times the numeric one everywhere")


def test_a_fractional_factor_is_named_as_one_over_n_with_the_axis_of_that_size():
    sizes = [("axis 1 of input 0 'x'", 3), ("axis 0 of input 0 'x'", 4)]
    assert value_cause(NUMERIC / 4, sizes=sizes) == (
        "the analytic gradient is 1/4 of the numeric one everywhere: off by a constant factor of 1/4 (4 is the size "
        "of axis 0 of input 0 'x': a mean over that axis where a sum belongs, or the reverse?)")


def test_a_factor_of_two_without_an_axis_of_size_two_suggests_a_square():
    assert value_cause(2 * NUMERIC).endswith("(the 2 of a square's derivative, d(x^2)/dx = 2x, counted twice or "
                                             "left out?)")


def test_an_odd_factor_is_given_as_a_number():
    assert value_cause(1.37 * NUMERIC) == ("the analytic gradient is 1.37 times the numeric one everywhere: off by a "
                                           "constant factor")


def test_the_wrong_sign_is_named():
    assert value_cause(-NUMERIC).startswith("the analytic gradient has the wrong sign everywhere")


def test_a_factor_that_holds_only_in_part_is_not_claimed():
    analytic = 2 * NUMERIC
    analytic[0, 0] = NUMERIC[0, 0]
    assert value_cause(analytic) is None


def test_a_transposed_square_gradient_is_named():
    numeric = rng.standard_normal((3, 3))
    assert value_cause(numeric.T.copy(), numeric, rng.standard_normal((3, 3))).startswith(
        "the gradient is transposed")


def test_a_flip_along_one_axis_is_named_with_that_axis():
    assert value_cause(NUMERIC[::-1].copy()).startswith("the gradient is flipped along axis 0:")


def test_a_flip_along_two_axes_is_named_with_both():
    numeric = rng.standard_normal((2, 2, 3, 3))
    assert value_cause(numeric[:, :, ::-1, ::-1].copy(), numeric, numeric).startswith(
        "the gradient is flipped along axes (2, 3):")


def test_an_error_constant_along_an_axis_is_a_missing_mean_term():
    analytic = NUMERIC + rng.standard_normal((1, 3))
    assert value_cause(analytic).startswith("the error (analytic - numeric) is the same all along axis 0 (size 4)")


def test_an_error_proportional_to_the_centered_input_is_a_missing_variance_term():
    centered = X - X.mean(axis=0)
    analytic = NUMERIC + centered * rng.standard_normal((1, 3))
    assert value_cause(analytic).startswith("the error (analytic - numeric) is proportional, along axis 0 (size 4), "
                                            "to the centered input x - x.mean(axis=0)")


def test_an_error_of_both_kinds_is_named_as_both():
    centered = X - X.mean(axis=0)
    analytic = NUMERIC + rng.standard_normal((1, 3)) + centered * rng.standard_normal((1, 3))
    assert value_cause(analytic).startswith("the error (analytic - numeric) is a constant plus a multiple of the "
                                            "centered input along axis 0 (size 4)")


def test_an_axis_too_short_to_tell_is_skipped():
    """Along an axis of size 2 any error is a constant plus a multiple of the centered input: say nothing."""
    numeric, x = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    assert value_cause(numeric + rng.standard_normal((2, 2)), numeric, x) is None


def test_a_random_error_has_no_cause():
    assert value_cause(NUMERIC + rng.standard_normal((4, 3))) is None
