"""layer_norm, group_norm, instance_norm and their layers: gradients (first and second order, random upstream
gradients, non-contiguous inputs), values and the backward's closed form against NumPy, running statistics,
errors, and (where PyTorch is installed) forward, gradients, state_dict keys and repr against PyTorch."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.nn.layers.normalization import BatchNorm
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor


def non_contiguous(shape, seed):
    """A float64 leaf of ``shape`` that is not contiguous: every other column of a wider tensor."""
    wider = random_tensor(shape[:-1] + (2 * shape[-1],), seed=seed, requires_grad=False)
    x = wider[..., ::2].detach().requires_grad_()
    assert not x.is_contiguous()
    return x


#: name -> (function of (x, weight, bias), input shape, shape of weight and bias or None for no affine)
CASES = {
    "layer_norm_last_dim": (lambda x, w, b: F.layer_norm(x, 4, w, b), (3, 4), (4,)),
    "layer_norm_two_dims": (lambda x, w, b: F.layer_norm(x, (3, 2), w, b), (2, 3, 2), (3, 2)),
    "layer_norm_plain": (lambda x: F.layer_norm(x, [3]), (2, 2, 3), None),
    "group_norm_two_groups": (lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 2), (4,)),
    "group_norm_one_group_2d": (lambda x, w, b: F.group_norm(x, 1, w, b), (2, 2, 2, 2), (2,)),
    "group_norm_plain": (lambda x: F.group_norm(x, 3), (2, 6), None),
    "instance_norm_1d": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 3, 3), (3,)),
    "instance_norm_2d_plain": (lambda x: F.instance_norm(x), (2, 2, 2, 3), None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_first_and_second_order(name):
    function, shape, affine_shape = CASES[name]
    inputs = [non_contiguous(shape, seed=1)]
    if affine_shape is not None:
        inputs += [random_tensor(affine_shape, seed=2, low=0.5, high=2.0), random_tensor(affine_shape, seed=3)]
    gradcheck(function, inputs)
    gradgradcheck(function, inputs)


def test_gradient_penalty_through_layer_norm():
    """WGAN-GP's critics use layer norm where batch norm would mix the samples: the penalty's own gradient."""
    x = random_tensor((3, 4), seed=4)
    weight, gamma = random_tensor((5, 4), seed=5), random_tensor((5,), seed=6, low=0.5, high=1.5)

    def penalty(x, weight, gamma):
        score = F.leaky_relu(F.layer_norm(F.linear(x, weight), 5, gamma), 0.2).sum()
        (gradient,) = tinygen.grad(score, x, create_graph=True)
        return ((gradient * gradient).sum(1).sqrt() - 1.0) ** 2

    gradcheck(penalty, [x, weight, gamma])


# --- values and the backward's closed form, against NumPy -------------------------------------------------------

def standardized(values, axes, eps=1e-5):
    """xhat with the mean and the biased variance over ``axes``, in NumPy."""
    mean, var = values.mean(axes, keepdims=True), values.var(axes, keepdims=True)
    return (values - mean) / np.sqrt(var + eps)


def test_values_match_the_definition():
    x = random_tensor((2, 6, 3, 4), seed=7, requires_grad=False)
    values, channel = host(x), (1, 6, 1, 1)
    weight, bias = random_tensor((6,), seed=8, requires_grad=False), random_tensor((6,), seed=9, requires_grad=False)
    w, b = host(weight).reshape(channel), host(bias).reshape(channel)
    assert_close(F.layer_norm(x, (3, 4)), standardized(values, (2, 3)))
    assert_close(F.layer_norm(x, (6, 3, 4)), standardized(values, (1, 2, 3)))
    assert_close(F.layer_norm(x, 4, weight[:4], bias[:4]), standardized(values, 3) * host(weight)[:4] + host(bias)[:4])
    groups = standardized(values.reshape(2, 3, 2, 3, 4), (2, 3, 4)).reshape(values.shape)  # channels 01, 23, 45
    assert_close(F.group_norm(x, 3, weight, bias), groups * w + b)
    assert_close(F.group_norm(x, 6), standardized(values, (2, 3)))
    assert_close(F.instance_norm(x, weight=weight, bias=bias), standardized(values, (2, 3)) * w + b)
    assert_close(F.instance_norm(x, eps=0.5), standardized(values, (2, 3), eps=0.5))


@pytest.mark.parametrize("case, weight_shape, set_size, summed", [
    ("layer_norm", (4, 5), 20, 0),  # each sample's 4 * 5 values are one set
    ("group_norm", (4,), 10, (0, 2)),  # 2 groups of 2 channels * 5 positions per sample
])
def test_gradients_are_the_closed_form(case, weight_shape, set_size, summed):
    """dL/dx = invstd * (h - mean(h) - xhat * mean(h * xhat)) with h = weight * g and means over each normalized
    set, dL/dweight = sum(g * xhat), dL/dbias = sum(g) (docs/derivations/layer-norm.md)."""
    x = random_tensor((3, 4, 5), seed=10)
    weight, bias = random_tensor(weight_shape, seed=11), random_tensor(weight_shape, seed=12)
    output = F.layer_norm(x, (4, 5), weight, bias) if case == "layer_norm" else F.group_norm(x, 2, weight, bias)
    upstream = random_tensor(x.shape, seed=13, requires_grad=False)
    grad_x, grad_weight, grad_bias = tinygen.grad(output, [x, weight, bias], upstream)
    g, gamma = host(upstream), host(weight) if case == "layer_norm" else host(weight).reshape(4, 1)  # per channel

    def sets(a):  # one row per normalized set: a sample (layer norm), a sample's group (group norm)
        return a.reshape(-1, set_size)

    xhat, h = standardized(sets(host(x)), 1), sets(g * gamma)
    invstd = 1 / np.sqrt(sets(host(x)).var(1, keepdims=True) + 1e-5)
    expected = invstd * (h - h.mean(1, keepdims=True) - xhat * (h * xhat).mean(1, keepdims=True))
    assert_close(grad_x, expected.reshape(x.shape))
    assert_close(grad_weight, (g * xhat.reshape(x.shape)).sum(summed))
    assert_close(grad_bias, g.sum(summed))


# --- running statistics (instance norm) -----------------------------------------------------------------------

def test_instance_norm_running_stats_average_the_instances_unbiased_statistics():
    x = random_tensor((3, 2, 5), seed=14, requires_grad=False)
    running_mean, running_var = tinygen.zeros(2, dtype=tinygen.float64), tinygen.ones(2, dtype=tinygen.float64)
    F.instance_norm(x, running_mean, running_var, momentum=0.25)
    assert_close(running_mean, 0.25 * host(x).mean((0, 2)))
    assert_close(running_var, 0.75 + 0.25 * host(x).var(2, ddof=1).mean(0))
    mean, var = host(running_mean).reshape(1, 2, 1), host(running_var).reshape(1, 2, 1)
    evaluated = F.instance_norm(x, running_mean, running_var, use_input_stats=False)
    assert_close(evaluated, (host(x) - mean) / np.sqrt(var + 1e-5))


def test_instance_norm_layer_modes_and_state():
    layer = nn.InstanceNorm1d(2, momentum=0.5, affine=True, track_running_stats=True, dtype=tinygen.float64)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    x = random_tensor((3, 2, 5), seed=15, requires_grad=False)
    layer(x)
    assert int(layer.num_batches_tracked) == 0  # as PyTorch: instance norm does not count batches
    assert_close(layer.running_mean, 0.5 * host(x).mean((0, 2)))
    stats = host(layer.running_mean).copy(), host(layer.running_var).copy()
    layer.eval()
    one = layer(x[0])  # unbatched (C, L) in evaluation mode: the running statistics normalize
    assert_close(one, (host(x)[0] - stats[0][:, None]) / np.sqrt(stats[1][:, None] + 1e-5))
    assert_close(layer.running_mean, stats[0])
    bare = nn.InstanceNorm2d(2).eval()  # no running statistics: each instance's own, in evaluation mode too
    assert list(bare.state_dict()) == [] and bare.running_mean is None
    image = random_tensor((2, 3, 4), seed=16, dtype=tinygen.float32, requires_grad=False)
    assert bare(image).dtype == tinygen.float32
    assert_close(bare(image), standardized(host(image), (1, 2)), rtol=1e-5, atol=1e-6)
    frozen = nn.InstanceNorm1d(2, momentum=None, track_running_stats=True)
    frozen(random_tensor((2, 2, 3), seed=17, dtype=tinygen.float32, requires_grad=False))
    assert_close(frozen.running_mean, np.zeros(2, dtype=np.float32))  # momentum=None: left as they are


def test_layers_parameters_dtypes_and_reprs():
    layer = nn.LayerNorm((2, 3))
    assert [(name, p.shape) for name, p in layer.named_parameters()] == [("weight", (2, 3)), ("bias", (2, 3))]
    assert_close(layer.weight, np.ones((2, 3), dtype=np.float32))
    assert repr(layer) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"
    assert layer(tinygen.randn(4, 2, 3)).dtype == tinygen.float32
    assert layer.double()(random_tensor((4, 2, 3), seed=18)).dtype == tinygen.float64
    assert repr(nn.LayerNorm(5, elementwise_affine=False)) == (
        "LayerNorm((5,), eps=1e-05, elementwise_affine=False, bias=False)")
    assert list(nn.LayerNorm(5, bias=False).state_dict()) == ["weight"]
    groups = nn.GroupNorm(2, 4, eps=1e-3)
    assert list(groups.state_dict()) == ["weight", "bias"] and groups.weight.shape == (4,)
    assert repr(groups) == "GroupNorm(2, 4, eps=0.001, affine=True, bias=True)"
    assert list(nn.GroupNorm(2, 4, affine=False).parameters()) == []
    assert repr(nn.InstanceNorm2d(3)) == (
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)")
    assert not isinstance(nn.InstanceNorm2d(3), BatchNorm)  # as PyTorch: update_bn and DCGAN init leave it alone


# --- errors -------------------------------------------------------------------------------------------------------

def test_errors_are_clear():
    x = tinygen.randn(2, 4, 3)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(4,\) must be the input's last 1 dims, "
                                         r"got input of shape \(2, 4, 3\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(2, 4, 3\) must be the input's last 3"):
        F.layer_norm(x[0], (2, 4, 3))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(4, 3\), the normalized_shape, "
                                         r"got shape \(3,\)"):
        F.layer_norm(x, (4, 3), tinygen.ones(3))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape must be one or more non-negative ints, "
                                         r"got \(\)"):
        F.layer_norm(x, ())
    with pytest.raises(TypeError, match="layer_norm: normalized_shape must be an int or a tuple of ints, got 3.0"):
        F.layer_norm(x, 3.0)
    with pytest.raises(TypeError, match="layer_norm: expected a floating-point input, got dtype int64"):
        F.layer_norm(tinygen.ones(2, 3, dtype=tinygen.int64), 3)
    with pytest.raises(TypeError, match="layer_norm: bias has dtype float64 but the input has dtype float32"):
        F.layer_norm(x, 3, None, tinygen.zeros(3, dtype=tinygen.float64))
    with pytest.raises(ValueError, match=r"group_norm: the input's 4 channels \(dim 1 of shape \(2, 4, 3\)\) do not "
                                         r"split into num_groups=3 equal groups"):
        F.group_norm(x, 3)
    with pytest.raises(ValueError, match="group_norm: num_groups must be a positive int, got 0"):
        F.group_norm(x, 0)
    with pytest.raises(ValueError, match=r"group_norm: weight must have shape \(4,\), one value per channel"):
        F.group_norm(x, 2, tinygen.ones(2))
    with pytest.raises(ValueError, match=r"group_norm: expected input of shape \(N, C, \*\) with at least 2 dims"):
        F.group_norm(tinygen.randn(4), 2)
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 position per channel when using the "
                                         r"input's statistics, got input of shape \(2, 4\)"):
        F.instance_norm(tinygen.randn(2, 4))
    with pytest.raises(ValueError, match="instance_norm: use_input_stats=False needs running_mean and running_var"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(4\) must be divisible by num_groups \(3\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"GroupNorm: expected 6 channels on dim 1 \(num_channels\), got input of "
                                         r"shape \(2, 4, 3\)"):
        nn.GroupNorm(2, 6)(x)
    with pytest.raises(ValueError, match="InstanceNorm2d: expected 3D \\(unbatched\\) or 4D input, got 2D input"):
        nn.InstanceNorm2d(4)(tinygen.randn(4, 3))
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected 5 channels on dim 1 \(num_features\)"):
        nn.InstanceNorm1d(5, affine=True)(x)
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected 5 channels on dim 0 \(num_features\)"):
        nn.InstanceNorm1d(5, track_running_stats=True)(x[0])
    with pytest.warns(UserWarning, match="InstanceNorm1d: expected 5 channels .* num_features is not used"):
        nn.InstanceNorm1d(5)(x)  # as PyTorch: without parameters or running statistics num_features is unused
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be one or more non-negative ints"):
        nn.LayerNorm([])


# --- PyTorch -------------------------------------------------------------------------------------------------------

TORCH_CALLS = {  # name -> (call of (functional module, x, weight, bias), input shape, affine shape)
    "layer_norm": (lambda F, x, w, b: F.layer_norm(x, (3, 4), w, b), (2, 5, 3, 4), (3, 4)),
    "group_norm": (lambda F, x, w, b: F.group_norm(x, 3, w, b), (2, 6, 3, 4), (6,)),
    "instance_norm": (lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3), (2, 6, 7), (6,)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(TORCH_CALLS))
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-12), ("float32", 2e-5)])
def test_functions_match_torch(name, dtype, tolerance):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    call, shape, affine_shape = TORCH_CALLS[name]
    dtype = getattr(tinygen, dtype)
    inputs = [random_tensor(shape, seed=20, dtype=dtype) * 3.0 + 1.0, random_tensor(affine_shape, seed=21, dtype=dtype),
              random_tensor(affine_shape, seed=22, dtype=dtype)]
    inputs = [tensor.detach().requires_grad_() for tensor in inputs]
    theirs = [to_torch(tensor, requires_grad=True) for tensor in inputs]
    upstream = random_tensor(shape, seed=23, dtype=dtype, requires_grad=False)
    ours_output, their_output = call(F, *inputs), call(torch.nn.functional, *theirs)
    their_output.backward(to_torch(upstream))
    assert_close(ours_output, their_output.detach().numpy(), rtol=tolerance, atol=tolerance)
    for ours_grad, their_tensor in zip(tinygen.grad(ours_output, inputs, upstream), theirs):
        assert_close(ours_grad, their_tensor.grad.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.torch
@pytest.mark.parametrize("make, shape", [
    (lambda nn: nn.LayerNorm(6), (3, 4, 6)),
    (lambda nn: nn.LayerNorm((4, 6), eps=1e-3, bias=False), (3, 4, 6)),
    (lambda nn: nn.GroupNorm(2, 4), (3, 4, 5)),
    (lambda nn: nn.GroupNorm(4, 4, affine=False), (3, 4, 2, 3)),
    (lambda nn: nn.InstanceNorm1d(4, affine=True, track_running_stats=True), (3, 4, 5)),
    (lambda nn: nn.InstanceNorm1d(4, affine=True, track_running_stats=True), (4, 5)),  # unbatched
    (lambda nn: nn.InstanceNorm2d(4, momentum=0.3, track_running_stats=True), (3, 4, 3, 3)),
    (lambda nn: nn.InstanceNorm2d(4, affine=True), (4, 3, 3)),  # unbatched
])
def test_layers_match_torch_over_several_training_steps(make, shape):
    torch = pytest.importorskip("torch")
    from torch_oracle import copy_parameters, to_torch

    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    with tinygen.no_grad():
        for seed, parameter in enumerate(ours.parameters()):
            parameter.copy_(random_tensor(parameter.shape, seed=30 + seed, dtype=tinygen.float32, requires_grad=False))
    copy_parameters(ours, theirs)
    for step in range(3):
        x = (random_tensor(shape, seed=40 + step, dtype=tinygen.float32) * 3.0 + float(step)).detach().requires_grad_()
        upstream = random_tensor(shape, seed=50 + step, dtype=tinygen.float32, requires_grad=False)
        x_torch = to_torch(x, requires_grad=True)
        y, y_torch = ours(x), theirs(x_torch)
        y.backward(upstream)
        y_torch.backward(to_torch(upstream))
        assert_close(y.detach(), y_torch.detach().numpy(), rtol=1e-4, atol=1e-5)
        assert_close(x.grad, x_torch.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[name], value.numpy(), rtol=1e-5, atol=1e-6)
    for name, parameter in theirs.named_parameters():
        assert_close(getattr(ours, name).grad, parameter.grad.numpy(), rtol=1e-4, atol=1e-4)
    ours.eval(), theirs.eval()
    x = random_tensor(shape, seed=60, dtype=tinygen.float32, requires_grad=False)
    assert_close(ours(x), theirs(to_torch(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
