"""Spectral normalization: W / sigma(W) by power iteration. Gradients first (finite differences, first and second
order), then sigma against a direct SVD, the power iteration's bookkeeping, PyTorch's values and state names."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn.utils.spectral_norm import divide_by_sigma, weight_matrix
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor

LAYERS = {
    "Linear": (lambda: nn.Linear(6, 4, dtype=tinygen.float64), (3, 6)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, stride=2, dtype=tinygen.float64), (2, 2, 5, 5)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, dtype=tinygen.float64), (2, 3, 3, 3)),
}


def _matrix(weight, dim):
    return np.moveaxis(host(weight), dim, 0).reshape(weight.shape[dim], -1)


# --- gradients -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dim, shape", [(0, (4, 3)), (0, (3, 2, 2, 2)), (1, (2, 3, 2, 2))])
def test_divide_by_sigma_gradients(dim, shape):
    """d(W / u^T W v)/dW = (G - <G, W_sn> u v^T) / sigma, checked by finite differences, and its derivative."""
    weight = random_tensor(shape, seed=1)
    rows, cols = weight_matrix(weight, dim).shape
    u, v = random_tensor((rows,), seed=2, requires_grad=False), random_tensor((cols,), seed=3, requires_grad=False)
    gradcheck(lambda w: divide_by_sigma(w, u, v, dim), [weight])
    gradgradcheck(lambda w: divide_by_sigma(w, u, v, dim), [weight])


@pytest.mark.parametrize("kind", LAYERS)
def test_gradients_through_a_normalized_layer(kind):
    """In evaluation mode u and v stay put, so the layer is a fixed function of its input and of weight_orig: both
    gradients (and the input's second derivative, which a gradient penalty takes) match finite differences."""
    make, shape = LAYERS[kind]
    layer = nn.utils.spectral_norm(make()).eval()
    x = tinygen.randn(*shape, dtype=tinygen.float64, requires_grad=True)
    gradcheck(layer, [x])
    gradgradcheck(layer, [x])
    weight = layer.weight_orig

    def through_weight(w):
        with tinygen.no_grad():
            weight.copy_(w)
        return layer(x)

    upstream = tinygen.randn(*layer(x).shape, dtype=tinygen.float64)
    (analytic,) = tinygen.grad(layer(x), [weight], upstream)
    values, eps = host(weight).copy(), 1e-6
    numeric = np.zeros_like(values)
    for index in np.ndindex(values.shape):
        for sign in (1, -1):
            shifted = values.copy()
            shifted[index] += sign * eps
            numeric[index] += sign * float((host(through_weight(tinygen.tensor(shifted))) * host(upstream)).sum())
    numeric /= 2 * eps
    np.testing.assert_allclose(host(analytic), numeric, rtol=1e-5, atol=1e-7)


# --- sigma and the power iteration -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", LAYERS)
def test_sigma_converges_to_the_largest_singular_value(kind):
    """After enough training-mode forwards, u^T W v is the top singular value of W (NumPy's SVD) and the layer's
    weight has spectral norm 1; dim 1 (output units of a transposed convolution) is the matrix's rows."""
    make, shape = LAYERS[kind]
    tinygen.manual_seed(0)
    layer = make()
    dim = 1 if kind == "ConvTranspose2d" else 0
    singular_values = np.linalg.svd(_matrix(layer.weight, dim), compute_uv=False)
    nn.utils.spectral_norm(layer)
    # the power iteration's error shrinks by (sigma_2 / sigma_1)^2 a step: enough steps for ~1e-12 from a random start
    steps = int(np.ceil(np.log(1e-12) / (2 * np.log(singular_values[1] / singular_values[0]))))
    for _ in range(steps):
        layer(tinygen.randn(*shape, dtype=tinygen.float64))
    sigma = float((layer.weight_u @ (weight_matrix(layer.weight_orig, dim) @ layer.weight_v)).item())
    np.testing.assert_allclose(sigma, singular_values[0], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.svd(_matrix(layer.weight, dim), compute_uv=False)[0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(host(layer.weight), host(layer.weight_orig) / singular_values[0], rtol=1e-6)


def test_one_power_iteration_per_training_forward_and_none_in_evaluation():
    tinygen.manual_seed(1)
    layer = nn.utils.spectral_norm(nn.Linear(5, 4, dtype=tinygen.float64))
    x = tinygen.randn(2, 5, dtype=tinygen.float64)
    u, v = host(layer.weight_u), host(layer.weight_v)
    matrix = host(layer.weight_orig)
    layer(x)
    expected_v = matrix.T @ u / np.linalg.norm(matrix.T @ u)
    expected_u = matrix @ expected_v / np.linalg.norm(matrix @ expected_v)
    np.testing.assert_allclose(host(layer.weight_v), expected_v, rtol=1e-12)
    np.testing.assert_allclose(host(layer.weight_u), expected_u, rtol=1e-12)
    layer.eval()
    before = host(layer.weight_u)
    layer(x)
    np.testing.assert_array_equal(host(layer.weight_u), before)


def test_a_graph_survives_later_forwards():
    """A critic is called on real, fake and interpolated batches before one backward: each forward's power
    iteration must not change the u, v an earlier graph saved (they are new tensors, not in-place updates)."""
    tinygen.manual_seed(2)
    layer = nn.utils.spectral_norm(nn.Linear(5, 1))
    first = layer(tinygen.randn(4, 5)).sum()
    second = layer(tinygen.randn(4, 5)).sum()
    (first + second).backward()
    assert layer.weight_orig.grad is not None and np.all(np.isfinite(host(layer.weight_orig.grad)))


def test_state_dict_names_and_loading():
    layer = nn.utils.spectral_norm(nn.Conv2d(1, 2, 3))
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    other = nn.utils.spectral_norm(nn.Conv2d(1, 2, 3))
    other.load_state_dict(layer.state_dict())
    x = tinygen.randn(1, 1, 4, 4)
    np.testing.assert_array_equal(host(other.eval()(x)), host(layer.eval()(x)))


@pytest.mark.parametrize("call, message", [
    (lambda: nn.utils.spectral_norm(nn.ReLU()), "ReLU has no parameter 'weight' to normalize"),
    (lambda: nn.utils.spectral_norm(nn.utils.spectral_norm(nn.Linear(2, 2))), "already spectrally normalized"),
    (lambda: nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0), "n_power_iterations must be a positive"),
    (lambda: nn.utils.spectral_norm(nn.BatchNorm1d(3)), r"'weight' of shape \(3,\) has no matrix"),
    (lambda: nn.utils.spectral_norm("conv"), "expected a Module, got str"),
])
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError), match=message):
        call()


# --- PyTorch --------------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("kind", LAYERS)
def test_matches_pytorch(kind):
    """From the same weight_orig, u and v, a training-mode forward gives PyTorch's u, v, output and gradients."""
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    make, shape = LAYERS[kind]
    tinygen.manual_seed(3)
    ours = nn.utils.spectral_norm(make())
    arguments = {"Linear": (6, 4), "Conv2d": (2, 3, 3), "ConvTranspose2d": (3, 2, 3)}[kind]
    options = {} if kind == "Linear" else dict(stride=2)
    theirs = torch.nn.utils.spectral_norm(getattr(torch.nn, kind)(*arguments, **options).double())
    x = tinygen.randn(*shape, dtype=tinygen.float64)
    upstream = tinygen.randn(*ours.eval()(x).shape, dtype=tinygen.float64)
    ours.train()
    theirs.load_state_dict({key: to_torch(value) for key, value in ours.state_dict().items()})
    ours_out, theirs_out = ours(x), theirs(to_torch(x))
    np.testing.assert_allclose(host(ours.weight_u), theirs.weight_u.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(ours.weight_v), theirs.weight_v.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(ours_out), theirs_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ours_out * upstream).sum().backward()
    (theirs_out * to_torch(upstream)).sum().backward()
    np.testing.assert_allclose(host(ours.weight_orig.grad), theirs.weight_orig.grad.numpy(), rtol=1e-9, atol=1e-12)
