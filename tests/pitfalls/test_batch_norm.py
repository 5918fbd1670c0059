"""Batch-norm pitfalls: gradient tests that cannot fail, variance 0, and train vs eval mode when sampling."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.models import DCGANGenerator
from tinygen.testing import GradcheckError, gradcheck

from helpers import host, random_tensor

F = nn.functional


def _linear_norm_tanh(x, weight, gamma, norm=None):
    """Linear -> batch norm -> tanh: batch norm in the middle, its input gradient feeding the Linear's."""
    hidden = F.linear(x, weight)
    normalized = F.batch_norm(hidden, None, None, gamma, None, training=True) if norm is None else norm(hidden, gamma)
    return normalized.tanh()


class _NormWithoutVarianceTerm(tinygen.Function):
    """A plausible wrong batch norm: dL/dx = gamma invstd (g - mean g), forgetting the - xhat mean(g xhat) term
    (the variance depends on x too). Its gamma gradient, sum(g xhat), is right."""

    def forward(self, x, gamma):
        xp = self.backend.xp
        self.invstd = 1.0 / xp.sqrt(x.var(axis=0) + 1e-5)
        self.xhat, self.gamma = (x - x.mean(axis=0)) * self.invstd, gamma
        return self.xhat * gamma

    def backward(self, g):
        constant = lambda array: tinygen.Tensor._make(array, g.backend)  # noqa: E731
        grad_x = (g - g.mean(0)) * constant(self.invstd * self.gamma)
        return grad_x, (g * constant(self.xhat)).sum(0)


def _wrong(hidden, gamma):
    return _NormWithoutVarianceTerm()(hidden, gamma)


def test_a_batch_norm_gradient_check_needs_bn_inside_the_network_and_a_random_upstream_gradient():
    """Two checks that cannot catch a wrong batch-norm input gradient. (1) loss = sum(BN(x)): BN's output sums
    to beta per channel whatever x is, so the true input gradient is 0, and a backward that forgets the variance
    term also gives 0. (2) A model-level check of the parameters with BN as the first layer: nothing flows into
    BN's input, so its input gradient is never used. With BN after a Linear and before a tanh, and a random
    upstream gradient (as tinygen's gradcheck draws), the same wrong backward fails and tinygen's passes."""
    x, weight = random_tensor((6, 3), seed=1), random_tensor((4, 3), seed=2)
    gamma = random_tensor((4,), seed=3, low=0.5, high=1.5)

    (wrong_gradient,) = tinygen.grad(_wrong(x, gamma[:3]).sum(), [x])
    (true_gradient,) = tinygen.grad(F.batch_norm(x, None, None, gamma[:3], None, training=True).sum(), [x])
    np.testing.assert_allclose(host(wrong_gradient), host(true_gradient), atol=1e-12)   # (1): both ~0

    data = x.detach()
    gradcheck(lambda gamma: _wrong(data, gamma).tanh(), [gamma[:3].detach().requires_grad_()])   # (2) passes

    gradcheck(lambda x, weight: _linear_norm_tanh(x, weight, gamma), [x, weight])
    with pytest.raises(GradcheckError, match="gradient mismatch"):
        gradcheck(lambda x, weight: _linear_norm_tanh(x, weight, gamma, norm=_wrong), [x, weight])


def test_batch_norm_input_gradient_matches_the_closed_form_inside_a_network():
    """The closed form dL/dx = gamma invstd / M (M g - sum g - xhat sum(g xhat)), written out in NumPy, against
    the gradient that reaches batch norm's input in Linear -> BN -> tanh under a random upstream gradient."""
    x, weight = random_tensor((8, 3), seed=4), random_tensor((5, 3), seed=5)
    gamma = random_tensor((5,), seed=6, low=0.5, high=1.5)
    hidden = F.linear(x, weight)
    hidden.retain_grad()
    normalized = F.batch_norm(hidden, None, None, gamma, None, training=True)
    normalized.retain_grad()
    upstream = random_tensor((8, 5), seed=7, requires_grad=False)
    normalized.tanh().backward(upstream)

    h, g = host(hidden), host(normalized.grad)
    invstd = 1.0 / np.sqrt(h.var(0) + 1e-5)
    xhat = (h - h.mean(0)) * invstd
    expected = host(gamma) * invstd / 8 * (8 * g - g.sum(0) - xhat * (g * xhat).sum(0))
    np.testing.assert_allclose(host(hidden.grad), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(x.grad), expected @ host(weight), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d(3), (5, 3)), (nn.BatchNorm2d(3), (4, 3, 2, 2))],
                         ids=["1d", "2d"])
def test_constant_input_gives_finite_outputs_gradients_and_updates(layer, shape):
    """With variance 0, (x - mean) / sqrt(var) is 0/0: an engine without eps, or with eps added outside the square
    root, gives NaN, and the NaN reaches every weight at the next step. A generator whose input to batch norm
    is constant (a dead layer, a constant noise vector) must stay finite, also through an optimizer step."""
    tinygen.manual_seed(8)
    model = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape[1:])), int(np.prod(shape[1:]))),
                          nn.Unflatten(1, shape[1:]), layer, nn.Tanh())
    optimizer = tinygen.optim.Adam(model.parameters(), lr=0.1)
    constant = tinygen.full(shape, 3.0)
    for _ in range(2):
        out = model(constant)
        optimizer.zero_grad()
        (out * tinygen.randn(*shape)).sum().backward()
        optimizer.step()
        assert np.isfinite(host(out)).all()
        for parameter in model.parameters():
            assert np.isfinite(host(parameter.grad)).all() and np.isfinite(host(parameter)).all()


def test_running_statistics_change_only_in_training_mode():
    """Evaluation must not move the running statistics, or scoring a model changes it. And no_grad() is not eval
    mode: sampling under no_grad() with the layer in training mode still updates them (as in PyTorch), which is
    why tinygen's recipes sample under ``evaluation_mode`` (eval() and no_grad() together)."""
    layer = nn.BatchNorm1d(3)
    x = random_tensor((6, 3), seed=9, dtype=tinygen.float32, requires_grad=False)

    def state():
        return host(layer.running_mean).copy(), host(layer.running_var).copy(), int(layer.num_batches_tracked.item())

    initial = state()
    layer.eval()
    layer(x)
    assert all(np.array_equal(a, b) for a, b in zip(state(), initial))
    layer.train()
    with tinygen.no_grad():
        layer(x)
    trained = state()
    assert not np.array_equal(trained[0], initial[0]) and trained[2] == 1


def _trained_generator():
    """A small DCGAN generator after a few training-mode passes, so its running statistics are not the defaults."""
    tinygen.manual_seed(10)
    generator = DCGANGenerator(latent_dim=8, features=4)
    optimizer = tinygen.optim.Adam(generator.parameters(), lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        generator(tinygen.randn(16, 8) * 2.0 + 1.0).mean().backward()
        optimizer.step()
    return generator


def test_a_generator_sampled_in_eval_mode_uses_the_running_statistics():
    """In training mode a batch-norm generator normalizes each batch by its own statistics: samples from a
    handful of noise vectors come out rescaled to the batch, and a batch of one fails (no variance to use).
    In eval mode the running statistics estimated during training are used; that is what a trained generator's
    samples are."""
    generator = _trained_generator().eval()
    z = tinygen.randn(4, 8)
    with tinygen.no_grad():
        images = generator(z)
        linear, norm = generator.net[0], generator.net[1]
        by_hand = F.batch_norm(linear(z), norm.running_mean, norm.running_var, norm.weight, norm.bias, training=False)
        np.testing.assert_allclose(host(generator.net[:2](z)), host(by_hand), rtol=1e-5, atol=1e-6)
        generator.train()
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            generator(z[:1])
        in_training_mode = generator(z)
    assert not np.allclose(host(in_training_mode), host(images), atol=1e-3)


def test_in_eval_mode_a_sample_does_not_depend_on_the_rest_of_its_batch():
    """In training mode a sample's output depends on which other samples share its batch (batch statistics), so
    a sample grid and a single sample from the same z disagree. In eval mode each output is a function of its
    own z only."""
    generator = _trained_generator()
    z = tinygen.randn(6, 8)
    with tinygen.no_grad():
        generator.eval()
        alone, in_batch = generator(z[:1]), generator(z)[:1]
        other_batch = generator(tinygen.cat([z[:1], tinygen.randn(5, 8) * 3.0]))[:1]
        np.testing.assert_allclose(host(alone), host(in_batch), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(host(alone), host(other_batch), rtol=1e-5, atol=1e-6)
        generator.train()
        first, second = generator(z[:2])[:1], generator(tinygen.cat([z[:1], z[2:3] * 3.0]))[:1]
    assert not np.allclose(host(first), host(second), atol=1e-3)


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp", "vae", "toy"])
def test_every_recipe_and_the_sample_command_generate_in_eval_mode(model, tmp_path, monkeypatch):
    """``Recipe.generate`` (used for the per-epoch grids, the judge's scores, and ``tinygen sample``) runs every
    network in eval mode without a graph, and puts the training modes back afterwards."""
    from tinygen.cli import main
    from tinygen.training import TrainConfig, build_recipe, save_checkpoint

    seen = []
    original_call = nn.Module.__call__

    def recording_call(module, *args, **kwargs):
        seen.append((type(module).__name__, module.training, tinygen.is_grad_enabled()))
        return original_call(module, *args, **kwargs)

    config = TrainConfig(model, out=str(tmp_path), progress=False, latent_dim=4)
    recipe = build_recipe(config)
    monkeypatch.setattr(nn.Module, "__call__", recording_call)
    recipe.generate(tinygen.randn(3, 4))
    assert seen and all(not training and not grad for _, training, grad in seen), seen
    assert all(net.training for net in recipe.networks().values())

    save_checkpoint(tmp_path / "checkpoint.npz", config, recipe, 0, [])
    seen.clear()
    assert main(["sample", str(tmp_path / "checkpoint.npz"), "--out", str(tmp_path / "grid.png"), "--n", "4"]) == 0
    assert seen and all(not training and not grad for _, training, grad in seen)
