"""nn.init: gains and fans as PyTorch computes them, the spread of each initializer, seeding, in-place
behaviour (no graph, version bump), and the DCGAN scheme."""
import math

import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import init

from helpers import host


def weight(*shape, dtype=tinygen.float32):
    return nn.Parameter(tinygen.zeros(*shape, dtype=dtype))


@pytest.mark.torch
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None),
    ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
])
def test_calculate_gain_matches_torch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(30, 20), (16, 3, 5, 5), (3, 16, 4, 4), (7, 2, 3)])
def test_fans_match_torch_for_linear_conv_and_transposed_conv_weights(shape):
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(tinygen.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fans_of_a_transposed_convolution_weight_read_dims_one_and_zero():
    """ConvTranspose2d(in=16, out=3, k=4) stores its weight (16, 3, 4, 4): fan_in = 3 * 16, fan_out = 16 * 16."""
    assert init._calculate_fan_in_and_fan_out(tinygen.zeros(16, 3, 4, 4)) == (48, 256)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(weight(5))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(weight(3, 3), mode="fan")


@pytest.mark.parametrize("fill, low, high, std", [
    (lambda w: init.uniform_(w, -0.5, 1.5), -0.5, 1.5, 2 / math.sqrt(12)),
    (lambda w: init.normal_(w, 3.0, 0.5), None, None, 0.5),
    (lambda w: init.xavier_uniform_(w, gain=2.0), -2 * math.sqrt(6 / 300), 2 * math.sqrt(6 / 300),
     2 * math.sqrt(2 / 300)),
    (lambda w: init.xavier_normal_(w), None, None, math.sqrt(2 / 300)),
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), -1 / math.sqrt(100), 1 / math.sqrt(100), 1 / math.sqrt(300)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), None, None, math.sqrt(2 / 200)),
])
def test_initializers_draw_with_the_right_spread(fill, low, high, std):
    w = weight(200, 100)
    assert fill(w) is w
    values = host(w)
    assert values.dtype == np.float32
    assert np.std(values) == pytest.approx(std, rel=0.03)
    if low is not None:
        assert low <= values.min() and values.max() <= high
        assert values.min() < low + 0.01 * (high - low) and values.max() > high - 0.01 * (high - low)


def test_mean_of_normal_and_constant_fills():
    w = weight(100, 100, dtype=tinygen.float64)
    init.normal_(w, 3.0, 0.5)
    assert np.mean(host(w)) == pytest.approx(3.0, abs=0.02)
    assert host(init.constant_(w, 0.25)).tolist() == np.full((100, 100), 0.25).tolist()
    assert (host(init.zeros_(w)) == 0).all() and (host(init.ones_(w)) == 1).all()
    assert w.dtype == tinygen.float64


def test_initialization_is_in_place_without_graph_and_bumps_the_version():
    w = weight(3, 4)
    before = w._version[0]
    y = (w * w).sum()  # saves w for its backward
    init.normal_(w)
    assert w.requires_grad and w.grad_fn is None and w._version[0] > before
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_generator_argument_makes_draws_reproducible(device):
    first, second = weight(4, 5), weight(4, 5)
    init.kaiming_uniform_(first, generator=tinygen.Generator(device, seed=1))
    init.kaiming_uniform_(second, generator=tinygen.Generator(device, seed=1))
    assert (host(first) == host(second)).all()
    init.normal_(second, generator=tinygen.Generator(device, seed=2))
    assert not (host(first) == host(second)).all()


def test_dcgan_init():
    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Linear(10, 32)
            self.norm = nn.BatchNorm1d(32)
            self.out = nn.Sequential(nn.ReLU(), nn.Linear(32, 2000))

    model = Generator()
    assert init.dcgan_init_(model, generator=tinygen.Generator(tinygen.get_default_device(), seed=0)) is model
    assert np.std(host(model.out[1].weight)) == pytest.approx(0.02, rel=0.03)
    assert abs(np.mean(host(model.out[1].weight))) < 0.002
    assert (host(model.project.bias) == 0).all() and (host(model.out[1].bias) == 0).all()
    gamma = host(model.norm.weight)
    assert abs(gamma.mean() - 1.0) < 0.02 and 0.005 < gamma.std() < 0.04
    assert (host(model.norm.bias) == 0).all()

    class ConvLike(nn.Module):  # any Conv*/ConvTranspose* layer (matched by class name, as PyTorch's example)
        def __init__(self):
            super().__init__()
            self.weight = weight(64, 32, 4, 4)
            self.register_parameter("bias", None)

    ConvTranspose2d = type("ConvTranspose2d", (ConvLike,), {})
    layer = ConvTranspose2d()
    model = nn.Sequential(layer, nn.Tanh())
    model.apply(init.dcgan_weights_init)
    assert np.std(host(layer.weight)) == pytest.approx(0.02, rel=0.05)


# --- trunc_normal_ and orthogonal_ ----------------------------------------------------------------------

def _normal_cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 1.0, -1.0, 1.5), (0.0, 0.02, -2.0, 2.0)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b):
    """The mean and std of N(mean, std^2) conditioned on [a, b] (the closed forms), within 1% of std (3 standard
    errors) for 100,000 draws with a fixed seed; every value in [a, b]; the same seed gives the same values."""
    tinygen.manual_seed(0)
    w = init.trunc_normal_(weight(200, 500, dtype=tinygen.float64), mean, std, a, b)
    values = host(w)
    alpha, beta = (a - mean) / std, (b - mean) / std
    density = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (alpha, beta)]
    mass = _normal_cdf(beta) - _normal_cdf(alpha)
    shift = (density[0] - density[1]) / mass
    expected_var = std**2 * (1 + (alpha * density[0] - beta * density[1]) / mass - shift**2)
    assert a <= values.min() and values.max() <= b
    assert abs(values.mean() - (mean + std * shift)) < 0.01 * std
    assert abs(values.std() - math.sqrt(expected_var)) < 0.01 * std
    tinygen.manual_seed(0)
    assert np.array_equal(host(init.trunc_normal_(weight(200, 500, dtype=tinygen.float64), mean, std, a, b)), values)


@pytest.mark.parametrize("shape, gain", [((3, 5), 1.0), ((4, 4), 2.0), ((6, 2, 2), 1.0), ((4, 2, 3, 3), math.sqrt(2))])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    w = host(init.orthogonal_(weight(*shape, dtype=tinygen.float64), gain)).reshape(shape[0], -1)
    smaller = min(w.shape)
    product = w @ w.T if w.shape[0] == smaller else w.T @ w
    np.testing.assert_allclose(product, gain**2 * np.eye(smaller), atol=1e-12)


def test_orthogonal_is_q_of_the_seeded_gaussian_with_rs_diagonal_made_positive():
    """As PyTorch's: Q from QR of the Gaussian the generator draws, its columns' signs fixed so that R = Q^T G has a
    positive diagonal (which makes Q Haar-distributed)."""
    generator = tinygen.Generator(tinygen.get_default_device(), seed=3)
    gaussian = host(tinygen.randn(4, 4, dtype=tinygen.float64, generator=generator))
    generator.manual_seed(3)
    q = host(init.orthogonal_(weight(4, 4, dtype=tinygen.float64), generator=generator))
    r = q.T @ gaussian
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert (np.diag(r) > 0).all()


@pytest.mark.parametrize("call, message", [
    (lambda: init.orthogonal_(weight(3)), r"orthogonal_: expected a tensor with at least 2 dimensions, got shape \(3"),
    (lambda: init.trunc_normal_(weight(3), a=1.0, b=-1.0), "trunc_normal_: expected a <= b, got a=1.0, b=-1.0"),
    (lambda: init.trunc_normal_(weight(3), mean=5.0, std=1.0), r"trunc_normal_: mean 5.0 is more than 2 std \(1.0\)"),
])
def test_trunc_normal_and_orthogonal_errors_name_themselves(call, message):
    with pytest.raises(ValueError, match=message):
        call()
