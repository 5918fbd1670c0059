"""The Conv2d and ConvTranspose2d layers: gradients through them, parameters, PyTorch's default init, reprs, errors."""
import math

import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck


# --- gradients ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "layer, function",
    [
        (lambda: nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, dtype=tinygen.float64), F.conv2d),
        (lambda: nn.Conv2d(2, 3, 3, padding="same", dilation=(1, 2), bias=False, dtype=tinygen.float64), F.conv2d),
        (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, dtype=tinygen.float64),
         F.conv_transpose2d),
    ],
)
def test_gradients_through_a_layer(layer, function):
    """The input gradient (first and second order) by finite differences; the parameter gradients are the
    functional op's (which test_conv.py checks by finite differences)."""
    layer = layer()
    x = tinygen.randn(2, 2, 5, 4, dtype=tinygen.float64, requires_grad=True)
    gradcheck(layer, [x])
    gradgradcheck(layer, [x])
    parameters = list(layer.parameters())
    upstream = tinygen.randn(*layer(x).shape, dtype=tinygen.float64)
    options = {key: getattr(layer, key) for key in ("stride", "padding", "dilation")}
    if function is F.conv_transpose2d:
        options["output_padding"] = layer.output_padding
    expected = tinygen.grad(function(x, layer.weight, layer.bias, **options), parameters, upstream)
    for got, want in zip(tinygen.grad(layer(x), parameters, upstream), expected):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_backward_fills_parameter_gradients():
    layer = nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)
    x = tinygen.randn(3, 4, 5, 5)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (4, 2, 4, 4)
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(2, 3 * 10 * 10), rtol=1e-6)


# --- parameters and initialization -------------------------------------------------------------------------

def test_parameter_shapes_and_names():
    conv = nn.Conv2d(3, 8, (4, 5))
    assert [(name, p.shape) for name, p in conv.named_parameters()] == [("weight", (8, 3, 4, 5)), ("bias", (8,))]
    transposed = nn.ConvTranspose2d(3, 8, 4, bias=False)
    assert [(name, p.shape) for name, p in transposed.named_parameters()] == [("weight", (3, 8, 4, 4))]
    assert transposed.bias is None
    assert set(transposed.state_dict()) == {"weight"}


@pytest.mark.parametrize(
    "layer, fan_in",
    [(lambda: nn.Conv2d(64, 128, 4), 64 * 16), (lambda: nn.ConvTranspose2d(128, 64, 4), 64 * 16),
     (lambda: nn.ConvTranspose2d(64, 1, (4, 3)), 1 * 12)],
)
def test_default_init_is_uniform_in_plus_minus_one_over_sqrt_fan_in(layer, fan_in):
    layer = layer()
    bound = 1 / math.sqrt(fan_in)
    for parameter in layer.parameters():
        values = parameter.detach().numpy()
        assert parameter.dtype == tinygen.float32 and np.abs(values).max() <= bound
        if values.size > 1000:  # U(-b, b): mean 0, variance b^2 / 3, and it reaches near the bound
            assert abs(values.mean()) < 0.05 * bound
            assert values.var() == pytest.approx(bound**2 / 3, rel=0.05)
            assert np.abs(values).max() > 0.99 * bound


def test_init_follows_the_seed_and_the_dtype():
    tinygen.manual_seed(7)
    first = nn.Conv2d(2, 3, 3, dtype=tinygen.float64)
    tinygen.manual_seed(7)
    second = nn.Conv2d(2, 3, 3, dtype=tinygen.float64)
    assert first.weight.dtype == first.bias.dtype == tinygen.float64
    np.testing.assert_array_equal(first.weight.detach().numpy(), second.weight.detach().numpy())
    assert not np.array_equal(first.weight.detach().numpy(), nn.Conv2d(2, 3, 3).weight.detach().numpy())


def test_device_argument(device):
    layer = nn.ConvTranspose2d(2, 3, 3, device=device)
    assert layer.weight.device == layer.bias.device == device


@pytest.mark.torch
def test_default_init_statistics_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.Conv2d(16, 32, 3), torch.nn.Conv2d(16, 32, 3)),
                         (nn.ConvTranspose2d(32, 16, 4), torch.nn.ConvTranspose2d(32, 16, 4))]:
        bound = 1 / math.sqrt(ours.weight.shape[1] * 9 if isinstance(ours, nn.Conv2d) else ours.weight.shape[1] * 16)
        for mine, reference in zip(ours.parameters(), theirs.parameters()):
            values, expected = mine.detach().numpy(), reference.detach().numpy()
            assert values.shape == expected.shape
            assert np.abs(values).max() <= bound and np.abs(expected).max() <= bound
        weights, expected = ours.weight.detach().numpy(), theirs.weight.detach().numpy()  # thousands of draws
        assert weights.std() == pytest.approx(expected.std(), rel=0.05)
        assert np.abs(weights).max() == pytest.approx(np.abs(expected).max(), rel=0.01)


# --- forward -------------------------------------------------------------------------------------------------

def test_layers_compute_their_functions():
    x = tinygen.randn(2, 3, 9, 9)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2)
    expected = F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1, dilation=2)
    np.testing.assert_array_equal(conv(x).detach().numpy(), expected.detach().numpy())
    transposed = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
    expected = F.conv_transpose2d(x, transposed.weight, transposed.bias, stride=2, padding=1, output_padding=1)
    np.testing.assert_array_equal(transposed(x).detach().numpy(), expected.detach().numpy())


def test_conv_transpose_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = tinygen.randn(1, 2, 7, 7)
    assert layer(x).shape == (1, 2, 13, 13)
    assert layer(x, output_size=(14, 13)).shape == (1, 2, 14, 13)
    assert layer(x, output_size=[1, 2, 14, 14]).shape == (1, 2, 14, 14)
    with pytest.raises(ValueError, match=r"requested output_size \(15, 15\).*reachable sizes run from \(13, 13\) to \(14, 14\)"):
        layer(x, output_size=(15, 15))


@pytest.mark.torch
def test_dcgan_layers_match_torch():
    """The layers a DCGAN uses, with PyTorch's parameters copied in: outputs and all gradients agree."""
    torch = pytest.importorskip("torch")
    pairs = [(nn.Conv2d(1, 8, 4, 2, 1), torch.nn.Conv2d(1, 8, 4, 2, 1)),
             (nn.ConvTranspose2d(8, 1, 4, 2, 1), torch.nn.ConvTranspose2d(8, 1, 4, 2, 1))]
    for ours, theirs in pairs:
        for mine, reference in zip(ours.parameters(), theirs.parameters()):
            mine.array = tinygen.tensor(reference.detach().numpy()).array
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    x_mine, x_reference = tinygen.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = pairs[1][0](pairs[0][0](x_mine).tanh())
    y_reference = pairs[1][1](pairs[0][1](x_reference).tanh())
    (y * y).sum().backward()
    (y_reference * y_reference).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), y_reference.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x_mine.grad.numpy(), x_reference.grad.numpy(), rtol=1e-4, atol=1e-4)
    for ours, theirs in pairs:
        for mine, reference in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-4, atol=1e-3)


# --- repr and errors ---------------------------------------------------------------------------------------

def test_reprs():
    assert repr(nn.Conv2d(1, 64, 4, 2, 1)) == "Conv2d(1, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))"
    assert repr(nn.ConvTranspose2d(128, 64, 4, 2, 1, output_padding=1, bias=False)) == (
        "ConvTranspose2d(128, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), bias=False)"
    )
    assert repr(nn.Conv2d(3, 3, (3, 5), dilation=2)) == "Conv2d(3, 3, kernel_size=(3, 5), stride=(1, 1), dilation=(2, 2))"


@pytest.mark.torch
def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for arguments in [(1, 64, 4, 2, 1), (3, 3, (3, 5), 1, "same", 2), (2, 4, 3, (2, 1), 0, 1, 1, False)]:
        assert repr(nn.Conv2d(*arguments)) == repr(torch.nn.Conv2d(*arguments))
    for arguments in [(128, 64, 4, 2, 1), (2, 4, 3, 2, 1, 1, 1, False), (2, 4, 3, 1, 0, 1, 1, True, 2)]:
        assert repr(nn.ConvTranspose2d(*arguments)) == repr(torch.nn.ConvTranspose2d(*arguments))


def test_wrong_channels_name_the_layer():
    with pytest.raises(ValueError, match=r"^Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): the weight of shape "
                                         r"\(8, 3, 3, 3\) expects 3 input channels, but the input of shape \(2, 1, 9, 9\) has 1"):
        nn.Conv2d(3, 8, 3)(tinygen.zeros(2, 1, 9, 9))
    with pytest.raises(ValueError, match=r"^ConvTranspose2d\(8, 3, .*\(8, 3, 4, 4\) expects 8 input channels.*has 3"):
        nn.ConvTranspose2d(8, 3, 4)(tinygen.zeros(2, 3, 9, 9))


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: nn.Conv2d(0, 4, 3), ValueError, "Conv2d: in_channels must be a positive int, got 0"),
        (lambda: nn.ConvTranspose2d(4, 2.5, 3), ValueError, "ConvTranspose2d: out_channels must be a positive int, got 2.5"),
        (lambda: nn.Conv2d(2, 4, 0), ValueError, "Conv2d: kernel_size must be positive, got 0"),
        (lambda: nn.Conv2d(2, 4, 3, stride=(1, 0)), ValueError, r"Conv2d: stride must be positive, got \(1, 0\)"),
        (lambda: nn.Conv2d(2, 4, 3, padding=-1), ValueError, "Conv2d: padding must be non-negative, got -1"),
        (lambda: nn.Conv2d(2, 4, 3, groups=2), NotImplementedError, "Conv2d: groups=2 is not supported"),
        (lambda: nn.Conv2d(2, 4, 3, padding_mode="reflect"), NotImplementedError, "Conv2d: padding_mode='reflect' is not supported"),
        (lambda: nn.Conv2d(2, 4, 3, dtype=tinygen.int64), TypeError, "Conv2d: parameters need a floating-point dtype, got int64"),
        (lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=2), ValueError,
         r"ConvTranspose2d: output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the dilation \(1, 1\)"),
    ],
)
def test_bad_constructor_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()
