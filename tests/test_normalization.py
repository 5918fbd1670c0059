"""batch_norm / BatchNorm1d / BatchNorm2d: gradients (first and second order) in training and evaluation mode,
the fused forward and backward against the references (batch_norm_reference, backward_reference), running
statistics and outputs against PyTorch, errors."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.ops.normalization import batch_norm_reference
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor


def train_norm(x, weight=None, bias=None):
    return F.batch_norm(x, None, None, weight, bias, training=True)


@st.composite
def batch_shapes(draw):
    """(N, C), (N, C, L) or (N, C, H, W) with more than one value per channel."""
    shape = draw(st.sampled_from([
        st.tuples(st.integers(2, 4), st.integers(1, 3)),
        st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3)),
        st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(1, 3)),
    ]).flatmap(lambda s: s))
    assume(np.prod(shape) // shape[1] > 1)
    return shape


@given(shape=batch_shapes(), affine=st.booleans(), data=st.data())
def test_training_mode_gradients(shape, affine, data):
    x = data.draw(tst.tensors(shape, requires_grad=True))
    channels = (shape[1],)
    if affine:
        weight = data.draw(tst.tensors(channels, requires_grad=True, low=0.5, high=2.0))
        bias = data.draw(tst.tensors(channels, requires_grad=True))
        gradcheck(train_norm, [x, weight, bias])
        gradgradcheck(train_norm, [x, weight, bias])
    else:
        gradcheck(train_norm, [x])
        gradgradcheck(train_norm, [x])


@given(shape=batch_shapes(), data=st.data())
def test_training_mode_gradients_inside_a_network(shape, data):
    """Batch norm after and before other ops (not the first op of the checked function), with only a
    weight, then only a bias: its input gradient is checked where it is not the leaf's own gradient."""
    x = data.draw(tst.tensors(shape, requires_grad=True))
    weight = data.draw(tst.tensors((shape[1],), requires_grad=True, low=0.5, high=2.0))

    def network(x, weight):
        hidden = F.batch_norm(x.tanh() * 1.5, None, None, weight, None, training=True)
        return F.batch_norm(F.leaky_relu(hidden, 0.2) ** 2, None, None, None, weight, training=True)

    gradcheck(network, [x, weight])
    gradgradcheck(network, [x, weight])


@given(shape=batch_shapes(), data=st.data())
def test_evaluation_mode_gradients(shape, data):
    x = data.draw(tst.tensors(shape, requires_grad=True))
    channels = (shape[1],)
    running_mean = data.draw(tst.tensors(channels))
    running_var = data.draw(tst.tensors(channels, low=0.5, high=2.0))
    weight, bias = data.draw(tst.tensors(channels, requires_grad=True)), data.draw(tst.tensors(channels, requires_grad=True))

    def evaluate(x, weight, bias):
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=False)

    gradcheck(evaluate, [x, weight, bias])
    gradgradcheck(evaluate, [x, weight, bias])


def test_gradient_penalty_through_batch_norm():
    """WGAN-GP: the norm of d(critic)/d(input), with batch norm inside the critic, differentiated again."""
    x = random_tensor((4, 3), seed=1)
    weight, gamma = random_tensor((2, 3), seed=2), random_tensor((2,), seed=3, low=0.5, high=1.5)

    def penalty(x, weight, gamma):
        score = F.leaky_relu(train_norm(F.linear(x, weight), gamma), 0.2).sum()
        (gradient,) = tinygen.grad(score, x, create_graph=True)
        return ((gradient * gradient).sum(1).sqrt() - 1.0) ** 2

    gradcheck(penalty, [x, weight, gamma])


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 2, 4, 5)])
def test_closed_form_gradient_matches_the_composite_formula(shape):
    """The plain backward (fused, raw arrays) and the recorded one (tensor ops, for double backward) agree."""
    x = random_tensor(shape, seed=4)
    weight, bias = random_tensor((shape[1],), seed=5), random_tensor((shape[1],), seed=6)
    upstream = random_tensor(shape, seed=7, requires_grad=False)
    fused = tinygen.grad(train_norm(x, weight, bias), [x, weight, bias], upstream)
    composite = tinygen.grad(train_norm(x, weight, bias), [x, weight, bias], upstream, create_graph=True)
    for fast, recorded in zip(fused, composite):
        assert not fast.requires_grad
        assert_close(fast, recorded.detach(), rtol=1e-10, atol=1e-12)
    assert composite[0].requires_grad and composite[1].requires_grad  # (the bias gradient is g summed: constant)
    # and both equal the formula written out with NumPy
    axes = (0,) + tuple(range(2, len(shape)))
    values, g = host(x), host(upstream)
    xhat = (values - values.mean(axes, keepdims=True)) / np.sqrt(values.var(axes, keepdims=True) + 1e-5)
    count = values.size // shape[1]
    gamma_invstd = (host(weight) / np.sqrt(values.var(axes) + 1e-5)).reshape((1, -1) + (1,) * (len(shape) - 2))
    expected = gamma_invstd / count * (count * g - g.sum(axes, keepdims=True)
                                       - xhat * (g * xhat).sum(axes, keepdims=True))
    assert_close(fused[0], expected)
    assert_close(fused[1], (g * xhat).sum(axes))
    assert_close(fused[2], g.sum(axes))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 2, 4, 5)])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_fused_batch_norm_matches_the_reference(shape, affine, layout):
    """The fused forward and backward (in place, BLAS sums) against ``batch_norm_reference``, the definition in
    tensor ops differentiated by autograd: the same values and the same gradients for x, gamma and beta."""
    x = random_tensor(shape, seed=12)
    if layout == "transposed":  # a non-contiguous input: the reverse-shaped array, transposed
        x = random_tensor(shape[::-1], seed=12, requires_grad=False).permute(*reversed(range(len(shape))))
        x.requires_grad_()
    assert x.is_contiguous() is (layout == "contiguous")
    weight = random_tensor((shape[1],), seed=13, low=0.5, high=1.5) if affine[0] else None
    bias = random_tensor((shape[1],), seed=14) if affine[1] else None
    inputs = [tensor for tensor in (x, weight, bias) if tensor is not None]
    upstream = random_tensor(shape, seed=15, requires_grad=False)
    fast, reference = train_norm(x, weight, bias), batch_norm_reference(x, weight, bias)
    assert_close(fast, host(reference), rtol=1e-10, atol=1e-12)
    for ours, expected in zip(tinygen.grad(fast, inputs, upstream), tinygen.grad(reference, inputs, upstream)):
        assert_close(ours, host(expected), rtol=1e-9, atol=1e-11)


def test_parameter_gradients_when_the_input_needs_none():
    """The first batch norm of a discriminator sees data that needs no gradient: only gamma and beta get one."""
    x = random_tensor((4, 3, 2, 2), seed=8, requires_grad=False)
    weight, bias = random_tensor((3,), seed=9), random_tensor((3,), seed=10)
    upstream = random_tensor(x.shape, seed=11, requires_grad=False)
    alone = tinygen.grad(train_norm(x, weight, bias), [weight, bias], upstream)
    x_with_grad = x.detach().requires_grad_()
    with_input = tinygen.grad(train_norm(x_with_grad, weight, bias), [x_with_grad, weight, bias], upstream)
    for ours, expected in zip(alone, with_input[1:]):
        assert_close(ours, host(expected))


def test_constant_input_gives_finite_outputs_and_gradients():
    x = tinygen.full((4, 2, 3, 3), 7.0, requires_grad=True)
    layer = nn.BatchNorm2d(2)
    y = layer(x)
    assert_close(y.detach(), np.zeros((4, 2, 3, 3), dtype=np.float32))
    (y * random_tensor(y.shape, dtype=tinygen.float32, requires_grad=False)).sum().backward()
    for tensor in (x.grad, layer.weight.grad, layer.bias.grad):
        assert np.isfinite(host(tensor)).all()
    assert_close(layer.running_var, np.full(2, 0.9, dtype=np.float32))


def test_training_updates_running_stats_with_the_unbiased_variance():
    x = random_tensor((6, 3), seed=8, requires_grad=False)
    running_mean, running_var = tinygen.zeros(3, dtype=tinygen.float64), tinygen.ones(3, dtype=tinygen.float64)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.25)
    assert_close(running_mean, 0.25 * host(x).mean(0))
    assert_close(running_var, 0.75 + 0.25 * host(x).var(0, ddof=1))
    assert not running_mean.requires_grad


def test_evaluation_mode_uses_running_stats():
    x = random_tensor((4, 2, 3), seed=9, requires_grad=False)
    mean, var = tinygen.tensor([1.0, -2.0], dtype=tinygen.float64), tinygen.tensor([4.0, 0.25], dtype=tinygen.float64)
    weight, bias = tinygen.tensor([2.0, 3.0], dtype=tinygen.float64), tinygen.tensor([0.5, -1.0], dtype=tinygen.float64)
    y = F.batch_norm(x, mean, var, weight, bias, training=False)
    shaped = lambda v: host(v).reshape(1, 2, 1)  # noqa: E731
    assert_close(y, (host(x) - shaped(mean)) / np.sqrt(shaped(var) + 1e-5) * shaped(weight) + shaped(bias))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5), (0, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_evaluation_without_a_graph_agrees_with_the_recorded_path(shape, affine):
    """Where no graph is recorded, evaluation-mode batch norm scales and shifts the raw arrays in one pass
    (``_scale_and_shift_rows``): the values of the tensor ops it stands for, on a non-contiguous float32 input."""
    x = random_tensor(shape[::-1], seed=1, dtype=tinygen.float32, requires_grad=False).permute(*range(len(shape))[::-1])
    channels = (shape[1],)
    mean = random_tensor(channels, seed=2, dtype=tinygen.float32, requires_grad=False)
    var = random_tensor(channels, seed=3, low=0.5, high=2.0, dtype=tinygen.float32, requires_grad=False)
    weight, bias = [random_tensor(channels, seed=seed, dtype=tinygen.float32) if affine else None for seed in (4, 5)]
    recorded = F.batch_norm(x.detach().requires_grad_(), mean, var, weight, bias, training=False)
    with tinygen.no_grad():
        sampled = F.batch_norm(x, mean, var, weight, bias, training=False)
    assert recorded.grad_fn is not None and sampled.grad_fn is None
    assert (sampled.shape, sampled.dtype, sampled.device) == (x.shape, recorded.dtype, x.device)
    np.testing.assert_allclose(host(sampled), host(recorded.detach()), rtol=1e-6, atol=1e-6)


def test_errors_are_clear():
    x = tinygen.randn(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\), one value per channel"):
        F.batch_norm(x, tinygen.zeros(4), tinygen.ones(3), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\)"):
        F.batch_norm(x, None, None, tinygen.ones(2), training=True)
    with pytest.raises(TypeError, match="running_var has dtype float64 but the input has dtype float32"):
        F.batch_norm(x, tinygen.zeros(3), tinygen.ones(3, dtype=tinygen.float64))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training".lower()):
        F.batch_norm(tinygen.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="evaluation mode .* needs running_mean and running_var"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(3,\)"):
        F.batch_norm(tinygen.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 3 channels on dim 1 \(num_features\), got input of shape \(4, 5, 2, 2\)"):
        nn.BatchNorm2d(3)(tinygen.randn(4, 5, 2, 2))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input, got 4D input"):
        nn.BatchNorm1d(3)(x)
    with pytest.raises(ValueError, match="BatchNorm2d: expected 4D input, got 2D input"):
        nn.BatchNorm2d(3)(tinygen.randn(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tinygen.randn(1, 3))
    nn.BatchNorm1d(3).eval()(tinygen.randn(1, 3))  # one sample is fine in evaluation mode


def test_layer_state_and_modes():
    layer = nn.BatchNorm2d(4)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert layer.num_batches_tracked.dtype == tinygen.int64
    x = random_tensor((3, 4, 2, 2), seed=10, dtype=tinygen.float32, requires_grad=False)
    layer(x)
    layer(x)
    assert int(layer.num_batches_tracked) == 2
    stats = host(layer.running_mean).copy(), host(layer.running_var).copy()
    layer.eval()
    layer(x)
    assert int(layer.num_batches_tracked) == 2
    assert_close(layer.running_mean, stats[0])
    assert_close(layer.running_var, stats[1])
    assert repr(layer) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    layer.reset_running_stats()
    assert_close(layer.running_var, np.ones(4, dtype=np.float32))
    assert int(layer.num_batches_tracked) == 0


def test_without_affine_or_running_stats():
    bare = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bare.parameters()) == [] and list(bare.state_dict()) == []
    x = random_tensor((5, 3), seed=11, dtype=tinygen.float32, requires_grad=False)
    expected = (host(x) - host(x).mean(0)) / np.sqrt(host(x).var(0) + 1e-5)
    assert_close(bare(x), expected, rtol=1e-5, atol=1e-6)
    assert_close(bare.eval()(x), expected, rtol=1e-5, atol=1e-6)  # no running stats: batch stats in eval too
    scale_only = nn.BatchNorm2d(3, bias=False)
    assert [name for name, _ in scale_only.named_parameters()] == ["weight"] and scale_only.bias is None
    assert "affine=True, bias=False" in repr(scale_only)


@pytest.mark.torch
@pytest.mark.parametrize("layer_name, shape, momentum", [
    ("BatchNorm1d", (8, 5), 0.1),
    ("BatchNorm1d", (4, 5, 6), 0.3),
    ("BatchNorm2d", (4, 3, 5, 5), 0.1),
    ("BatchNorm2d", (2, 3, 4, 4), None),
])
def test_layers_match_torch_over_several_training_steps(layer_name, shape, momentum):
    torch = pytest.importorskip("torch")
    from torch_oracle import copy_parameters, to_torch

    ours, theirs = getattr(nn, layer_name)(shape[1], momentum=momentum), getattr(torch.nn, layer_name)(shape[1], momentum=momentum)
    with tinygen.no_grad():
        ours.weight.copy_(random_tensor((shape[1],), seed=12, dtype=tinygen.float32, requires_grad=False))
        ours.bias.copy_(random_tensor((shape[1],), seed=13, dtype=tinygen.float32, requires_grad=False))
    copy_parameters(ours, theirs)
    for step in range(4):
        x = random_tensor(shape, seed=20 + step, dtype=tinygen.float32, requires_grad=True)
        x.array *= 3.0
        x.array += float(step)
        upstream = random_tensor(shape, seed=30 + step, dtype=tinygen.float32, requires_grad=False)
        x_torch = to_torch(x, requires_grad=True)
        y, y_torch = ours(x), theirs(x_torch)
        y.backward(upstream)
        y_torch.backward(to_torch(upstream))
        assert_close(y.detach(), y_torch.detach().numpy(), rtol=1e-4, atol=1e-5)
        assert_close(x.grad, x_torch.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name in ("running_mean", "running_var"):
        assert_close(getattr(ours, name), getattr(theirs, name).numpy(), rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert_close(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-5)
    ours.eval(), theirs.eval()
    x = random_tensor(shape, seed=40, dtype=tinygen.float32, requires_grad=False)
    assert_close(ours(x), theirs(to_torch(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
