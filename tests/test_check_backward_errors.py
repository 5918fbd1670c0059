"""Bad input to check_backward, and forward/backward functions that misbehave: each a clear one-line error that
names what went wrong, never a traceback through the checker. Mixing libraries is tested with the strict backend's
arrays standing in for CuPy's."""
import inspect
import traceback

import numpy as np
import pytest

import tinygen
from tinygen.backend import get_backend
from tinygen.testing import GradcheckError, check_backward
from tinygen.testing import homework as hw

strict = get_backend("strict")


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def failure(forward, backward, inputs, **options):
    with pytest.raises(GradcheckError) as caught:
        check_backward(forward, backward, inputs, **options)
    message = str(caught.value)
    assert "\n" not in message, "bad input gets a one-line error"
    return message


def affine_forward(x, w, b):
    """Written with operators and methods only, so it runs on NumPy, CuPy and the strict stand-in alike."""
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


# --- a forward or backward that raises: the user's file and line -------------------------------------------------

def forward_that_raises(x, w, b):
    out = x @ w.T + b  # the bug: w.T
    return out, (x, w)


def backward_that_raises(dout, cache):
    x, w = cache
    return dout @ w, x.T @ dout, dout.sum(axis=0)  # the bug: w, not w.T


def _line_of(function, text):
    lines, first = inspect.getsourcelines(function)
    return first + next(number for number, line in enumerate(lines) if text in line)


def test_a_forward_that_raises_is_reported_with_the_users_file_and_line():
    message = failure(forward_that_raises, affine_backward, [normal(4, 3), normal(3, 5), normal(5)])
    assert message.startswith("check_backward: forward raised ValueError: matmul: ")
    line = _line_of(forward_that_raises, "out = x @ w.T + b")
    assert f"(at {__file__}:{line}, in forward_that_raises: out = x @ w.T + b  # the bug: w.T)" in message


def test_a_backward_that_raises_is_reported_with_the_users_file_and_line():
    message = failure(affine_forward, backward_that_raises, [normal(4, 3), normal(3, 5), normal(5)])
    assert message.startswith("check_backward: backward raised ValueError: ")
    line = _line_of(backward_that_raises, "return dout @ w, x.T")
    assert f"(at {__file__}:{line}, in backward_that_raises: " in message


def test_an_error_raised_inside_a_library_is_placed_at_the_users_line_that_called_it():
    def forward(x):
        return np.concatenate([x, x[None]]), None  # numpy raises inside its own code

    message = failure(forward, lambda dout, cache: dout, [normal(3)])
    assert "check_backward: forward raised ValueError: " in message
    assert f"(at {__file__}:{_line_of(forward, 'np.concatenate')}, in forward: " in message


def test_the_error_carries_no_traceback_through_the_checker():
    with pytest.raises(GradcheckError) as caught:
        check_backward(forward_that_raises, affine_backward, [normal(4, 3), normal(3, 5), normal(5)])
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert [frame.name for frame in frames] == ["test_the_error_carries_no_traceback_through_the_checker",
                                                "check_backward"]


# --- what forward returns ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("returned, expected", [
    (None, "check_backward: forward returned None as its output (a missing return statement?); expected an array"),
    ([1.0, 2.0], "check_backward: forward returned a list as its output; expected an array"),
    ("out", "check_backward: forward returned a str as its output; expected an array"),
    ((1, 2, 3), "check_backward: forward returned a tuple of 3 values; expected out or (out, cache)"),
    (np.arange(3), "check_backward: forward returned an array of dtype int64; only a floating-point output has a "
                   "gradient"),
])
def test_a_forward_that_returns_no_array_is_named(returned, expected):
    assert failure(lambda x: returned, lambda dout, cache: dout, [normal(3)]) == expected


def test_a_forward_that_computes_in_float32_is_refused():
    message = failure(lambda x: x.astype(np.float32), lambda dout: dout, [normal(3)])
    assert message.startswith("check_backward: forward returned float32 for float64 inputs: somewhere it computes in "
                              "low precision")


def test_a_forward_that_returns_nan_says_where():
    x = np.array([1.0, -1.0, 2.0])
    with np.errstate(invalid="ignore"):
        message = failure(lambda x: np.sqrt(x), lambda dout: dout, [x])
    assert message == "check_backward: forward returned nan at index (1,) of its output (shape (3,))"


def test_a_random_forward_is_refused():
    def dropout_forward(x):
        mask = np.random.default_rng().random(x.shape) > 0.5  # the bug for a check: no fixed seed
        return x * mask, mask

    message = failure(dropout_forward, lambda dout, mask: dout * mask, [normal(50)])
    assert message.startswith("check_backward: forward gave a different output when called again with the same "
                              "inputs (largest difference ")
    assert "fix its randomness (a seeded generator, or a dropout mask passed in as an input)" in message


# --- what backward returns -----------------------------------------------------------------------------------------

def test_a_backward_that_returns_none_is_named():
    message = failure(hw.tanh_forward, lambda dout, cache: None, [normal(3)])
    assert message == ("check_backward: backward returned None (a missing return statement?); expected one gradient "
                       "per input")


def test_a_backward_that_returns_a_list_for_a_gradient_is_named():
    message = failure(hw.tanh_forward, lambda dout, cache: (list(dout),), [normal(3)])
    assert message == "check_backward: backward returned a list for input 0 'x'; expected an array of its shape (3,)"


def test_a_gradient_of_another_shape_is_named_with_both_shapes():
    message = failure(hw.tanh_forward, lambda dout, cache: dout[:2], [normal(3)])
    assert message.startswith("check_backward: backward returned a gradient of shape (2,) for input 0 'x' of "
                              "shape (3,)")


def test_a_gradient_with_nan_says_where():
    def backward(dout, cache):
        dx = hw.tanh_backward(dout, cache)
        dx[1] = np.nan
        return dx

    assert failure(hw.tanh_forward, backward, [normal(3)]) == ("check_backward: backward returned nan at index (1,) "
                                                                 "of the gradient for input 0 'x'")


def test_one_gradient_too_many_is_named():
    message = failure(hw.tanh_forward, lambda dout, cache: (dout, dout), [normal(3)])
    assert message == ("check_backward: backward returned 2 gradients for 1 input (input 0 'x'): return one per "
                       "input, in the order of forward's parameters")


def test_a_gradient_for_an_input_that_is_not_a_float_array_is_refused():
    message = failure(hw.softmax_loss, lambda dout, dx: (dout * dx, dout), [normal(3, 4), np.array([0, 1, 2])])
    assert message == ("check_backward: backward returned a numpy.ndarray for input 1 'y', which is an array of "
                       "dtype int64 and has no gradient: if it holds values to differentiate, pass it as float64 "
                       "(x.astype(numpy.float64)); if it holds labels or indices, return None for it")
    message = failure(hw.leaky_relu_forward, lambda dout, cache: (dout, dout), [normal(3), 0.1])
    assert message == ("check_backward: backward returned a numpy.ndarray for input 1 'negative_slope', which is a "
                       "float, not a floating-point array: return None for it")


def test_none_for_every_input_leaves_nothing_to_check():
    message = failure(hw.tanh_forward, lambda dout, cache: (None,), [normal(3)])
    assert message == "check_backward: backward returned None for every input, so there is nothing to check"


# --- the inputs ----------------------------------------------------------------------------------------------------

def test_a_tensor_input_is_sent_to_gradcheck():
    x = tinygen.tensor(normal(3), dtype=tinygen.float64)
    message = failure(hw.tanh_forward, hw.tanh_backward, [x])
    assert message == ("check_backward: input 0 'x' is a tinygen Tensor; check_backward checks code written with "
                       "plain arrays: pass x.numpy() (or check code made of tinygen ops with gradcheck)")


def test_no_array_among_the_inputs_is_named():
    message = failure(hw.tanh_forward, hw.tanh_backward, [[0.5, 1.0]])
    assert message == ("check_backward: no input is a floating-point array (input 0 'x': a list), so there is nothing "
                       "to check; pass float64 NumPy (or CuPy) arrays")


def test_an_input_with_nan_is_refused():
    message = failure(hw.tanh_forward, hw.tanh_backward, [np.array([1.0, np.nan])])
    assert message == "check_backward: input 0 'x' holds nan at index (1,): finite differences need finite inputs"


def test_names_of_the_wrong_length_are_refused():
    message = failure(hw.tanh_forward, hw.tanh_backward, [normal(3)], names=["x", "y"])
    assert message == "check_backward: names has 2 entries for 1 input: give one name per input"


def test_a_dout_of_the_wrong_shape_is_refused():
    message = failure(hw.tanh_forward, hw.tanh_backward, [normal(3)], dout=np.ones(4))
    assert message == ("check_backward: dout has shape (4,) and dtype float64; expected the output's shape (3,) and "
                       "float64")


# --- NumPy and CuPy arrays mixed (the strict stand-in plays CuPy) ---------------------------------------------------

def test_strict_arrays_are_checked_with_their_own_array_module():
    x, w, b = (strict.asarray(normal(*shape, seed=seed)) for seed, shape in enumerate([(4, 3), (3, 5), (5,)]))
    assert check_backward(affine_forward, affine_backward, [x, w, b])

    def tanh_forward(x):
        out = strict.xp.tanh(x)
        return out, out

    assert check_backward(tanh_forward, hw.tanh_backward, [x])


def test_a_wrong_gradient_on_strict_arrays_is_caught_and_diagnosed():
    def backward(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw, dout

    x, w, b = (strict.asarray(normal(*shape, seed=seed)) for seed, shape in enumerate([(4, 3), (3, 5), (5,)]))
    message = failure(affine_forward, backward, [x, w, b])
    assert "for input 2 'b' of shape (5,): it was not summed over axis 0" in message


def test_inputs_that_mix_numpy_and_device_arrays_are_refused():
    message = failure(affine_forward, affine_backward, [strict.asarray(normal(4, 3)), normal(3, 5), normal(5)])
    assert message == ("check_backward: the inputs mix array libraries: input 0 'x' is a strict array (tinygen's CuPy "
                       "stand-in), input 1 'w' is a numpy.ndarray; put all of them on one device (cupy.asarray(x), or "
                       "x.get() for the host)")


def test_integer_labels_on_another_device_are_refused_too():
    message = failure(hw.softmax_loss, lambda dout, dx: dout * dx, [normal(3, 4), strict.asarray(np.array([0, 1, 2]))])
    assert "the inputs mix array libraries: input 0 'x' is a numpy.ndarray, input 1 'y' is a strict array" in message


def test_a_forward_that_returns_a_numpy_array_for_device_inputs_is_refused():
    message = failure(lambda x: x.get() * 2.0, lambda dout: dout * 2.0, [strict.asarray(normal(3))])
    assert message == ("check_backward: forward returned a numpy.ndarray, but its inputs are on another device; "
                       "compute with the inputs' array module")


def test_a_backward_that_returns_a_numpy_array_for_device_inputs_is_refused():
    message = failure(lambda x: x * 2.0, lambda dout: dout.get() * 2.0, [strict.asarray(normal(3))])
    assert message == ("check_backward: backward returned a numpy.ndarray for input 0 'x', which is a strict array "
                       "(tinygen's CuPy stand-in): compute gradients with the inputs' array module")


def test_a_numpy_dout_for_device_inputs_is_refused():
    message = failure(lambda x: x * 2.0, lambda dout: dout * 2.0, [strict.asarray(normal(3))], dout=np.ones(3))
    assert message == "check_backward: dout is a numpy.ndarray; expected an array like the output, on its device"


def test_a_backward_returning_one_array_for_three_inputs_names_both_missing_ones():
    message = failure(affine_forward, lambda dout, cache: dout @ cache[1].T, [normal(4, 3), normal(3, 5), normal(5)])
    assert message == ("check_backward: backward returned 1 gradient, but forward has 3 inputs: the gradients for "
                       "input 1 'w' and input 2 'b' are missing; return one per input, in the order of forward's "
                       "parameters (None for an input it does not differentiate)")


def test_integer_labels_changed_by_forward_are_reported_too():
    def forward(x, y):
        loss, dx = hw.softmax_loss(x, y)
        y[0] = 3  # the bug
        return loss, dx

    message = failure(forward, lambda dout, dx: dout * dx, [normal(3, 4), np.array([0, 1, 2])])
    assert message.startswith("check_backward: forward modified input 1 'y' in place: 1 of 3 entries changed, the "
                              "first at index (0,) (0 -> 3)")


def test_a_backward_with_the_wrong_signature_is_told_how_it_is_called():
    message = failure(hw.tanh_forward, lambda dout: dout, [normal(3)])
    assert message.startswith("check_backward: backward raised TypeError: ")
    assert message.endswith("takes 1 positional argument but 2 were given (when called as backward(dout, cache), as "
                            "forward returned (out, cache))")
    message = failure(np.tanh, lambda dout, cache: dout, [normal(3)])
    assert message.endswith("(when called as backward(dout), as forward returned no cache)")


def _square(x):
    return x * x, x


def _square_backward(dout, x):
    return 2 * dout * x


def test_a_float32_scalar_output_is_low_precision_not_a_kink():
    """A NumPy float32 scalar was taken as float64 and the check failed with a note about kinks."""
    with pytest.raises(GradcheckError, match="forward returned float32 for float64 inputs"):
        check_backward(lambda x: ((x.astype(np.float32) ** 2).sum(), x), lambda d, x: 2 * d * x, [normal(4)])


def test_numpy_scalars_pass_along_and_ndarray_subclasses_are_arrays(tmp_path):
    """A NumPy scalar setting is an argument like any other (it was an AttributeError); a memmap is an array."""
    for scale in (np.float64(2.0), np.int64(2)):
        assert check_backward(lambda x, s: (x * s, (x, s)), lambda d, c: (d * c[1], None), [normal(3), scale])
    mapped = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="w+", shape=(3,))
    mapped[:] = [1.0, -2.0, 0.5]
    assert check_backward(_square, _square_backward, [mapped])


def test_a_complex_gradient_is_refused_not_cut_to_its_real_part():
    with pytest.raises(GradcheckError, match=r"backward returned an array of dtype complex128 for input 0 'x'"):
        check_backward(_square, lambda d, x: 2 * d * x + 5j, [normal(3)])


@pytest.mark.parametrize("setting", [dict(eps=0), dict(eps=-1e-6), dict(atol=-1), dict(rtol=float("inf"))])
def test_settings_out_of_range_are_refused_by_name(setting):
    (argument, value), = setting.items()
    with pytest.raises(GradcheckError, match=rf"^check_backward: {argument} must be a .* finite number"):
        check_backward(_square, _square_backward, [normal(3)], **setting)


def _padded_double(x, settings):
    """Forward of a layer that changes its settings dict: only a copy may see that."""
    out = np.concatenate([x, np.zeros(settings["pad"])]) * 2
    settings["pad"] = 0
    return out, (settings,)


def test_each_call_gets_its_own_copy_of_a_settings_argument():
    """A forward that wrote into its settings dict changed every later call: a raw NumPy broadcasting error."""
    def backward(dout, cache):
        return 2 * dout[:3], None

    assert check_backward(_padded_double, backward, [normal(3), {"pad": 2}])


def test_a_forward_whose_output_shape_changes_between_calls_is_named():
    calls = []

    def growing(x):
        calls.append(1)
        return np.resize(x, x.size + len(calls))

    with pytest.raises(GradcheckError, match=r"forward gave an output of shape \(4,\), then \(5,\) when called again"):
        check_backward(growing, lambda dout: dout[:3], [normal(3)])


def test_a_float32_step_is_taken_in_float64():
    """eps=np.float32(1e-6) kept x + eps in float32 (NumPy 2) and failed correct code by 5%."""
    assert check_backward(_square, _square_backward, [normal(4)], eps=np.float32(1e-6))


@pytest.mark.parametrize("inputs, options, message", [
    (lambda: [np.asmatrix(normal(2, 2))], {}, r"input 0 'x' is a numpy.matrix, whose \* is a matrix product"),
    (lambda: [normal(3)], dict(seed="a"), "seed must be a non-negative integer, got 'a'"),
])
def test_a_matrix_input_and_a_bad_seed_are_refused(inputs, options, message):
    with pytest.raises(GradcheckError, match=message):
        check_backward(_square, _square_backward, inputs(), **options)


def test_sys_exit_in_a_backward_is_reported_not_obeyed():
    import sys

    with pytest.raises(GradcheckError, match="backward raised SystemExit"):
        check_backward(_square, lambda dout, x: sys.exit(0), [normal(3)])
