"""Small helpers shared by the tests (tests may use NumPy; tinygen's op code may not)."""
import numpy as np

import tinygen


def host(tensor):
    """A tensor's values as a NumPy array (works on every device)."""
    return tensor.detach().numpy()


def random_tensor(shape, seed=0, low=-2.0, high=2.0, dtype=tinygen.float64, requires_grad=True):
    """Uniform values in [low, high) on the default device, float64 by default (for gradient checks)."""
    values = np.random.default_rng(seed).uniform(low, high, size=shape)
    return tinygen.tensor(values, dtype=dtype, requires_grad=requires_grad)


def check_values_and_gradients(function, reference, x, rtol=None):
    """``function(x)`` against ``reference`` on x's values (exactly, or ``np.allclose`` within ``rtol``), then
    ``gradcheck`` and ``gradgradcheck`` of ``function`` at ``x``: float64 finite differences with a random upstream
    gradient, first and second order."""
    from tinygen.testing import gradcheck, gradgradcheck

    values, expected = host(function(x)), reference(host(x))
    assert np.array_equal(values, expected) if rtol is None else np.allclose(values, expected, rtol=rtol)
    gradcheck(function, [x])
    gradgradcheck(function, [x])


def assert_close(actual, expected, rtol=1e-7, atol=1e-10):
    actual = host(actual) if isinstance(actual, tinygen.Tensor) else np.asarray(actual)
    expected = host(expected) if isinstance(expected, tinygen.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
