"""Numerical edge cases, each against the exact answer (and PyTorch where it is installed): losses and log-sigmoid at
logits of +-1e4, log_softmax of huge logits, the VAE's KL at extreme log-variances (and the documented clamp),
batch norm of a constant input, sqrt and log at 0, division by zero, and float32 against float64 on a DCGAN
discriminator. The stable forms must also not warn: an internal overflow that is masked away afterwards would
show up as a NumPy RuntimeWarning."""
import warnings

import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen import nn
from tinygen.models import DCGANDiscriminator

from helpers import host

FLOATS = [tinygen.float32, tinygen.float64]


def values_and_gradient(function, values, dtype, upstream=None):
    """(f(x), df/dx . upstream) as float64 NumPy arrays for x = ``values`` in ``dtype``, with warnings as errors."""
    x = tinygen.tensor(values, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow or 0 * inf inside, even if masked later
        y = function(x)
        y.backward(tinygen.ones_like(y) if upstream is None else tinygen.tensor(upstream, dtype=dtype))
    return host(y).astype(np.float64), host(x.grad).astype(np.float64)


def assert_finite(*arrays):
    for array in arrays:
        assert np.isfinite(array).all(), array


# --- binary cross-entropy and log-sigmoid at logits of +-1e4 ------------------------------------------------------

EXTREME_LOGITS = [-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4]


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsigmoid_at_extreme_logits(dtype):
    y, gradient = values_and_gradient(F.logsigmoid, EXTREME_LOGITS, dtype)
    x = np.array(EXTREME_LOGITS)
    np.testing.assert_allclose(y, -np.logaddexp(0, -x), rtol=1e-6, atol=1e-37)  # -1e4 at -1e4, 0 at 1e4 (subnormals aside)
    atol = 6e-8 if dtype == tinygen.float32 else 1e-30
    np.testing.assert_allclose(gradient, np.exp(-np.logaddexp(0, x)), rtol=1e-6, atol=atol)  # sigmoid(-x), 1 at -1e4


@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_at_extreme_logits(dtype, target):
    targets = tinygen.full((len(EXTREME_LOGITS),), target, dtype=dtype)
    y, gradient = values_and_gradient(
        lambda x: F.binary_cross_entropy_with_logits(x, targets, reduction="none"), EXTREME_LOGITS, dtype)
    x = np.array(EXTREME_LOGITS)
    np.testing.assert_allclose(y, np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x))), rtol=1e-6, atol=1e-37)
    # float32 rounds sigmoid(20) to 1: an absolute error of its spacing near 1
    atol = 6e-8 if dtype == tinygen.float32 else 1e-30
    np.testing.assert_allclose(gradient, np.exp(-np.logaddexp(0, -x)) - target, rtol=1e-6, atol=atol)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_on_saturated_probabilities_is_finite_as_pytorch(dtype):
    """sigmoid(+-1e4) is exactly 1 or 0; BCE clamps each log at -100 (loss <= 100) and keeps the gradient finite."""
    targets = tinygen.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    y, gradient = values_and_gradient(
        lambda x: F.binary_cross_entropy(x.sigmoid(), targets, reduction="none"), [1e4, -1e4, 1e4, -1e4], dtype)
    np.testing.assert_allclose(y, [0.0, 0.0, 100.0, 100.0])
    assert_finite(gradient)
    assert gradient[0] == 0.0 and gradient[1] == 0.0  # right and saturated: nothing to learn, exactly


@pytest.mark.torch
@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_family_at_extreme_logits_matches_pytorch(dtype):
    import torch

    torch_dtype = torch.float32 if dtype == tinygen.float32 else torch.float64
    t = [0.0, 1.0, 0.5, 1.0, 0.0, 0.25, 1.0]
    cases = {
        "bce_with_logits": (lambda x: F.binary_cross_entropy_with_logits(x, tinygen.tensor(t, dtype=dtype)),
                            lambda x: torch.nn.functional.binary_cross_entropy_with_logits(
                                x, torch.tensor(t, dtype=torch_dtype))),
        "bce": (lambda x: F.binary_cross_entropy(x.sigmoid(), tinygen.tensor(t, dtype=dtype)),
                lambda x: torch.nn.functional.binary_cross_entropy(x.sigmoid(), torch.tensor(t, dtype=torch_dtype))),
        "logsigmoid": (lambda x: F.logsigmoid(x).sum(), lambda x: torch.nn.functional.logsigmoid(x).sum()),
    }
    # float32: sigmoid(-100) = 3.7e-44 is subnormal (2 significant digits), so its log differs in the 4th digit
    rtol, atol = (1e-4, 1e-7) if dtype == tinygen.float32 else (1e-9, 1e-15)
    for name, (ours, theirs) in cases.items():
        y, gradient = values_and_gradient(ours, EXTREME_LOGITS, dtype)
        x = torch.tensor(EXTREME_LOGITS, dtype=torch_dtype, requires_grad=True)
        expected = theirs(x)
        expected.backward()
        np.testing.assert_allclose(y, expected.item(), rtol=rtol, err_msg=name)
        np.testing.assert_allclose(gradient, x.grad.double().numpy(), rtol=rtol, atol=atol, err_msg=name)


# --- log_softmax with huge logits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, scale", [(tinygen.float64, 1e30), (tinygen.float32, 1e4), (tinygen.float64, 1e300)])
def test_log_softmax_of_huge_logits_is_exact_and_its_gradient_finite(dtype, scale):
    logits = [[scale, -scale, 0.0], [scale, scale, -scale], [-scale, -scale, -scale]]
    upstream = [[0.5, -1.0, 2.0], [1.0, 1.0, 1.0], [0.0, 3.0, -1.0]]
    y, gradient = values_and_gradient(lambda x: F.log_softmax(x, 1), logits, dtype, upstream)
    log2 = np.log(2.0)
    expected = [[0.0, -2 * scale, -scale], [-log2, -log2, -2 * scale - log2], [-np.log(3.0)] * 3]
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    # dL/dx = g - softmax(x) * sum(g): softmax is one-hot, half/half, and uniform in the three rows
    softmax = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3] * 3])
    upstream = np.array(upstream)
    np.testing.assert_allclose(gradient, upstream - softmax * upstream.sum(1, keepdims=True), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_and_logsumexp_of_huge_logits(dtype):
    """logsumexp's gradient is softmax: at [s, s, -s] it is [1/2, 1/2, 0], even where s + log 2 rounds to s
    (computing it as exp(x - logsumexp(x)) gives [1, 1, 0] there, as PyTorch 2.x does)."""
    scale = 1e4 if dtype == tinygen.float32 else 1e30
    loss, gradient = values_and_gradient(
        lambda x: F.cross_entropy(x, tinygen.tensor([1, 0])), [[scale, -scale], [scale, scale]], dtype)
    np.testing.assert_allclose(loss, (2 * scale + np.log(2.0)) / 2, rtol=1e-6)
    np.testing.assert_allclose(gradient, [[0.5, -0.5], [-0.25, 0.25]], atol=1e-7)
    total, gradient = values_and_gradient(lambda x: x.logsumexp(0), [scale, scale, -scale], dtype)
    np.testing.assert_allclose(total, scale + np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(gradient, [0.5, 0.5, 0.0], atol=1e-7)


# --- the VAE's KL at extreme log-variances ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_gaussian_kl_is_finite_at_logvar_plus_minus_50(dtype):
    """KL = -1/2 (1 + logvar - mu^2 - exp(logvar)): exp(50) = 5.2e21 fits float32 (max 3.4e38)."""
    logvar = [[-50.0, 50.0, 0.0]]
    mu = tinygen.zeros(1, 3, dtype=dtype)
    kl, gradient = values_and_gradient(lambda lv: F.gaussian_kl(mu, lv), logvar, dtype)
    lv = np.array(logvar)
    expected = -0.5 * (1 + lv - np.exp(lv)).sum()
    np.testing.assert_allclose(kl, expected, rtol=1e-6)
    np.testing.assert_allclose(gradient, (np.exp(lv) - 1) / 2, rtol=1e-6)  # dKL/dlogvar


@pytest.mark.parametrize("dtype, runaway", [(tinygen.float32, 100.0), (tinygen.float64, 1000.0)])
def test_gaussian_kl_overflows_as_documented_and_the_documented_clamp_keeps_it_finite(dtype, runaway):
    """Past logvar ~88 (float32) or ~709 (float64), exp(logvar) is inf: the KL is +inf, as the docstring of
    tinygen.losses.vae says; its recommendation, logvar.clamp(-30, 20), keeps loss and gradients finite."""
    mu = tinygen.zeros(1, 2, dtype=dtype)
    logvar = tinygen.tensor([[runaway, -runaway]], dtype=dtype, requires_grad=True)
    with np.errstate(over="ignore"):
        assert F.gaussian_kl(mu, logvar).item() == np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clamped = logvar.clamp(-30.0, 20.0)
        kl = F.gaussian_kl(mu, clamped)
        kl.backward()
        z = F.reparameterize(mu, clamped, generator=tinygen.Generator(seed=0))
    expected = -0.5 * ((1 + 20.0 - np.exp(20.0)) + (1 - 30.0 - np.exp(-30.0)))
    np.testing.assert_allclose(kl.item(), expected, rtol=1e-6)
    assert_finite(host(z))
    assert host(logvar.grad).tolist() == [[0.0, 0.0]]  # clamped: the runaway head gets no push from the KL


# --- batch norm of a constant input --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 4)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_norm_of_a_constant_input_is_finite(dtype, shape):
    """Variance 0: invstd = 1 / sqrt(eps), xhat = 0, so y = beta and dL/dx = gamma invstd (g - mean(g)): finite."""
    gamma = tinygen.tensor([1.0, 2.0, -0.5], dtype=dtype, requires_grad=True)
    beta = tinygen.tensor([0.1, 0.2, 0.3], dtype=dtype, requires_grad=True)
    upstream = np.random.default_rng(0).standard_normal(shape)
    y, gradient = values_and_gradient(lambda x: F.batch_norm(x, None, None, gamma, beta, training=True),
                                      np.full(shape, 7.0), dtype, upstream)
    axes = (0,) + tuple(range(2, len(shape)))
    per_channel = (1, 3) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(y, np.broadcast_to(host(beta).reshape(per_channel), shape), rtol=1e-6)
    centered = upstream - upstream.mean(axis=axes, keepdims=True)
    expected = host(gamma).reshape(per_channel).astype(np.float64) / np.sqrt(1e-5) * centered
    np.testing.assert_allclose(gradient, expected, rtol=1e-4 if dtype == tinygen.float32 else 1e-9, atol=1e-4)
    assert_finite(host(gamma.grad), host(beta.grad))
    assert np.allclose(host(gamma.grad), 0.0, atol=1e-3)  # xhat = 0: gamma does not matter


def test_batch_norm_layer_of_a_constant_batch_in_training_and_eval():
    layer = nn.BatchNorm1d(3)
    x = tinygen.full((5, 3), -2.0, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert_finite(host(y), host(x.grad), host(layer.running_var))
    assert host(layer.running_var).tolist() == pytest.approx([0.9] * 3)  # (1 - momentum) * 1 + momentum * 0
    layer.eval()
    assert_finite(host(layer(x)))


# --- sqrt and log at 0, division by zero ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_sqrt_and_log_at_zero_follow_the_math(dtype):
    with np.errstate(divide="ignore"):
        root, root_gradient = values_and_gradient_quietly(tinygen.sqrt, [0.0, 4.0], dtype)
        log, log_gradient = values_and_gradient_quietly(tinygen.log, [0.0, 4.0], dtype)
    assert root.tolist() == [0.0, 2.0] and root_gradient.tolist() == [np.inf, 0.25]  # 1 / (2 sqrt x)
    assert log[0] == -np.inf and log_gradient.tolist() == [np.inf, 0.25]  # 1 / x


def values_and_gradient_quietly(function, values, dtype):
    x = tinygen.tensor(values, dtype=dtype, requires_grad=True)
    y = function(x)
    y.sum().backward()
    return host(y).astype(np.float64), host(x.grad).astype(np.float64)


@pytest.mark.torch
def test_sqrt_log_and_division_at_zero_match_pytorch():
    import torch

    cases = {
        "sqrt": (tinygen.sqrt, torch.sqrt),
        "log": (tinygen.log, torch.log),
        "reciprocal": (lambda x: 1.0 / x, lambda x: 1.0 / x),
        "zero_over": (lambda x: x / x, lambda x: x / x),
        "pow_half": (lambda x: x ** 0.5, lambda x: x ** 0.5),
    }
    values = [0.0, 1.0, -1.0]
    for name, (ours, theirs) in cases.items():
        with np.errstate(all="ignore"):
            y, gradient = values_and_gradient_quietly(ours, values, tinygen.float64)
        x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
        expected = theirs(x)
        expected.sum().backward()
        np.testing.assert_array_equal(y, expected.detach().numpy(), err_msg=name)
        np.testing.assert_array_equal(gradient, x.grad.numpy(), err_msg=name)


# --- float32 against float64 ----------------------------------------------------------------------------------------

def test_a_dcgan_discriminator_agrees_in_float32_and_float64():
    """The same weights and batch in both precisions: outputs and gradients agree to float32's ~1e-5 (relative)."""
    tinygen.manual_seed(0)
    single = DCGANDiscriminator(dropout=0.0)
    double = DCGANDiscriminator(dropout=0.0).double()
    double.load_state_dict(single.state_dict())
    images = np.random.default_rng(1).uniform(-1, 1, size=(4, 1, 28, 28))
    results = {}
    for name, model, dtype in (("float32", single, tinygen.float32), ("float64", double, tinygen.float64)):
        x = tinygen.tensor(images, dtype=dtype, requires_grad=True)
        logits = model(x)
        F.binary_cross_entropy_with_logits(logits, tinygen.tensor([[1.0], [0.0], [1.0], [0.0]], dtype=dtype)).backward()
        results[name] = [host(logits), host(x.grad)] + [host(p.grad) for p in model.parameters()]
        assert results[name][0].dtype == np.dtype(name)
    for position, (low, high) in enumerate(zip(results["float32"], results["float64"])):
        error = np.linalg.norm(low.astype(np.float64) - high) / np.linalg.norm(high)
        assert error < 2e-5, (position, error)
