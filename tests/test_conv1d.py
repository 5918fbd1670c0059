"""conv1d and Conv1d: conv2d on rows of height 1, checked in 1-D terms: gradients (first and second order, on
non-contiguous operands), values against a plain loop and PyTorch, the layer's parameters and repr, errors."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor


def plain_conv1d(x, w, b, stride, padding, dilation):
    """The definition, one output position at a time: y[n, o, t] = b[o] + sum_{c, j} w[o, c, j] x[n, c, ts + jd - p]."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    k, length = w.shape[2], x.shape[2]
    out = (length - dilation * (k - 1) - 1) // stride + 1
    y = np.empty((x.shape[0], w.shape[0], out))
    for t in range(out):
        window = x[:, :, t * stride + dilation * np.arange(k)]  # (N, C, k)
        y[:, :, t] = np.einsum("nck,ock->no", window, w) + b
    return y


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (3, 2, 2), (1, 0, 3)])
def test_conv1d_matches_its_definition(stride, padding, dilation):
    x, w, b = random_tensor((2, 3, 13), seed=1), random_tensor((4, 3, 3), seed=2), random_tensor((4,), seed=3)
    expected = plain_conv1d(host(x), host(w), host(b), stride, padding, dilation)
    assert_close(F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation), expected)


def test_conv1d_gradients_on_non_contiguous_operands():
    x = random_tensor((2, 9, 3), seed=1).transpose(1, 2).detach().requires_grad_()  # (2, 3, 9), strided
    w = random_tensor((4, 3, 3), seed=2)[:, :, ::-1].detach().requires_grad_()
    b = random_tensor((4,), seed=3)
    assert not (x.is_contiguous() or w.is_contiguous())
    options = dict(stride=2, padding=1, dilation=2)
    gradcheck(lambda x, w, b: F.conv1d(x, w, b, **options), [x, w, b])
    gradgradcheck(lambda x, w, b: F.conv1d(x, w, b, **options), [x, w, b])
    gradgradcheck(lambda x, w: F.conv1d(x, w, padding="same"), [x, w])


def test_unbatched_input_matches_a_batch_of_one():
    x, w = random_tensor((3, 10), seed=1), random_tensor((2, 3, 4), seed=2)
    assert_close(F.conv1d(x, w, padding="same"), F.conv1d(x.unsqueeze(0), w, padding="same")[0])
    assert F.conv1d(x, w, padding="same").shape == (2, 10)


def test_layer_parameters_init_and_repr():
    layer = nn.Conv1d(3, 5, 4, stride=2, padding=1)
    assert layer.weight.shape == (5, 3, 4) and layer.bias.shape == (5,)
    assert (layer.kernel_size, layer.stride, layer.padding, layer.dilation) == ((4,), (2,), (1,), (1,))
    bound = 1 / np.sqrt(3 * 4)
    assert np.abs(host(layer.weight)).max() <= bound and np.abs(host(layer.bias)).max() <= bound
    assert repr(layer) == "Conv1d(3, 5, kernel_size=(4,), stride=(2,), padding=(1,))"
    assert repr(nn.Conv1d(2, 2, 3, dilation=2, bias=False)) == (
        "Conv1d(2, 2, kernel_size=(3,), stride=(1,), dilation=(2,), bias=False)")
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer(tinygen.randn(2, 3, 16)).shape == (2, 5, 8)
    assert layer(tinygen.randn(2, 3, 16)).dtype == tinygen.float32


@pytest.mark.torch
@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding="same"),
                                     dict(padding="valid", stride=3)])
def test_conv1d_matches_torch_values_and_gradients(options):
    torch = pytest.importorskip("torch")
    x, w, b = random_tensor((2, 3, 12), seed=1), random_tensor((4, 3, 3), seed=2), random_tensor((4,), seed=3)
    upstream = np.random.default_rng(4).standard_normal(F.conv1d(x, w, b, **options).shape)
    (F.conv1d(x, w, b, **options) * tinygen.tensor(upstream)).sum().backward()
    tx, tw, tb = (torch.tensor(host(t), requires_grad=True) for t in (x, w, b))
    (torch.nn.functional.conv1d(tx, tw, tb, **options) * torch.tensor(upstream)).sum().backward()
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        assert_close(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    layer, theirs = nn.Conv1d(3, 4, 3, **options), torch.nn.Conv1d(3, 4, 3, **options)
    assert repr(layer) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(host(v)) for k, v in layer.state_dict().items()})
    sample = np.random.default_rng(5).standard_normal((2, 3, 12)).astype(np.float32)
    assert_close(layer(tinygen.tensor(sample)), theirs(torch.tensor(sample)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda x, w: F.conv1d(x, w[:, :2]), ValueError, r"conv1d: the weight of shape \(4, 2, 3\) expects 2 input "
                                                     r"channels, but the input of shape \(2, 3, 5\) has 3"),
    (lambda x, w: F.conv1d(x[:, :, :2], w), ValueError, r"conv1d: the kernel of size 3 .*longer than the padded"),
    (lambda x, w: F.conv1d(x, w, stride=(1, 2)), TypeError, r"conv1d: stride must be an int or a 1-tuple"),
    (lambda x, w: F.conv1d(x, w, padding=-1), ValueError, r"conv1d: padding must be non-negative, got -1"),
    (lambda x, w: F.conv1d(x, w, padding="same", stride=2), ValueError, r"padding='same' needs stride 1, got stride 2"),
    (lambda x, w: F.conv1d(x, w, tinygen.zeros(2, dtype=tinygen.float64)), ValueError,
     r"conv1d: expected a bias of shape \(4,\) for a weight of shape \(4, 3, 3\), got \(2,\)"),
    (lambda x, w: F.conv1d(x.unsqueeze(0), w), ValueError, r"conv1d: expected a 3-D input \(N, C, L\)"),
    (lambda x, w: F.conv1d(x, w.unsqueeze(0)), ValueError, r"conv1d: expected a 3-D weight \(C_out, C_in, k\)"),
    (lambda x, w: nn.Conv1d(3, 4, 3)(x), TypeError, r"Conv1d\(3, 4, .*float64.*float32"),
    (lambda x, w: nn.Conv1d(5, 4, 3)(x), ValueError, r"Conv1d\(5, 4, .*expects 5 input channels"),
    (lambda x, w: nn.Conv1d(3, 4, (3, 3)), TypeError, r"Conv1d: kernel_size must be an int or a 1-tuple"),
    # refused when the layer is made, as PyTorch does, not at its first forward
    (lambda x, w: nn.Conv1d(3, 4, 3, stride=2, padding="same"), ValueError,
     r"Conv1d: padding='same' needs stride 1, got stride 2"),
    (lambda x, w: nn.Conv2d(3, 4, 3, padding="full"), ValueError,
     r"Conv2d: padding must be an int, a tuple, 'valid' or 'same', got 'full'"),
])
def test_errors_speak_in_one_dimension(call, error, pattern):
    x, w = random_tensor((2, 3, 5), seed=1), random_tensor((4, 3, 3), seed=2)
    with pytest.raises(error, match=pattern):
        call(x, w)
