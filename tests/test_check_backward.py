"""check_backward on plain-NumPy homework: every correct reference pair passes, and every planted bug fails with
the right diagnosis. The checker must be able to fail: each planted bug below asserts that it does, and what its
message says. Inputs are fixed arrays (no hypothesis draws), so every verdict is the same on every run."""
import numpy as np
import pytest

from tinygen.testing import GradcheckError, check_backward
from tinygen.testing import homework as hw

rng = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def fixed_inputs():
    """Each test draws the same inputs whatever ran before it (in this process or another)."""
    global rng
    rng = np.random.default_rng(1234)


def normal(*shape):
    return rng.standard_normal(shape)


def away_from_zero(*shape):
    """Values with |v| in [0.2, 2): no relu kink within reach of eps."""
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def reference_cases():
    """(name, forward, backward, inputs) for each correct pair."""
    return [
        ("affine", hw.affine_forward, hw.affine_backward, [normal(4, 2, 3), normal(6, 5), normal(5)]),
        ("relu", hw.relu_forward, hw.relu_backward, [away_from_zero(4, 5)]),
        ("leaky relu", hw.leaky_relu_forward, hw.leaky_relu_backward, [away_from_zero(4, 5), 0.1]),
        ("sigmoid", hw.sigmoid_forward, hw.sigmoid_backward, [normal(4, 5)]),
        ("tanh", hw.tanh_forward, hw.tanh_backward, [normal(4, 5)]),
        ("softmax + cross-entropy", hw.softmax_loss, lambda dout, dx: (dout * dx,),
         [normal(5, 4), rng.integers(0, 4, 5)]),
        ("batch norm, train mode", hw.batchnorm_forward, hw.batchnorm_backward, [normal(6, 4), normal(4), normal(4)]),
        ("naive conv2d", hw.conv_forward_naive, hw.conv_backward_naive,
         [normal(2, 2, 4, 4), normal(3, 2, 3, 3), normal(3), CONV]),
        ("max pool", hw.max_pool_forward_naive, hw.max_pool_backward_naive, [normal(2, 3, 4, 4), POOL]),
        ("dropout, fixed mask", hw.dropout_forward, hw.dropout_backward, [normal(4, 5), 0.3, 7]),
        ("VAE reparameterization", hw.reparameterize_forward, hw.reparameterize_backward,
         [normal(4, 3), normal(4, 3), normal(4, 3)]),
    ]


#: what a reference pair declares: the reparameterization's noise is a sample, a constant without a gradient
OPTIONS = {"VAE reparameterization": {"constants": ["noise"]}}


CASES = reference_cases()


@pytest.mark.parametrize("name, forward, backward, inputs", CASES, ids=[case[0] for case in CASES])
def test_a_correct_reference_pair_passes(name, forward, backward, inputs):
    before = [x.copy() if isinstance(x, np.ndarray) else x for x in inputs]
    assert check_backward(forward, backward, inputs, **OPTIONS.get(name, {})) is True
    for x, original in zip(inputs, before):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, original), "check_backward must leave the caller's inputs alone"


def failure(forward, backward, inputs, **options):
    """The message check_backward fails with (and a test failure if it passes)."""
    with pytest.raises(GradcheckError) as caught:
        check_backward(forward, backward, inputs, **options)
    return str(caught.value)


def affine_inputs(n=4, d=3, m=5):
    return [normal(n, d), normal(d, m), normal(m)]


# --- the planted bugs of the issue, each with its diagnosis ----------------------------------------------------

def test_a_bias_gradient_without_the_sum_over_the_batch_is_caught_as_unsummed_broadcast_axes():
    def backward(dout, cache):
        dx, dw, _ = hw.affine_backward(dout, cache)
        return dx, dw, dout

    message = failure(hw.affine_forward, backward, affine_inputs())
    assert message.startswith("check_backward: backward returned a gradient of shape (4, 5) for input 2 'b' of "
                              "shape (5,)")
    assert "it was not summed over axis 0, which broadcasting added or stretched" in message
    assert "e.g. .sum(axis=0); with that fix it matches the numeric gradient" in message


def test_a_transposed_weight_gradient_is_caught_by_its_shape():
    def backward(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        return dx, dw.T, db

    message = failure(hw.affine_forward, backward, affine_inputs())
    assert ("a gradient of shape (5, 3) for input 1 'w' of shape (3, 5): it has the transposed shape: transpose it "
            "(.T)") in message
    assert "with that fix it matches the numeric gradient" in message


def test_a_transposed_square_weight_gradient_is_caught_by_its_values():
    def backward(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        return dx, dw.T, db

    message = failure(hw.affine_forward, backward, affine_inputs(4, 3, 3))
    assert "gradient mismatch for input 1 'w' (shape (3, 3))" in message
    assert ("likely cause: the gradient is transposed: it equals the numeric one with its last two axes "
            "swapped") in message


def test_a_factor_of_two_is_named():
    def backward(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        return 2 * dx, dw, db

    message = failure(hw.affine_forward, backward, affine_inputs(n=3, d=3, m=3))
    assert "gradient mismatch for input 0 'x' (shape (3, 3))" in message
    assert ("likely cause: the analytic gradient is 2 times the numeric one everywhere: off by a constant factor "
            "of 2") in message


def test_a_factor_of_n_names_the_batch_axis():
    """Softmax loss averages over the batch: a backward that forgets the 1/N is N times too large."""
    message = failure(hw.softmax_loss, lambda dout, dx: dout * dx * 5, [normal(5, 4), rng.integers(0, 4, 5)])
    assert "the analytic gradient is 5 times the numeric one everywhere: off by a constant factor of 5" in message
    assert ("(5 is the size of axis 0 of input 0 'x': a mean over that axis where a sum belongs, or the "
            "reverse?)") in message


def test_a_factor_of_one_over_n_is_named():
    message = failure(hw.softmax_loss, lambda dout, dx: dout * dx / 5, [normal(5, 4), rng.integers(0, 4, 5)])
    assert ("the analytic gradient is 1/5 of the numeric one everywhere: off by a constant factor of 1/5 (5 is the "
            "size") in message


def batchnorm_backward_without_mean_term(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    g = dout * gamma
    dx = inv_std / n * (n * g - x_hat * (g * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_without_variance_term(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    g = dout * gamma
    dx = inv_std / n * (n * g - g.sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batchnorm_inputs():
    return [normal(6, 4), normal(4), normal(4)]


def test_batch_norm_without_its_mean_term_is_caught_as_an_error_constant_along_the_batch():
    message = failure(hw.batchnorm_forward, batchnorm_backward_without_mean_term, batchnorm_inputs())
    assert "gradient mismatch for input 0 'x' (shape (6, 4))" in message
    assert ("likely cause: the error (analytic - numeric) is the same all along axis 0 (size 6): a term that sums or "
            "averages over that axis is missing or wrong (batch norm's gradient through the mean?)") in message


def test_batch_norm_without_its_variance_term_is_caught_as_an_error_proportional_to_the_centered_input():
    message = failure(hw.batchnorm_forward, batchnorm_backward_without_variance_term, batchnorm_inputs())
    assert "gradient mismatch for input 0 'x' (shape (6, 4))" in message
    assert ("likely cause: the error (analytic - numeric) is proportional, along axis 0 (size 6), to the centered "
            "input x - x.mean(axis=0): a term through the variance over that axis is missing or wrong") in message


def test_batch_norm_without_both_terms_is_caught_too():
    def backward(dout, cache):
        x_hat, gamma, inv_std = cache
        return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)

    message = failure(hw.batchnorm_forward, backward, batchnorm_inputs())
    assert ("the error (analytic - numeric) is a constant plus a multiple of the centered input along axis 0 (size 6): "
            "the terms through both the mean and the variance") in message


def test_batch_norm_bugs_are_invisible_to_an_all_ones_upstream_gradient_but_not_to_the_default():
    """Why dout is random: with dout = 1 the variance term is exactly zero, so the buggy backward passes."""
    inputs = batchnorm_inputs()
    dout = np.ones((6, 4))
    check_backward(hw.batchnorm_forward, batchnorm_backward_without_variance_term, inputs, dout=dout)
    failure(hw.batchnorm_forward, batchnorm_backward_without_variance_term, inputs)


def test_a_flipped_conv_weight_gradient_is_named():
    def backward(dout, cache):
        dx, dw, db = hw.conv_backward_naive(dout, cache)
        return dx, dw[:, :, ::-1, ::-1], db

    message = failure(hw.conv_forward_naive, backward, [normal(2, 2, 4, 4), normal(3, 2, 3, 3), normal(3), CONV])
    assert "gradient mismatch for input 1 'w' (shape (3, 2, 3, 3))" in message
    assert ("likely cause: the gradient is flipped along axes (2, 3): it equals the numeric one reversed "
            "there") in message


def test_an_input_mutated_in_forward_is_reported_before_any_comparison():
    def relu_forward(x):
        x[x < 0] = 0.0  # the bug: writes into the caller's array
        return x.copy(), x.copy()

    x = away_from_zero(3, 4)
    negatives = int((x < 0).sum())
    message = failure(relu_forward, hw.relu_backward, [x])
    assert message.startswith(f"check_backward: forward modified input 0 'x' in place: {negatives} of 12 entries "
                              "changed")
    assert (x < 0).sum() == negatives, "the check runs forward on copies: the caller's array is untouched"


def test_an_input_mutated_in_backward_is_reported():
    def relu_backward(dout, cache):
        x = cache
        x[x < 0] = 0.0  # the bug: x is the forward's input, kept in the cache
        return dout * (x > 0)

    message = failure(hw.relu_forward, relu_backward, [away_from_zero(3, 4)])
    assert message.startswith("check_backward: backward modified input 0 'x' in place (through the cache):")


def test_dout_mutated_in_backward_is_reported_with_the_usual_cause():
    def relu_backward(dout, cache):
        dx = dout
        dx[cache <= 0] = 0.0
        return dx

    message = failure(hw.relu_forward, relu_backward, [away_from_zero(3, 4)])
    assert message.startswith("check_backward: backward modified dout in place (dx = dout then dx[...] = ... writes "
                              "into dout: start from a copy, dout.copy())")


def test_float32_inputs_are_refused_with_how_to_convert():
    message = failure(hw.relu_forward, hw.relu_backward, [away_from_zero(3, 4).astype(np.float32)])
    assert message == ("check_backward: input 0 'x' has dtype float32; finite differences are meaningless below "
                       "float64 (float32 rounding ~1e-7 / eps 1e-6 = errors of order 0.1): convert it with "
                       ".astype(numpy.float64)")


def test_a_backward_returning_one_gradient_too_few_names_the_missing_input():
    def backward(dout, cache):
        dx, dw, _ = hw.affine_backward(dout, cache)
        return dx, dw

    message = failure(hw.affine_forward, backward, affine_inputs())
    assert message == ("check_backward: backward returned 2 gradients, but forward has 3 inputs: the gradient for "
                       "input 2 'b' is missing; return one per input, in the order of forward's parameters (None for "
                       "an input it does not differentiate)")


# --- more likely causes -----------------------------------------------------------------------------------------

def test_gradients_returned_in_another_order_are_noticed_by_their_shapes():
    def backward(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        return dw, dx, db

    message = failure(hw.affine_forward, backward, affine_inputs())
    assert ("a gradient of shape (3, 5) for input 0 'x' of shape (4, 3): it has the shape of input 1 'w': are the "
            "gradients returned in the order of forward's parameters?") in message


def test_a_gradient_in_another_shape_with_the_right_entries_is_told_to_reshape():
    def backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)  # dx left as (N, D)

    message = failure(hw.affine_forward, backward, [normal(2, 3, 2), normal(6, 4), normal(4)])
    assert ("a gradient of shape (2, 6) for input 0 'x' of shape (2, 3, 2): it has the right number of entries in "
            "another shape: reshape it, .reshape((2, 3, 2)); with that fix it matches the numeric gradient") in message


def test_a_stub_that_returns_zeros_is_named():
    message = failure(hw.tanh_forward, lambda dout, cache: np.zeros_like(dout), [normal(3, 4)])
    assert "likely cause: the analytic gradient is zero everywhere: is backward still a stub" in message


def test_a_wrong_sign_is_named():
    message = failure(hw.tanh_forward, lambda dout, cache: -hw.tanh_backward(dout, cache), [normal(3, 4)])
    assert ("likely cause: the analytic gradient has the wrong sign everywhere: it is -1 times the numeric "
            "one") in message


def test_an_unexplained_error_gets_no_invented_cause():
    def backward(dout, cache):
        return hw.tanh_backward(dout, cache) + np.random.default_rng(0).uniform(0.5, 1.0, dout.shape)

    message = failure(hw.tanh_forward, backward, [normal(3, 4)])
    assert "gradient mismatch for input 0 'x' (shape (3, 4))" in message
    assert "likely cause" not in message and "note:" not in message


def test_a_kink_is_flagged_as_possibly_not_a_bug():
    message = failure(hw.relu_forward, hw.relu_backward, [np.array([0.0, 1.0, -1.5])])
    assert "gradient mismatch for input 0 'x' (shape (3,)) at index (0,)" in message
    assert "1 of 3 entries are off" in message
    assert "note: the one-sided slopes there differ" in message and "non-differentiable at this input" in message


def test_a_failure_report_gives_values_tolerance_and_count():
    def backward(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        dw = dw.copy()
        dw[1, 2] += 1.0
        return dx, dw, db

    message = failure(hw.affine_forward, backward, affine_inputs())
    lines = message.split("\n")
    assert lines[0] == "check_backward: gradient mismatch for input 1 'w' (shape (3, 5)) at index (1, 2):"
    assert lines[1].startswith("  analytic ") and ", numeric " in lines[1]
    assert "> tolerance " in lines[1] and "(atol 1e-05 + rtol 0.001 * |numeric|)" in lines[1]
    assert lines[2] == "  1 of 15 entries are off; largest |difference| overall 1"


def test_every_failing_input_is_listed():
    def backward(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        return dx * 3, dw, db * 3

    message = failure(hw.affine_forward, backward, affine_inputs())
    assert "gradient mismatch for input 0 'x'" in message
    assert message.endswith("the gradients for input 2 'b' are off too")


def test_tolerances_are_the_ones_given():
    def backward(dout, cache):
        return hw.tanh_backward(dout, cache) * 1.01

    inputs = [normal(3, 4)]
    failure(hw.tanh_forward, backward, inputs)
    assert check_backward(hw.tanh_forward, backward, inputs, rtol=0.02)


# --- options ------------------------------------------------------------------------------------------------------

def unnamed_affine_forward(*arrays):
    return hw.affine_forward(*arrays)


def affine_backward_without_db(dout, cache):
    return hw.affine_backward(dout, cache)[:2]


def test_names_replace_the_signature_names():
    message = failure(unnamed_affine_forward, affine_backward_without_db, affine_inputs(),
                      names=["inputs", "weights", "bias"])
    assert "the gradient for input 2 'bias' is missing" in message


def test_a_function_without_parameter_names_gets_positions():
    message = failure(unnamed_affine_forward, affine_backward_without_db, affine_inputs())
    assert "the gradient for input 2 is missing" in message


def test_a_given_dout_is_used():
    x = normal(3)
    seen = []

    def backward(dout, cache):
        seen.append(dout.copy())
        return hw.tanh_backward(dout, cache)

    dout = np.array([1.0, -2.0, 3.0])
    check_backward(hw.tanh_forward, backward, [x], dout=dout)
    assert np.array_equal(seen[0], dout)


def test_the_default_dout_is_random_but_seeded_not_ones_and_not_small():
    seen = []

    def backward(dout, cache):
        seen.append(dout.copy())
        return hw.tanh_backward(dout, cache)

    x, douts = normal(50), []
    for options in ({}, {}, {"seed": 1}):
        seen.clear()
        check_backward(hw.tanh_forward, backward, [x], **options)
        douts.append(seen[0])
        assert all(np.array_equal(dout, seen[0]) for dout in seen)  # the same dout for every layout
    seen = douts
    assert np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[0], seen[2])
    assert (np.abs(seen[0]) >= 0.5).all() and (np.abs(seen[0]) < 1.5).all()
    assert (seen[0] > 0).any() and (seen[0] < 0).any()


def test_a_backward_without_cache_gets_dout_only():
    """When forward returns no cache, backward is called as backward(dout)."""
    x = normal(3)
    check_backward(lambda x: np.sin(x), lambda dout: (dout * np.cos(x),), [x])


def test_a_single_array_may_be_passed_without_a_list():
    check_backward(hw.tanh_forward, hw.tanh_backward, normal(2, 3))


def test_a_scalar_output_works():
    x = normal(4)
    check_backward(lambda x: float((x ** 2).sum()), lambda dout: 2 * dout * x, [x])


def test_none_skips_an_input_it_does_not_differentiate():
    seen = []

    def backward(dout, cache):
        seen.append(1)
        return hw.reparameterize_backward(dout, cache)

    check_backward(hw.reparameterize_forward, backward, [normal(2), normal(2), normal(2)], constants=["noise"])
    assert seen  # ran, and the None for the noise was accepted
    check_backward(hw.reparameterize_forward, backward, [normal(2), normal(2), normal(2)], constants=[2])


def test_hypothesis_strategies_draw_arrays_check_backward_can_check():
    from hypothesis import given, settings
    from tinygen.testing import strategies as tst

    @settings(max_examples=5, deadline=None)
    @given(tst.arrays(tst.shapes(min_dims=1, max_dims=3), away_from=(0.0,)))
    def check_relu(x):
        assert type(x) is np.ndarray and x.dtype == np.float64
        check_backward(hw.relu_forward, hw.relu_backward, [x])

    check_relu()


# --- what a probe of the checker found it passed or reported badly (stop 28) ----------------------------------

def test_an_unfinished_none_fails_but_a_declared_constant_or_an_unused_input_passes():
    """The course template's ``dx, dw, db = None, None, None`` with db never filled in passed: a None was taken as
    "not differentiated" even for an input the output depends on."""
    def affine_backward_without_db(dout, cache):
        dx, dw, db = hw.affine_backward(dout, cache)
        return dx, dw, None

    message = failure(hw.affine_forward, affine_backward_without_db, affine_inputs())
    assert message.startswith("check_backward: backward returned None for input 2 'b', but forward depends on it "
                              "(numeric gradient ")
    assert message.endswith("return its gradient, or, if it takes none (a noise sample, a mask), list it in "
                            "constants=['b']")
    assert check_backward(hw.affine_forward, affine_backward_without_db, affine_inputs(), constants=["b"])
    assert check_backward(lambda x, unused: 2 * x, lambda dout: (2 * dout, None), [normal(3), normal(2)])
    with pytest.raises(GradcheckError, match=r"constants names 'bias', which is not one of forward's inputs "
                                             r"\(names: 'x', 'w', 'b'; or positions 0 to 2\)"):
        check_backward(hw.affine_forward, hw.affine_backward, affine_inputs(), constants=["bias"])
    with pytest.raises(GradcheckError, match=r"constants names input 1 'y', which is a numpy.ndarray"):
        check_backward(hw.softmax_loss, lambda dout, dx: (dout * dx,), [normal(3, 4), np.array([0, 1, 2])],
                       constants=["y"])


def _square_forward(x):
    return x * x, x


def test_a_backward_right_only_on_contiguous_arrays_fails_on_the_strided_layout():
    """``zeros_like`` keeps a transposed input's layout, and writing through ``reshape(-1)`` of such an array goes
    into a copy: the gradient stays zero. The copies the checker made were always C-contiguous, so it passed."""
    def backward_writing_through_a_reshape(dout, x):
        dx = np.zeros_like(x)
        dx.reshape(-1)[:] = (2 * x * dout).reshape(-1)
        return dx

    message = failure(_square_forward, backward_writing_through_a_reshape, [normal(3, 4)])
    assert message.startswith("check_backward: on inputs that are not contiguous in memory (views such as x.T or "
                              "x[:, ::2], given here), backward's gradient for input 0 'x' is wrong (on contiguous "
                              "copies it is right):\n  analytic 0, numeric ")
    assert message.endswith("zeros_like(x) keeps x's layout, and reshape of such an array makes a copy, so writing "
                            "into the reshaped array is lost")
    assert check_backward(_square_forward, lambda dout, x: 2 * x * dout, [np.asfortranarray(normal(3, 4))])


def test_a_forward_wrong_only_on_a_strided_layout_fails():
    def forward_writing_through_a_reshape(x):
        out = np.zeros_like(x)
        out.reshape(-1)[:] = (x * x).reshape(-1)
        return out, x

    message = failure(forward_writing_through_a_reshape, lambda dout, x: 2 * x * dout, [normal(4, 2)])
    assert message.startswith("check_backward: forward gives another output on inputs that are not contiguous in "
                              "memory (views such as x.T or x[:, ::2], given here): largest difference ")


def test_gradients_smaller_than_atol_are_compared_relative_to_their_size():
    """atol alone passed any gradient below it: a wrong sign or a stub of zeros on a loss scaled by 1e-6."""
    x = normal(3, 4)
    message = failure(lambda x: 1e-6 * x, lambda dout: -1e-6 * dout, [x])
    assert "the gradient is small (largest entry " in message and "compared relative to its own size" in message
    assert "likely cause: the analytic gradient has the wrong sign everywhere" in message
    message = failure(lambda x: 1e-6 * (x ** 2).sum(), lambda dout: 0 * x, [x])
    assert "likely cause: the analytic gradient is zero everywhere" in message
    assert check_backward(lambda x: 1e-6 * (x ** 2).sum(), lambda dout: dout * 2e-6 * x, [x])
    # a gradient that is zero, measured as rounding noise, still passes: here and where large terms cancel (the
    # sum of a standardized array is 0 whatever x, and its finite differences are pure rounding, ~1e-11)
    assert check_backward(lambda x: 3 * (np.sin(x) ** 2 + np.cos(x) ** 2), lambda dout: 0 * dout, [x])
    standardized_sum = lambda x: ((x - x.mean(axis=0)) / x.std(axis=0)).sum()  # noqa: E731
    assert check_backward(standardized_sum, lambda dout: 0 * x, [x], dout=np.array(0.7))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # sqrt of a negative number, on purpose
def test_nan_at_a_moved_point_says_which_move_made_it():
    x = np.array([4.0, 1e-7, 2.0])
    message = failure(lambda x: np.sqrt(x), lambda dout: dout / (2 * np.sqrt(x)), [x])  # np.sqrt's own
    # parameter name is x on NumPy 2 and unknown on 1.24: a function of our own names it the same everywhere
    assert message == ("check_backward: forward returned nan at index (1,) of its output (shape (3,)) when input 0 "
                       "'x' at index (1,) was moved by eps from 1e-07 to -9e-07: is the function defined that close "
                       "(sqrt or log near 0)? Move the input further from the edge, or pass a smaller eps")


def test_gradients_for_the_float_inputs_only_are_told_where_the_nones_go():
    """An embedding's backward returns dW alone for (indices, W): it was reported as W's gradient missing."""
    def embedding_forward(x, W):
        return W[x], (x, W)

    def embedding_backward(dout, cache):
        x, W = cache
        dW = np.zeros_like(W)
        np.add.at(dW, x, dout)
        return dW

    message = failure(embedding_forward, embedding_backward, [np.array([0, 2, 2, 4]), normal(5, 3)])
    assert message == ("check_backward: backward returned 1 gradient, one per floating-point input, but gradients go "
                       "one per input, in the order of forward's parameters, with None for an input that takes none: "
                       "return (None, dW)")
    assert check_backward(embedding_forward, lambda dout, cache: (None, embedding_backward(dout, cache)),
                          [np.array([0, 2, 2, 4]), normal(5, 3)])


def test_a_forward_that_reads_its_input_from_a_closure_is_named():
    params, X = {"W": normal(3, 2)}, normal(4, 3)

    def loss(W):  # reads params["W"], not W: the finite differences move a copy nobody reads
        return (X @ params["W"]) ** 2

    message = failure(loss, lambda dout: X.T @ (dout * 2 * (X @ params["W"])), [params["W"].copy()])
    assert message.endswith("likely cause: the numeric gradient is zero everywhere: forward's output does not move "
                            "when this input does. Does forward read it from somewhere else (a global, or a dict a "
                            "closure holds) instead of its argument? The finite differences move the argument")


def test_a_step_lost_to_rounding_is_named_not_blamed_on_a_kink():
    """At |x| ~ 1e9 a step of 1e-6 is a few float64 spacings: correct code failed, and the note said 'kink'."""
    x = normal(4) * 1e9
    message = failure(lambda x: 3.0 * x, lambda dout: 3.0 * dout, [x])
    assert "float64 spacings, so the finite differences there are mostly rounding: pass a larger eps" in message
    assert "kink" not in message
    assert check_backward(lambda x: 3.0 * x, lambda dout: 3.0 * dout, [x], eps=1e3)
