"""linear / Linear / Identity: gradients (first and second order) for every input rank, values and default
initialization against PyTorch, and shape/dtype errors."""
import math

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


@given(lead=tst.shapes(max_dims=2, max_side=3), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       with_bias=st.booleans(), data=st.data())
def test_linear_gradients(lead, sizes, with_bias, data):
    in_features, out_features = sizes
    x = data.draw(tst.tensors(lead + (in_features,), requires_grad=True))
    weight = data.draw(tst.tensors((out_features, in_features), requires_grad=True))
    inputs = [x, weight] + ([data.draw(tst.tensors((out_features,), requires_grad=True))] if with_bias else [])
    gradcheck(F.linear, inputs)
    gradgradcheck(F.linear, inputs)


def test_linear_inside_a_gradient_penalty_is_twice_differentiable():
    """The WGAN-GP pattern: d(critic)/d(input) with create_graph, then a penalty on its norm, differentiated."""
    x, weight = random_tensor((3, 4), seed=1), random_tensor((5, 4), seed=2)
    head = random_tensor((1, 5), seed=3)

    def critic_input_gradient(x, weight, head):
        score = F.linear(F.leaky_relu(F.linear(x, weight), 0.2), head).sum()
        (gradient,) = tinygen.grad(score, x, create_graph=True)
        return gradient

    gradcheck(critic_input_gradient, [x, weight, head])


def test_linear_values_and_one_dimensional_input():
    x, weight, bias = (random_tensor(s, seed=i, requires_grad=False) for i, s in enumerate([(2, 3, 4), (5, 4), (5,)]))
    assert_close(F.linear(x, weight, bias), host(x) @ host(weight).T + host(bias))
    assert_close(F.linear(x[0, 0], weight), host(weight) @ host(x)[0, 0])
    assert F.linear(x[0, 0], weight).shape == (5,)


def test_linear_needs_only_the_requested_gradients():
    x = random_tensor((2, 3), requires_grad=False)
    weight, bias = random_tensor((4, 3), seed=1), random_tensor((4,), seed=2)
    F.linear(x, weight, bias).sum().backward()
    assert_close(weight.grad, np.tile(host(x).sum(0), (4, 1)))
    assert_close(bias.grad, np.full(4, 2.0))


def test_linear_errors_name_the_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not fit weight of shape \(4, 5\)"):
        F.linear(tinygen.ones(2, 3), tinygen.ones(4, 5))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(4,\)"):
        F.linear(tinygen.ones(2, 5), tinygen.ones(4, 5), tinygen.ones(3))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(tinygen.ones(2, 5), tinygen.ones(5))
    with pytest.raises(TypeError, match="linear: expected input, weight and bias of one floating dtype, got weight of dtype float64"):
        F.linear(tinygen.ones(2, 5), tinygen.ones(4, 5, dtype=tinygen.float64))
    with pytest.raises(TypeError, match=r"linear: expected a floating-point input, got dtype int64; .*input.to\(tinygen.float32\)"):
        F.linear(tinygen.ones(2, 5, dtype=tinygen.int64), tinygen.ones(4, 5))


def test_linear_layer_default_initialization_bounds_and_repr():
    tinygen.manual_seed(0)
    layer = nn.Linear(50, 30)
    bound = 1 / math.sqrt(50)
    for parameter in (layer.weight, layer.bias):
        values = host(parameter)
        assert values.min() >= -bound and values.max() <= bound
    weights = host(layer.weight)
    assert weights.max() > 0.95 * bound and weights.min() < -0.95 * bound  # spread over the whole range
    assert np.std(host(layer.weight)) == pytest.approx(bound / math.sqrt(3), rel=0.1)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == "Linear(in_features=50, out_features=30, bias=True)"
    assert nn.Linear(3, 2, bias=False).bias is None
    assert list(nn.Linear(3, 2, bias=False).state_dict()) == ["weight"]


def test_linear_layer_device_and_dtype_arguments(device):
    layer = nn.Linear(3, 2, dtype=tinygen.float64, device=device)
    assert layer.weight.dtype == tinygen.float64 and layer.weight.device == device
    assert layer(tinygen.ones(4, 3, dtype=tinygen.float64)).dtype == tinygen.float64
    with pytest.raises(ValueError, match="Linear: in_features must be a non-negative integer"):
        nn.Linear(2.5, 3)


def test_seeded_initialization_is_reproducible():
    tinygen.manual_seed(7)
    first = host(nn.Linear(4, 3).weight)
    tinygen.manual_seed(7)
    assert_close(nn.Linear(4, 3).weight, first)


def test_identity_returns_its_input_and_ignores_arguments():
    x = tinygen.ones(2, 3)
    assert nn.Identity(54, unused="argument")(x) is x
    assert repr(nn.Identity()) == "Identity()"


@pytest.mark.torch
def test_linear_layer_matches_torch():
    torch = pytest.importorskip("torch")
    from torch_oracle import copy_parameters, to_torch

    ours, theirs = nn.Linear(6, 4), torch.nn.Linear(6, 4)
    copy_parameters(ours, theirs)
    x = random_tensor((2, 3, 6), seed=4, dtype=tinygen.float32)
    upstream = random_tensor((2, 3, 4), seed=5, dtype=tinygen.float32, requires_grad=False)
    x_torch = to_torch(x, requires_grad=True)
    ours(x).backward(upstream)
    theirs(x_torch).backward(to_torch(upstream))
    assert_close(ours(x).detach(), theirs(x_torch).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert_close(x.grad, x_torch.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert repr(ours) == repr(theirs)
