"""softmax, log_softmax, logsigmoid (gradients first and second order, stability) and the activation layers
against PyTorch. ``linear`` has its own file, test_linear.py."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor


@st.composite
def shape_and_dim(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@given(case=shape_and_dim(), data=st.data())
def test_softmax_and_log_softmax_gradients(case, data):
    shape, dim = case
    x = data.draw(tst.tensors(shape, requires_grad=True, low=-3, high=3))
    for function in (F.softmax, F.log_softmax):
        gradcheck(lambda t: function(t, dim), [x])
        gradgradcheck(lambda t: function(t, dim), [x])


@given(x=tst.tensors(tst.shapes(max_dims=3, max_side=4), requires_grad=True, low=-6, high=6))
def test_logsigmoid_gradients(x):
    gradcheck(F.logsigmoid, [x])
    gradgradcheck(F.logsigmoid, [x])


def test_softmax_values_and_identities():
    x = random_tensor((3, 5), seed=1, low=-4, high=4, requires_grad=False)
    expected = np.exp(host(x)) / np.exp(host(x)).sum(axis=1, keepdims=True)
    assert_close(F.softmax(x, 1), expected)
    assert_close(F.softmax(x, -1).sum(1), np.ones(3))
    assert_close(F.log_softmax(x, 1), np.log(expected))
    assert_close(F.logsigmoid(x), -np.log1p(np.exp(-host(x))))


def test_huge_logits_stay_finite_with_finite_gradients():
    logits = tinygen.tensor([[1e4, 0.0, -1e4], [1e30, -1e30, 0.0]], requires_grad=True)
    log_probabilities = F.log_softmax(logits, 1)
    probabilities = F.softmax(logits, 1)
    assert np.isfinite(host(log_probabilities)).all()
    assert_close(log_probabilities[:, 0], [0.0, 0.0])
    assert_close(probabilities, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    (log_probabilities[:, 1].sum() + probabilities[:, 2].sum()).backward()
    assert np.isfinite(host(logits.grad)).all()

    x = tinygen.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    y = F.logsigmoid(x)
    assert_close(y, [-1000.0, -50.0, -np.log(2.0), 0.0, 0.0], rtol=1e-6)
    y.sum().backward()
    assert_close(x.grad, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-7)


def test_float32_stays_float32_and_integer_input_becomes_float():
    assert F.softmax(tinygen.randn(2, 3), 1).dtype == tinygen.float32
    assert F.log_softmax(tinygen.arange(4), 0).dtype == tinygen.float32


def test_bad_dim_is_a_clear_error():
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range for a tensor with 2 dimensions"):
        F.softmax(tinygen.ones(2, 3), 2)
    with pytest.raises(TypeError, match="log_softmax: expected input to be a Tensor"):
        F.log_softmax([1.0, 2.0], 0)


# --- layers ----------------------------------------------------------------------------------------------

LAYER_PAIRS = [
    ("ReLU", (), {}),
    ("ReLU", (True,), {}),
    ("LeakyReLU", (0.2,), {"inplace": True}),
    ("LeakyReLU", (), {}),
    ("Tanh", (), {}),
    ("Sigmoid", (), {}),
    ("ELU", (0.5,), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 5.0}),
    ("Softmax", (1,), {}),
    ("LogSoftmax", (-1,), {}),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, args, kwargs", LAYER_PAIRS)
def test_layers_match_torch_values_gradients_and_repr(name, args, kwargs):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    x = random_tensor((4, 6), seed=3, low=-4, high=4, dtype=tinygen.float32)
    upstream = random_tensor((4, 6), seed=4, dtype=tinygen.float32, requires_grad=False)
    x_torch = to_torch(x, requires_grad=True)
    y, y_torch = ours(x), theirs(x_torch.clone())  # clone: torch's inplace layers may not touch a leaf
    y.backward(upstream)
    y_torch.backward(to_torch(upstream))
    assert_close(y, y_torch.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert_close(x.grad, x_torch.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert repr(ours) == repr(theirs)


def test_activation_layers_are_double_differentiable():
    x = random_tensor((3, 4), seed=5)
    for layer in (nn.LeakyReLU(0.2), nn.ELU(), nn.Tanh(), nn.Sigmoid(), nn.Softplus(), nn.LogSoftmax(1)):
        gradgradcheck(layer, [x])


def test_activation_layers_have_no_parameters():
    for name, args, kwargs in LAYER_PAIRS:
        assert list(getattr(nn, name)(*args, **kwargs).parameters()) == []
