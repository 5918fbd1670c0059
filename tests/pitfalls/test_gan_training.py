"""GAN training pitfalls: gradients leaking between the two networks, a gradient penalty that does not train the
critic, initialization that is not applied (or not reproducible), and failures the logged metrics must show."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.losses import discriminator_loss, gradient_penalty
from tinygen.losses.gan import NORM_EPSILON
from tinygen.models import DCGANDiscriminator, DCGANGenerator, WGANCritic
from tinygen.random import Generator
from tinygen.testing import gradcheck
from tinygen.training import TrainConfig, build_recipe, train
from tinygen.training.diagnostics import diagnose
from tinygen.training.gan import GANRecipe

from helpers import host


def _arrays(tensors):
    return [None if tensor is None else host(tensor).copy() for tensor in tensors]


def _same(first, second):
    return all((a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
               for a, b in zip(first, second))


class _StepSpy:
    """Wraps both optimizers' ``step`` to snapshot, at each moment of a train step, what must not change:
    the generator's gradients during the discriminator's step, the discriminator's parameters and gradients
    from the end of its step through the generator's step."""

    def __init__(self, recipe, discriminator_name):
        self.generator = recipe.generator
        self.discriminator = recipe.networks()[discriminator_name]
        optimizers = recipe.optimizers()
        self.wrap(optimizers[discriminator_name], self.discriminator_step)
        self.wrap(optimizers["generator"], self.generator_step)
        self.events = []

    def wrap(self, optimizer, around):
        step = optimizer.step
        optimizer.step = lambda *args: around(step, *args)

    def snapshot(self, network, what):
        return _arrays(p.grad if what == "grad" else p for p in network.parameters())

    def discriminator_step(self, step, *args):
        self.events.append(("generator grads at D step", self.snapshot(self.generator, "grad")))
        result = step(*args)
        self.events.append(("D after its step", self.snapshot(self.discriminator, "value")))
        self.events.append(("D grads after its step", self.snapshot(self.discriminator, "grad")))
        return result

    def generator_step(self, step, *args):
        self.events.append(("D at G step", self.snapshot(self.discriminator, "value")))
        self.events.append(("D grads at G step", self.snapshot(self.discriminator, "grad")))
        return step(*args)


def _batch(model, size=8):
    if model == "toy":
        return tinygen.randn(size, 2)
    return tinygen.rand(size, 1, 28, 28) * 2.0 - 1.0


@pytest.mark.parametrize("model, discriminator_name", [
    ("toy", "discriminator"), ("gan", "discriminator"), ("dcgan", "discriminator"), ("wgan-gp", "critic"),
])
def test_the_d_step_sends_no_gradient_to_g_and_the_g_step_leaves_d_alone(model, discriminator_name, tmp_path):
    """Forget ``fake.detach()`` in the discriminator's step and D's loss backpropagates into G, adding a gradient
    that pushes G the wrong way (G would help D) to whatever G accumulates; step both networks with one
    optimizer, or skip freezing/zeroing D, and the generator's step moves D. Checked on the real recipes: during
    the D (critic) step G's gradients stay exactly as they were, and from the end of D's step through G's step
    D's parameters and gradients do not change."""
    tinygen.manual_seed(0)
    recipe = build_recipe(TrainConfig(model, batch_size=8, n_critic=1, latent_dim=4, out=str(tmp_path),
                                      progress=False))
    recipe.prepare(_batch(model))  # the DCGAN's clusters
    spy = _StepSpy(recipe, discriminator_name)
    for _ in range(2):
        before = spy.snapshot(recipe.generator, "grad")
        spy.events.clear()
        recipe.train_step(_batch(model))
        events = dict(spy.events)
        assert _same(events["generator grads at D step"], before)
        assert _same(events["D at G step"], events["D after its step"])
        assert _same(events["D grads at G step"], events["D grads after its step"])
        assert _same(spy.snapshot(spy.discriminator, "value"), events["D after its step"])


# --- the gradient penalty ---------------------------------------------------------------------------------

def _small_critic():
    tinygen.manual_seed(1)
    return WGANCritic(features=2).double()


def _images(seed, size=2):
    return tinygen.tensor(np.random.default_rng(seed).uniform(-1, 1, (size, 1, 28, 28)), dtype=tinygen.float64)


def test_the_gradient_penalty_is_taken_on_the_critics_raw_score():
    """WGAN-GP's penalty constrains the gradient of the critic's score, a raw number. Taking it on sigmoid(score)
    (a discriminator's probability, as code adapted from a standard GAN does) scales every gradient by
    sigmoid'(score) <= 1/4 and penalizes a different function. The critic has no sigmoid, and the penalty
    equals the one computed by hand from the raw score's input gradient."""
    critic = _small_critic()
    assert not any(isinstance(module, nn.Sigmoid) for module in critic.modules())
    real, fake = _images(2), _images(3)
    penalty = gradient_penalty(critic, real, fake, lambda_=10.0, generator=Generator(seed=4))

    eps = tinygen.rand((2, 1, 1, 1), generator=Generator(seed=4), dtype=tinygen.float64)
    x_hat = (eps * real + (1.0 - eps) * fake).requires_grad_()
    (gradient,) = tinygen.grad(critic(x_hat).sum(), [x_hat])
    norms = np.sqrt((host(gradient) ** 2).reshape(2, -1).sum(1) + NORM_EPSILON)
    assert penalty.item() == pytest.approx(10.0 * np.mean((norms - 1.0) ** 2), rel=1e-9)
    (squashed,) = tinygen.grad(critic(x_hat).sigmoid().sum(), [x_hat])
    squashed_norms = np.sqrt((host(squashed) ** 2).reshape(2, -1).sum(1))
    assert not np.allclose(squashed_norms, norms, rtol=0.1)


def test_the_gradient_penalty_keeps_its_graph_and_trains_the_critic():
    """Without create_graph=True the input gradient inside the penalty is a constant: the penalty has a value but
    no gradient with respect to the critic's weights, so the critic is never constrained (and logs look normal).
    tinygen's penalty adds to every critic weight's gradient, and that gradient matches finite differences."""
    critic = _small_critic()
    real, fake = _images(5), _images(6)

    def parameter_gradients(with_penalty):
        critic.zero_grad()
        loss = discriminator_loss(critic(real), critic(fake), "wasserstein")
        if with_penalty:
            loss = loss + gradient_penalty(critic, real, fake, generator=Generator(seed=7))
        loss.backward()
        return {name: host(p.grad).copy() for name, p in critic.named_parameters()}

    plain, penalized = parameter_gradients(False), parameter_gradients(True)
    # The weights only: in a piecewise-linear critic (LeakyReLU) a bias merely moves the kinks, so the input
    # gradient, and with it the penalty, does not depend on the biases.
    weights = [name for name in plain if name.endswith("weight")]
    assert len(weights) == 3
    for name in weights:
        assert np.abs(penalized[name] - plain[name]).max() > 1e-6, name

    first_layer = critic.net[0]
    weight = first_layer.weight.detach().clone().requires_grad_()

    def penalty_of(weight):
        first_layer._parameters["weight"] = weight   # the critic computes with the weight under test
        return gradient_penalty(critic, real, fake, generator=Generator(seed=7))

    gradcheck(penalty_of, [weight], check_noncontiguous=False)


def test_the_default_critics_layer_norm_keeps_the_penalty_per_sample_and_its_gradient_exact():
    """The default WGAN-GP critic has a layer norm where D has batch norm. Batch norm would make each sample's score
    depend on the rest of the batch, and the penalty on each sample's input gradient meaningless; a layer norm
    normalizes each sample on its own: a sample scores the same alone as in a batch. The penalty's gradient with
    respect to the layer norm's scale and the first convolution's weight (a second derivative through the layer
    norm) matches finite differences."""
    tinygen.manual_seed(1)
    critic = WGANCritic(features=2, layer_norm=True).double()
    norms = [module for module in critic.modules() if isinstance(module, nn.LayerNorm)]
    assert len(norms) == 1 and tuple(norms[0].normalized_shape) == (4, 7, 7)
    assert not any(isinstance(module, nn.LayerNorm) for module in WGANCritic(features=2).modules())
    for bad in ("layer", 1, None):  # a truthy string must not quietly mean True
        with pytest.raises(TypeError, match=rf"^WGANCritic: layer_norm must be True or False, got {bad!r}$"):
            WGANCritic(features=2, layer_norm=bad)
    batch = _images(8, size=3)
    alone = np.concatenate([host(critic(batch[i:i + 1])) for i in range(3)])
    np.testing.assert_allclose(host(critic(batch)), alone, rtol=1e-12)

    real, fake = _images(9), _images(10)
    with tinygen.no_grad():
        norms[0].weight.copy_(tinygen.rand(4, 7, 7, dtype=tinygen.float64) + 0.5)  # not all ones: a real scale
    for layer, name in ((norms[0], "weight"), (critic.net[0], "weight")):
        parameter = getattr(layer, name).detach().clone().requires_grad_()

        def penalty_of(value, layer=layer, name=name):
            layer._parameters[name] = value   # the critic computes with the parameter under test
            return gradient_penalty(critic, real, fake, generator=Generator(seed=11))

        gradcheck(penalty_of, [parameter], check_noncontiguous=False)


# --- initialization ----------------------------------------------------------------------------------------

def test_dcgan_init_reaches_every_linear_and_transposed_convolution_of_the_generator():
    """PyTorch's DCGAN example initializes Conv* and BatchNorm* layers only, so a generator that starts with a
    Linear projection (this one: 100 -> 128*7*7) keeps the default init in its largest layer. The paper draws
    all weights from N(0, 0.02^2): tinygen's helper covers Linear too, and the generator applies it."""
    tinygen.manual_seed(2)
    generator = DCGANGenerator()
    for layer in generator.modules():
        if isinstance(layer, (nn.Linear, nn.ConvTranspose2d)):
            values = host(layer.weight)
            assert abs(values.mean()) < 3 * 0.02 / np.sqrt(values.size) + 1e-4, type(layer).__name__
            # a sample std of n draws is off by about 1 / sqrt(2 n) relative: allow 4 of those
            assert values.std() == pytest.approx(0.02, rel=4 / np.sqrt(2 * values.size)), type(layer).__name__
        elif isinstance(layer, nn.BatchNorm2d) or isinstance(layer, nn.BatchNorm1d):
            assert host(layer.weight).std() == pytest.approx(0.02, rel=0.3) and not host(layer.bias).any()


def test_reinitializing_with_a_seed_is_reproducible():
    """Initialization drawn from a global generator that something else also draws from gives a different model
    each time: runs cannot be repeated and a bug cannot be bisected. A seed (tinygen.manual_seed, or a Generator
    passed to the helper) makes construction and re-initialization repeatable."""
    states = []
    for seed in (3, 3, 4):
        tinygen.manual_seed(seed)
        states.append({name: host(p).copy() for name, p in DCGANDiscriminator().named_parameters()})
    assert all(np.array_equal(states[0][name], states[1][name]) for name in states[0])
    assert not np.array_equal(states[0]["net.0.weight"], states[2]["net.0.weight"])

    model = DCGANGenerator(latent_dim=8, features=4)
    again = []
    for _ in range(2):
        nn.init.dcgan_init_(model, generator=Generator(seed=5))
        again.append([host(p).copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*again))


def test_dcgan_init_leaves_containers_named_like_convolutions_to_their_layers():
    """PyTorch's DCGAN example picks layers with ``classname.find('Conv') != -1``, so a user's block called
    ConvBlock is taken for a convolution and the init fails on its missing ``weight``. tinygen matches Conv*
    classes that own a weight: the block is skipped and the convolution inside it is initialized."""
    class ConvBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 64, 3)
            self.norm = nn.BatchNorm2d(64)

        def forward(self, x):
            return self.norm(self.conv(x)).relu()

    model = nn.Sequential(ConvBlock(), nn.Flatten())
    nn.init.dcgan_init_(model, generator=Generator(seed=6))
    assert host(model[0].conv.weight).std() == pytest.approx(0.02, rel=0.1)
    assert not host(model[0].conv.bias).any()


# --- failures the metrics must show --------------------------------------------------------------------------

def _quiet_toy_run(tmp_path, lines):
    return train(TrainConfig("toy", epochs=2, subset=2048, eval_size=200, progress=False, out=str(tmp_path)),
                 log=lines.append)


def test_a_discriminator_that_wins_shows_in_the_logged_metrics(tmp_path, monkeypatch):
    """When D wins, loss_d falls towards 0, which reads like progress; the generator meanwhile learns nothing.
    The history shows it plainly (d_accuracy -> 1, d_fake -> 0) and the loop says so in a warning. Provoked here
    by freezing G (learning rate 0) and giving D a large one."""
    make = GANRecipe.__init__

    def strong_discriminator(recipe, config):
        make(recipe, config)
        recipe.generator_optimizer.param_groups[0]["lr"] = 0.0
        recipe.discriminator_optimizer.param_groups[0]["lr"] = 1e-2

    monkeypatch.setattr(GANRecipe, "__init__", strong_discriminator)
    lines = []
    history = _quiet_toy_run(tmp_path, lines)
    last = history[-1]
    assert last["d_accuracy"] > 0.99 and last["loss_d"] < 0.05 and last["d_fake"] < 0.05
    assert any("discriminator wins" in warning for warning in last["warnings"])
    assert any("warning: the discriminator wins" in line for line in lines)


class _ConstantGenerator(nn.Module):
    """A collapsed generator: one learnable point, whatever z is (it starts on a mode of the ring)."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 2
        self.point = nn.Parameter(tinygen.tensor([[2.0, 0.0]]))

    def forward(self, z):
        return self.point.expand(z.shape[0], 2)


def test_a_collapsed_generator_shows_in_the_logged_metrics(tmp_path, monkeypatch):
    """A generator that ignores z produces perfect-looking samples of one mode: sample quality is high and the
    losses are unremarkable. Mode coverage drops to 1 of 8, and the loop warns of mode collapse."""
    make = GANRecipe.__init__

    def collapsed(recipe, config):
        make(recipe, config)
        recipe.generator = _ConstantGenerator()
        recipe.generator_optimizer = recipe.adam(recipe.generator)

    monkeypatch.setattr(GANRecipe, "__init__", collapsed)
    lines = []
    history = _quiet_toy_run(tmp_path, lines)
    assert [entry["modes_covered"] for entry in history] == [1, 1]
    assert history[-1]["high_quality"] > 0.9
    assert any("mode collapse" in warning for warning in history[-1]["warnings"])


def test_the_judge_sees_a_collapsed_image_generator():
    """For images the judge classifier counts the digit classes among the samples: one digit repeated covers 1 of
    10 classes (real digits cover all 10), and diagnose() calls it mode collapse."""
    from tinygen.data import ScalePixels, load_mnist
    from tinygen.metrics import judge_report, load_judge

    images, _ = load_mnist()
    images = ScalePixels(-1.0, 1.0)(images)
    real, held_out = images[:300], images[-300:]
    judge = load_judge()
    one_digit = real[:1].expand(300, 1, 28, 28)
    collapsed, healthy = judge_report(judge, one_digit, held_out), judge_report(judge, real, held_out)
    assert collapsed["classes_covered"] == 1 and healthy["classes_covered"] == 10
    assert collapsed["frechet_distance"] > 10 * healthy["frechet_distance"]
    assert any(warning.startswith("mode collapse") for warning in diagnose(collapsed))
    assert diagnose(healthy) == []
