"""numerical_gradient: the finite differences themselves, for users who want the numbers (and the basis of every
check). Exact test functions with known gradients; the inputs are never modified."""
import numpy as np
import pytest

from tinygen.backend import get_backend
from tinygen.testing import GradcheckError, numerical_gradient
from tinygen.testing import homework as hw

x0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def test_the_gradient_of_a_scalar_function():
    gradient = numerical_gradient(lambda x: (x ** 3).sum(), x0)
    np.testing.assert_allclose(gradient, 3 * x0 ** 2, rtol=1e-7)


def test_dout_defaults_to_ones_and_a_given_dout_weights_the_outputs():
    dout = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    np.testing.assert_allclose(numerical_gradient(np.sin, x0), np.cos(x0), rtol=1e-7)
    np.testing.assert_allclose(numerical_gradient(np.sin, x0, dout=dout), dout * np.cos(x0), rtol=1e-6, atol=1e-9)


def test_one_gradient_per_input_with_none_for_what_is_not_a_float_array():
    x, w, b = x0, np.arange(6.0).reshape(3, 2), np.array([0.5, -0.5])
    dout = np.array([[1.0, -1.0], [2.0, 0.5]])
    dx, dw, db, setting = numerical_gradient(lambda x, w, b, scale: scale * (x @ w + b), [x, w, b, 3], dout=dout)
    np.testing.assert_allclose(dx, 3 * dout @ w.T, rtol=1e-7)
    np.testing.assert_allclose(dw, 3 * x.T @ dout, rtol=1e-7)
    np.testing.assert_allclose(db, 3 * dout.sum(axis=0), rtol=1e-7)
    assert setting is None


def test_a_forward_returning_out_and_cache_is_accepted():
    x, w, b = x0, np.ones((3, 2)), np.zeros(2)
    dx, dw, db = numerical_gradient(hw.affine_forward, [x, w, b])
    np.testing.assert_allclose(dx, np.ones((2, 2)) @ w.T, rtol=1e-7)


def test_the_inputs_are_not_modified():
    x = x0.copy()
    numerical_gradient(lambda x: (x * x).sum(), x)
    assert np.array_equal(x, x0)


def test_arrays_of_a_device_give_gradients_on_that_device():
    strict = get_backend("strict")
    gradient = numerical_gradient(lambda x: (x * x).sum(), strict.asarray(x0))
    assert strict.is_array(gradient)
    np.testing.assert_allclose(strict.to_numpy(gradient), 2 * x0, rtol=1e-7)


def test_float32_inputs_are_refused():
    with pytest.raises(GradcheckError, match=r"numerical_gradient: input 0 'x' has dtype float32; finite "):
        numerical_gradient(lambda x: x.sum(), x0.astype(np.float32))


def test_an_exception_in_f_names_the_users_line():
    def f(x):
        return x @ x  # (2, 3) @ (2, 3)

    with pytest.raises(GradcheckError, match=r"numerical_gradient: f raised ValueError: .* "
                                             r"\(at .*test_numerical_gradient.py:\d+, in f: return x @ x"):
        numerical_gradient(f, x0)


def test_a_dout_of_the_wrong_shape_is_refused():
    with pytest.raises(GradcheckError, match=r"numerical_gradient: dout has shape \(3,\) and dtype float64; "
                                             r"expected the output's shape \(2, 3\)"):
        numerical_gradient(np.sin, x0, dout=np.ones(3))


def test_a_float32_scalar_output_and_a_zero_step_are_refused():
    """np.float32((x * x).sum()) gave [1.967, 1.967] for the gradient [2, 2], silently."""
    with pytest.raises(GradcheckError, match="f returned float32 for float64 inputs"):
        numerical_gradient(lambda x: np.float32((x * x).sum()), [np.ones(2)])
    with pytest.raises(GradcheckError, match="eps must be a positive finite number, got 0"):
        numerical_gradient(lambda x: (x * x).sum(), [np.ones(2)], eps=0)
