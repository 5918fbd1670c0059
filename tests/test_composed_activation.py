"""relu6, hardtanh, hardsigmoid, hardswish, selu, celu, mish, softsign, glu, prelu, threshold (and their layers):
gradients first and second order against finite differences, then values and gradients against PyTorch, at the
kinks too (each must take PyTorch's subgradient there)."""
import numpy as np
import pytest

import tinygen
from tinygen import backend as backends, nn
from tinygen.autograd.function import DeviceMismatchError
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing.strategies import move_off_kinks
from tinygen.tensor import Tensor

from helpers import assert_close, host, random_tensor

# name, the call (the same for tinygen.nn.functional and torch.nn.functional), its kinks
CASES = [
    ("relu6", lambda F, x: F.relu6(x), (0.0, 6.0)),
    ("hardtanh", lambda F, x: F.hardtanh(x), (-1.0, 1.0)),
    ("hardtanh_bounds", lambda F, x: F.hardtanh(x, -2.0, 0.5), (-2.0, 0.5)),
    ("hardsigmoid", lambda F, x: F.hardsigmoid(x), (-3.0, 3.0)),
    ("hardswish", lambda F, x: F.hardswish(x), (-3.0, 3.0)),
    ("selu", lambda F, x: F.selu(x), (0.0,)),
    ("celu", lambda F, x: F.celu(x, 0.7), (0.0,)),
    ("mish", lambda F, x: F.mish(x), ()),
    ("softsign", lambda F, x: F.softsign(x), (0.0,)),
    ("threshold", lambda F, x: F.threshold(x, 0.5, -2.0), (0.5,)),
    ("glu", lambda F, x: F.glu(x, 0), ()),
    ("glu_last", lambda F, x: F.glu(x), ()),
]

#: PyTorch's float64 backwards of hardsigmoid and celu use 1/6 and 1/alpha rounded to float32 (relative error up to
#: 8e-8); every other gradient here agrees to 1e-12
GRADIENT_RTOL = 2e-7


def noncontiguous_leaf(shape, seed, kinks=(), low=-7.0, high=7.0):
    """A float64 leaf whose memory is in transposed order, its values at least 0.05 from every kink."""
    backend = backends.get_backend(None)  # the default device's
    values = move_off_kinks(np, np.random.default_rng(seed).uniform(low, high, size=shape[::-1]), kinks, 0.05)
    x = Tensor._make(backend.xp.asarray(values).T, backend, True)
    assert not x.is_contiguous()
    return x


@pytest.mark.parametrize("name, call, kinks", CASES, ids=[case[0] for case in CASES])
def test_gradients_first_and_second_order(name, call, kinks):
    x = noncontiguous_leaf((4, 6), seed=len(name), kinks=kinks)
    gradcheck(lambda t: call(F, t), [x])
    gradgradcheck(lambda t: call(F, t), [x])


def test_prelu_gradients_reach_input_and_weight():
    x = noncontiguous_leaf((2, 3, 4), seed=1, kinks=(0.0,))
    for weight in (random_tensor((3,), seed=2), random_tensor((1,), seed=3)):
        gradcheck(F.prelu, [x, weight])
        gradgradcheck(F.prelu, [x, weight])


@pytest.mark.torch
@pytest.mark.parametrize("name, call, kinks", CASES, ids=[case[0] for case in CASES])
def test_values_and_gradients_match_torch_at_the_kinks_too(name, call, kinks):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    values = np.concatenate([np.random.default_rng(0).uniform(-8, 8, size=22), kinks, np.zeros(2 - len(kinks))])
    x = tinygen.tensor(values.reshape(4, 6), dtype=tinygen.float64, requires_grad=True)
    x_torch = to_torch(x, requires_grad=True)
    y, y_torch = call(F, x), call(torch.nn.functional, x_torch)
    upstream = random_tensor(tuple(y.shape), seed=5, requires_grad=False)
    y.backward(upstream)
    y_torch.backward(to_torch(upstream))
    assert_close(y, y_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert_close(x.grad, x_torch.grad.numpy(), rtol=GRADIENT_RTOL, atol=1e-14)


@pytest.mark.torch
def test_prelu_matches_torch_per_channel_and_shared():
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    x = random_tensor((2, 3, 5), seed=6, low=-3, high=3)
    x.array[0, :, 0] = 0.0  # the kink: the gradient there is the slope's, as PyTorch's
    upstream = random_tensor((2, 3, 5), seed=7, requires_grad=False)
    for weight in (random_tensor((3,), seed=8), random_tensor((1,), seed=9)):
        x.grad = None
        x_torch, weight_torch = to_torch(x, requires_grad=True), to_torch(weight, requires_grad=True)
        F.prelu(x, weight).backward(upstream)
        torch.nn.functional.prelu(x_torch, weight_torch).backward(to_torch(upstream))
        assert_close(x.grad, x_torch.grad.numpy(), rtol=1e-12)
        assert_close(weight.grad, weight_torch.grad.numpy(), rtol=1e-12)


def test_logsigmoid_is_finite_at_a_thousand_either_way():
    x = tinygen.tensor([-1000.0, 1000.0], requires_grad=True)
    y = nn.LogSigmoid()(x)
    y.sum().backward()
    assert_close(y, [-1000.0, 0.0])
    assert_close(x.grad, [1.0, 0.0])


@pytest.mark.parametrize("call, message", [
    (lambda: F.glu(tinygen.ones(2, 3)), r"glu: dim 1 must have an even size .* got size 3 in input of shape \(2, 3\)"),
    (lambda: F.prelu(tinygen.ones(2, 3), tinygen.ones(2)),
     r"prelu: weight must have 1 entry or one per channel .*: 3\), got weight of shape \(2,\)"),
    (lambda: F.celu(tinygen.ones(2), 0.0), "celu: alpha must not be 0"),
    (lambda: F.hardtanh(tinygen.ones(2), 1.0, -1.0), "hardtanh: min_val must not exceed max_val"),
    (lambda: F.relu6([1.0]), "relu6: expected input to be a Tensor, got list"),
])
def test_bad_input_is_a_one_line_error_naming_the_op(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_a_prelu_weight_on_another_device_is_named_by_prelu():
    with pytest.raises(DeviceMismatchError, match="prelu: expected all tensors on one device, got 'strict' and 'cpu'"):
        F.prelu(tinygen.ones(2, 3, device="strict"), tinygen.ones(3, device="cpu"))


LAYERS = [
    ("ReLU6", (), {}), ("ReLU6", (True,), {}), ("Hardtanh", (-2.0, 0.5), {}), ("Hardtanh", (), {"inplace": True}),
    ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("SELU", (), {}), ("CELU", (0.7,), {}), ("Mish", (), {}),
    ("Softsign", (), {}), ("LogSigmoid", (), {}), ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}), ("GLU", (0,), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layers_match_torch_values_gradients_and_repr(name, args, kwargs):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs).double()
    ours = ours.double()
    x = random_tensor((2, 4, 6), seed=3, low=-4, high=4)
    x_torch = to_torch(x, requires_grad=True)
    y, y_torch = ours(x), theirs(x_torch.clone())  # clone: torch's inplace layers may not touch a leaf
    upstream = random_tensor(tuple(y.shape), seed=4, requires_grad=False)
    y.backward(upstream)
    y_torch.backward(to_torch(upstream))
    assert_close(y, y_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert_close(x.grad, x_torch.grad.numpy(), rtol=GRADIENT_RTOL, atol=1e-14)
    for (key, parameter), theirs_parameter in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(parameter.grad, theirs_parameter.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert repr(ours) == repr(theirs)
    assert [key for key, _ in ours.named_parameters()] == [key for key, _ in theirs.named_parameters()]
