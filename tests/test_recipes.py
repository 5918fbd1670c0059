"""Recipes: the seed recipes stay available beside the defaults, checkpoints say which recipe they hold (older ones
load as the seed recipe's), the defaults sample from the average of G, and the convolutional VAE's ELBO."""
import dataclasses

import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.cli import main
from tinygen.data import ScalePixels, load_mnist
from tinygen.losses import elbo
from tinygen.models import VAE, ConvVAE, DCGANDiscriminator
from tinygen.serialization import load, save
from tinygen.training import DEFAULTS, SEED_DEFAULTS, TrainConfig, build_recipe, save_checkpoint, train

from helpers import host


def quiet(**options):
    return TrainConfig(progress=False, **dict(dict(eval_size=200), **options))


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp", "vae", "toy"])
def test_the_seed_recipe_is_the_first_release(model, tmp_path):
    """``recipe="seed"`` builds the first release's networks with its settings, and samples from G itself."""
    config = quiet(model=model, recipe="seed", out=str(tmp_path))
    assert {name: getattr(config, name) for name in SEED_DEFAULTS[model]} == dict(SEED_DEFAULTS[model])
    recipe = build_recipe(config)
    assert "average_generator" not in recipe.networks()
    if model == "dcgan":
        assert isinstance(recipe.discriminator, DCGANDiscriminator)


@pytest.mark.parametrize("model", ["gan", "dcgan"])
def test_the_default_gans_normalize_every_layer_of_d_and_train_it_with_the_hinge_loss(model, tmp_path):
    """Every Linear and Conv2d of the default D is spectrally normalized (it has ``weight_orig``), there is no
    batch norm in D; the DCGAN's D learns at twice G's rate on shifted images and reads each image's cluster (its
    projection's embedding is normalized too), the MLP GAN's G has batch norm."""
    recipe = build_recipe(quiet(model=model, out=str(tmp_path)))
    layers = [module for module in recipe.discriminator.modules() if isinstance(module, (nn.Linear, nn.Conv2d))]
    assert len(layers) == (4 if model == "dcgan" else 3) and all(hasattr(layer, "weight_orig") for layer in layers)
    assert not any(isinstance(module, nn.BatchNorm2d) for module in recipe.discriminator.modules())
    assert recipe.setup.loss == "hinge"
    g_lr, d_lr = (optimizer.param_groups[0]["lr"] for optimizer in recipe.optimizers().values())
    if model == "dcgan":
        assert d_lr == 2 * g_lr and recipe.setup.augment_shift == 2
        g_widths = [layer.out_channels for layer in recipe.generator.modules() if isinstance(layer, nn.ConvTranspose2d)]
        assert layers[0].out_channels == 32 and g_widths == [64, 1]  # D at half G's width
    else:
        assert any(isinstance(module, nn.BatchNorm1d) for module in recipe.generator.modules())


def test_only_a_discriminator_without_batch_norm_sees_real_and_fake_in_one_pass(tmp_path):
    """A joint pass gives D's logits for real and fake in one batch: with batch norm in D the batch statistics
    would mix them, so every recipe that asks for it has a D without batch norm; for such a D it gives the two
    passes' logits."""
    from tinygen.models import MLPDiscriminator
    from tinygen.training.gan import SETUPS

    joint = [key for key, setup in SETUPS.items() if setup.joint_pass]
    assert sorted(joint) == [("dcgan", "default"), ("gan", "default")]
    for key in joint:
        discriminator = SETUPS[key].make_discriminator()
        assert not any(isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) for module in discriminator.modules())
    recipe = build_recipe(quiet(model="gan", out=str(tmp_path)))
    recipe.discriminator = MLPDiscriminator().to(tinygen.float64)  # no spectral norm: no power iteration per pass
    real, fake = tinygen.rand(4, 1, 28, 28, dtype=tinygen.float64), tinygen.rand(3, 1, 28, 28, dtype=tinygen.float64)
    together = recipe.discriminate(real, fake)
    recipe.setup = dataclasses.replace(recipe.setup, joint_pass=False)
    apart = recipe.discriminate(real, fake)
    for one, two in zip(together, apart):
        assert one.shape == two.shape
        np.testing.assert_allclose(host(one), host(two), rtol=1e-12)


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp"])
def test_the_default_gans_sample_from_the_average_of_g(model, tmp_path):
    recipe = build_recipe(quiet(model=model, out=str(tmp_path)))
    z = tinygen.randn(3, recipe.latent_dim)
    before = host(recipe.generate(z))
    with tinygen.no_grad():
        for parameter in recipe.generator.parameters():
            parameter.mul_(0.5)
    np.testing.assert_array_equal(host(recipe.generate(z)), before)  # G moved, its average did not yet
    recipe.average.update()
    assert not np.array_equal(host(recipe.generate(z)), before)


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp"])
def test_a_training_step_moves_the_average_of_g_by_the_configured_decay(model, tmp_path):
    """After G's step the average becomes d a + (1 - d) p, with d the run's ``average_decay`` once the warm-up
    (1 + t) / (10 + t) is above it (at t = 100 updates: 0.918 > 0.5)."""
    recipe = build_recipe(quiet(model=model, latent_dim=4, batch_size=8, average_decay=0.5, out=str(tmp_path)))
    recipe.prepare(tinygen.rand(8, 1, 28, 28) * 2 - 1)  # the DCGAN's clusters
    recipe.average.num_updates = 100
    before = [host(parameter).copy() for parameter in recipe.average_generator.parameters()]
    recipe.train_step(tinygen.rand(8, 1, 28, 28) * 2 - 1)
    after = [host(parameter) for parameter in recipe.generator.parameters()]
    for averaged, old, new in zip(recipe.average_generator.parameters(), before, after):
        np.testing.assert_allclose(host(averaged), 0.5 * old + 0.5 * new, rtol=1e-5, atol=1e-7)
    assert recipe.average.num_updates == 101


def test_at_the_end_of_an_epoch_the_averaged_generators_batch_norms_measure_its_own_activations(tmp_path):
    """``evaluate`` sets each batch norm of the average of G to the statistics of the activations that reach it
    on the fixed noise (``STATISTICS_BATCHES`` batches from the run's seed), not the training G's copied ones;
    sampling then reads them in eval mode."""
    from tinygen.training.adversarial import STATISTICS_BATCH_SIZE, STATISTICS_BATCHES

    config = quiet(model="dcgan", latent_dim=4, seed=5, clusters=0, out=str(tmp_path))  # G's net reads z itself
    recipe = build_recipe(config)
    for _ in range(2):
        recipe.train_step(tinygen.rand(8, 1, 28, 28) * 2 - 1)
    first_norm = recipe.average_generator.net[1]
    copied = host(first_norm.running_mean).copy()
    assert recipe.evaluate(None) == {}
    draws = tinygen.random.Generator(seed=5)
    noise = [tinygen.randn(STATISTICS_BATCH_SIZE, 4, generator=draws) for _ in range(STATISTICS_BATCHES)]
    with tinygen.no_grad():
        expected = np.mean([host(recipe.average_generator.net[0](z)).mean(axis=0) for z in noise], axis=0)
    np.testing.assert_allclose(host(first_norm.running_mean), expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(copied, expected, atol=1e-3)
    assert recipe.average_generator.training


def test_every_model_has_default_settings():
    for model, defaults in DEFAULTS.items():
        config = quiet(model=model)
        assert {name: getattr(config, name) for name in defaults} == dict(defaults)


def test_a_new_model_has_no_seed_recipe():
    with pytest.raises(ValueError, match="conv-vae is new since the seed recipes: it has only the default recipe"):
        quiet(model="conv-vae", recipe="seed")
    with pytest.raises(ValueError, match="unknown recipe 'best': choose one of default, seed"):
        quiet(model="dcgan", recipe="best")


def _checkpoint_from_before_recipes(path):
    """A checkpoint as the first release wrote it: a seed-recipe run whose config has no "recipe"."""
    config = quiet(model="gan", recipe="seed", latent_dim=4, out=str(path.parent))
    save_checkpoint(path, config, build_recipe(config), 1, [{"epoch": 1, "loss_d": 1.0}])
    checkpoint = load(str(path))
    del checkpoint["config"]["recipe"]
    save(checkpoint, str(path))


def test_a_checkpoint_from_before_recipes_is_a_seed_run(tmp_path, capsys):
    path = tmp_path / "checkpoint.npz"
    _checkpoint_from_before_recipes(path)
    assert main(["sample", str(path), "--out", str(tmp_path / "grid.png"), "--n", "4"]) == 0
    assert (tmp_path / "grid.png").exists()
    options = ["train", "gan", "--latent-dim", "4", "--epochs", "2", "--out", str(tmp_path), "--no-progress"]
    assert main(options + ["--resume"]) == 2
    assert "recipe 'default' here, 'seed' in the checkpoint" in capsys.readouterr().err


def _checkpoint_of_an_older_default(path, model, **saved):
    """A default-recipe checkpoint as tinygen wrote it before ``discriminator_features``, ``lr_decay``,
    ``average_decay``, ``augment_shift``, ``activation``, ``critic_norm``, ``decoder`` and ``clusters`` were
    settings: ``saved`` are the settings that run had (then the defaults), and its config names none of the eight."""
    config = quiet(model=model, epochs=1, subset=64, eval_size=1000, out=str(path.parent), **saved)  # the CLI's
    save_checkpoint(path, config, build_recipe(config), 1, [{"epoch": 1, "loss": 1.0}])
    checkpoint = load(str(path))
    for name in ("discriminator_features", "lr_decay", "average_decay", "augment_shift", "activation", "critic_norm",
                 "decoder", "clusters"):
        del checkpoint["config"][name]
    save(checkpoint, str(path))


def _samples_but_resumes_only_as_it_was(path, resume_options, capsys):
    """An older checkpoint draws samples as it is; resumed with today's defaults (``resume_options``) it is refused,
    exit status 2: the error line, which names every setting that differs."""
    assert main(["sample", str(path), "--out", str(path.parent / "grid.png"), "--n", "4"]) == 0
    capsys.readouterr()
    assert main(resume_options) == 2
    return capsys.readouterr().err


@pytest.mark.slow
def test_a_dcgan_checkpoint_from_before_the_width_setting_has_a_d_of_64_features(tmp_path, capsys):
    """Every DCGAN's D had 64 features before its width was a setting, its average of G kept 0.999 and it had no
    clusters: such a checkpoint still samples, and a resume under today's defaults (32, 0.99, 80) is refused by
    name, not run with a D of another shape, another average or other networks."""
    path = tmp_path / "checkpoint.npz"
    _checkpoint_of_an_older_default(path, "dcgan", lr=2e-4, betas=(0.5, 0.999), discriminator_features=64, latent_dim=4,
                                    batch_size=8, average_decay=0.999, clusters=0)
    config = TrainConfig.from_dict(load(str(path))["config"])
    assert (config.recipe, config.discriminator_features, config.lr_decay, config.clusters) == ("default", 64, 0.0, 0)
    assert config.average_decay == 0.999
    options = ["train", "dcgan", "--latent-dim", "4", "--batch-size", "8", "--subset", "64", "--epochs", "2",
               "--out", str(tmp_path), "--no-progress", "--resume"]
    error = _samples_but_resumes_only_as_it_was(path, options, capsys)
    assert "lr 0.0003 here, 0.0002 in the checkpoint" in error
    assert "discriminator_features 32 here, 64 in the checkpoint" in error
    assert "betas [0.0, 0.9] here, [0.5, 0.999] in the checkpoint" in error
    assert "average_decay 0.99 here, 0.999 in the checkpoint" in error
    assert f"clusters {DEFAULTS['dcgan']['clusters']} here, 0 in the checkpoint" in error
    assert main(options + ["--lr", "2e-4", "--betas", "0.5", "0.999", "--discriminator-features", "64",
                           "--average-decay", "0.999", "--clusters", "0"]) == 0
    resumed = load(str(path))
    assert resumed["epochs_done"] == 2
    assert resumed["config"]["average_decay"] == resumed["state"]["average"]["decay"] == 0.999


@pytest.mark.parametrize("model, recipe, decay", [("gan", "default", 0.999), ("dcgan", "default", 0.999),
                                                  ("wgan-gp", "default", 0.999), ("dcgan", "seed", None),
                                                  ("vae", "default", None)])
def test_a_checkpoint_from_before_the_decay_setting_averaged_g_at_0_999(model, recipe, decay, tmp_path):
    """Every default GAN's average of G kept 0.999 per update before its decay was a setting; the seed recipes and
    the VAE kept no average."""
    config = quiet(model=model, recipe=recipe, latent_dim=4, out=str(tmp_path)).to_dict()
    del config["average_decay"]
    config = TrainConfig.from_dict(config)
    assert config.average_decay == decay
    average = getattr(build_recipe(config), "average", None)
    assert (None if average is None else average.decay) == decay


def _hidden_activations(vae):
    """The classes of a VAE's ReLU and SiLU layers, in order."""
    return [type(layer) for layer in vae.modules() if type(layer) in (nn.ReLU, nn.SiLU)]


def test_a_vae_checkpoint_from_before_the_decay_setting_kept_a_constant_learning_rate(tmp_path, capsys):
    """A VAE run from before these settings kept its learning rate, trained on unshifted digits and had ReLU hidden
    layers: its checkpoint samples with them, and resumes once the settings are given as they were."""
    path = tmp_path / "checkpoint.npz"
    _checkpoint_of_an_older_default(path, "vae", lr=1e-3, latent_dim=16, lr_decay=0.0, batch_size=32, augment_shift=0,
                                    activation="relu")
    config = TrainConfig.from_dict(load(str(path))["config"])
    assert (config.lr_decay, config.augment_shift, config.activation) == (0.0, 0, "relu")
    assert _hidden_activations(build_recipe(config).vae) == [nn.ReLU, nn.ReLU]
    options = ["train", "vae", "--latent-dim", "16", "--lr", "1e-3", "--batch-size", "32", "--subset", "64",
               "--epochs", "2", "--out", str(tmp_path), "--no-progress", "--resume"]
    error = _samples_but_resumes_only_as_it_was(path, options, capsys)
    assert "lr_decay 0.5 here, 0.0 in the checkpoint" in error
    assert "augment_shift 1 here, 0 in the checkpoint" in error
    assert "activation 'silu' here, 'relu' in the checkpoint" in error
    assert main(options + ["--lr-decay", "0", "--augment-shift", "0", "--activation", "relu"]) == 0
    assert [load(str(path))["config"][name] for name in ("augment_shift", "activation")] == [0, "relu"]


def _a_named_choice_is_checked(name, family, choices, bad_values, other_family, tmp_path, capsys):
    """What a setting that names one of ``choices`` must refuse, each in one line: a name it does not know, the
    setting given to a family that does not have it, and both from the command line (exit status 2)."""
    listed = ", ".join(map(repr, choices))
    for bad in bad_values:
        with pytest.raises(ValueError, match=rf"^{name} must be one of {listed}, got {bad!r}$"):
            quiet(model=family, **{name: bad})
    with pytest.raises(ValueError, match=rf"^{name} is a setting of {family} only, not of {other_family} "
                                         rf"\(got {choices[0]!r}\)$"):
        quiet(model=other_family, **{name: choices[0]})
    flag = "--" + name.replace("_", "-")
    for options in ([family, flag, bad_values[0]], [other_family, flag, choices[0]]):
        assert main(["train", *options, "--out", str(tmp_path), "--no-progress"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and name in error


def test_the_activation_is_a_checked_setting_of_the_mlp_vae(tmp_path, capsys):
    """SiLU hidden layers for the default MLP VAE, ReLU for its seed recipe (and as an option); the other families
    have no such setting. The setting builds the network: a ReLU VAE and a SiLU VAE differ only in those layers."""
    assert [quiet(model="vae").activation, quiet(model="vae", recipe="seed").activation,
            quiet(model="conv-vae").activation, quiet(model="dcgan").activation] == ["silu", "relu", None, None]
    for activation, layer in (("silu", nn.SiLU), ("relu", nn.ReLU)):
        network = build_recipe(quiet(model="vae", latent_dim=4, activation=activation, out=str(tmp_path))).vae
        assert _hidden_activations(network) == [layer, layer]
    _a_named_choice_is_checked("activation", "vae", ("relu", "silu"), ("tanh", "ReLU", "", 1), "conv-vae", tmp_path,
                               capsys)
    with pytest.raises(ValueError, match=r"^VAE: activation must be one of 'relu', 'silu', got 'tanh'$"):
        VAE(activation="tanh")


def _layer_norms(network):
    return [module for module in network.modules() if isinstance(module, nn.LayerNorm)]


def test_the_critic_norm_is_a_checked_setting_of_wgan_gp(tmp_path, capsys):
    """A layer norm in the default WGAN-GP critic, none in its seed recipe's (as an option too); the other families
    have no such setting. The setting builds the critic: with "none" it has no layer norm and two parameters fewer."""
    assert [quiet(model="wgan-gp").critic_norm, quiet(model="wgan-gp", recipe="seed").critic_norm,
            quiet(model="dcgan").critic_norm, quiet(model="vae").critic_norm] == ["layer", "none", None, None]
    layered = build_recipe(quiet(model="wgan-gp", latent_dim=4, out=str(tmp_path))).critic
    plain = build_recipe(quiet(model="wgan-gp", latent_dim=4, critic_norm="none", out=str(tmp_path))).critic
    assert [tuple(norm.normalized_shape) for norm in _layer_norms(layered)] == [(128, 7, 7)]
    assert _layer_norms(plain) == [] and len(list(layered.parameters())) == len(list(plain.parameters())) + 2
    # (None is not a bad value: it means the recipe's default)
    _a_named_choice_is_checked("critic_norm", "wgan-gp", ("none", "layer"), ("batch", "Layer", "", 1), "dcgan",
                               tmp_path, capsys)


@pytest.mark.slow
def test_a_wgan_gp_checkpoint_from_before_the_critic_norm_setting_has_a_critic_without_layer_norm(tmp_path, capsys):
    """Every WGAN-GP critic had no layer norm before ``critic_norm`` was a setting: such a checkpoint samples, and a
    resume under today's default is refused by name, not run with a critic of other parameters."""
    path = tmp_path / "checkpoint.npz"
    _checkpoint_of_an_older_default(path, "wgan-gp", critic_norm="none", latent_dim=4, batch_size=8)
    config = TrainConfig.from_dict(load(str(path))["config"])
    assert config.critic_norm == "none" and _layer_norms(build_recipe(config).critic) == []
    options = ["train", "wgan-gp", "--latent-dim", "4", "--batch-size", "8", "--subset", "64", "--epochs", "2",
               "--out", str(tmp_path), "--no-progress", "--resume"]
    error = _samples_but_resumes_only_as_it_was(path, options, capsys)
    assert "critic_norm 'layer' here, 'none' in the checkpoint" in error
    assert "average_decay 0.99 here, 0.999 in the checkpoint" in error  # the older default's average, too
    assert main(options + ["--critic-norm", "none", "--average-decay", "0.999"]) == 0
    resumed = load(str(path))
    assert resumed["epochs_done"] == 2 and resumed["config"]["critic_norm"] == "none"


def test_the_decoder_is_a_checked_setting_of_the_conv_vae(tmp_path, capsys):
    """An autoregressive decoder for the default conv VAE, a plain one as an option; the other families have no
    such setting. The setting builds the network: "plain" has no context and two parameters fewer."""
    assert [quiet(model="conv-vae").decoder, quiet(model="vae").decoder, quiet(model="dcgan").decoder] == [
        "autoregressive", None, None]
    autoregressive = build_recipe(quiet(model="conv-vae", latent_dim=4, out=str(tmp_path))).vae
    plain = build_recipe(quiet(model="conv-vae", latent_dim=4, decoder="plain", out=str(tmp_path))).vae
    assert isinstance(autoregressive.context, nn.CausalConv2d) and plain.context is None
    assert len(list(autoregressive.parameters())) == len(list(plain.parameters())) + 2
    _a_named_choice_is_checked("decoder", "conv-vae", ("plain", "autoregressive"), ("pixelcnn", "Plain", "", 1), "vae",
                               tmp_path, capsys)


@pytest.mark.slow
def test_a_conv_vae_checkpoint_from_before_the_decoder_setting_has_a_plain_decoder(tmp_path, capsys):
    """Every conv VAE's decoder was plain before ``decoder`` was a setting (and its lr constant, its digits
    unshifted): such a checkpoint samples, and a resume under today's default is refused by name, not run with a
    network of other parameters; given its settings back, it resumes."""
    path = tmp_path / "checkpoint.npz"
    _checkpoint_of_an_older_default(path, "conv-vae", decoder="plain", lr_decay=0.0, augment_shift=0, latent_dim=4,
                                    batch_size=8)
    config = TrainConfig.from_dict(load(str(path))["config"])
    assert config.decoder == "plain" and build_recipe(config).vae.context is None
    options = ["train", "conv-vae", "--latent-dim", "4", "--batch-size", "8", "--subset", "64", "--epochs", "2",
               "--out", str(tmp_path), "--no-progress", "--resume"]
    error = _samples_but_resumes_only_as_it_was(path, options, capsys)
    assert "decoder 'autoregressive' here, 'plain' in the checkpoint" in error
    assert main(options + ["--decoder", "plain", "--lr-decay", "0", "--augment-shift", "0"]) == 0
    resumed = load(str(path))
    assert resumed["epochs_done"] == 2 and resumed["config"]["decoder"] == "plain"


def test_the_learning_rate_decays_linearly_to_zero_over_the_last_fraction_of_the_steps():
    from tinygen.training.recipe import linear_decay

    factors = [linear_decay(step, total_steps=8, fraction=0.5) for step in range(10)]
    assert factors == [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert [linear_decay(step, total_steps=4, fraction=1.0) for step in range(4)] == [1.0, 0.75, 0.5, 0.25]


def test_a_run_with_lr_decay_steps_each_optimizer_with_its_own_rate(tmp_path):
    """The DCGAN's D learns at twice G's rate: the decay scales both, step by step, and a resumed run picks the
    schedule up where the saved one stopped."""
    config = quiet(model="dcgan", latent_dim=4, batch_size=8, lr=1e-3, lr_decay=0.5, out=str(tmp_path))
    recipe = build_recipe(config)
    recipe.prepare(tinygen.rand(8, 1, 28, 28) * 2 - 1)  # the DCGAN's clusters
    recipe.plan(total_steps=4)
    seen = []
    for _ in range(4):
        seen.append([optimizer.param_groups[0]["lr"] for optimizer in recipe.optimizers().values()])
        recipe.train_step(tinygen.rand(8, 1, 28, 28) * 2 - 1)
        recipe.step_schedules()
    assert seen == [[1e-3, 2e-3], [1e-3, 2e-3], [1e-3, 2e-3], [5e-4, 1e-3]]
    resumed = build_recipe(config)
    resumed.load_state_dict(recipe.state_dict())
    resumed.plan(total_steps=8, steps_done=5)
    assert [optimizer.param_groups[0]["lr"] for optimizer in resumed.optimizers().values()] == [7.5e-4, 1.5e-3]


def test_the_width_and_the_decay_are_checked_settings(tmp_path, capsys):
    with pytest.raises(ValueError, match="discriminator_features is a setting of dcgan only, not of vae"):
        quiet(model="vae", discriminator_features=32)
    with pytest.raises(ValueError, match="discriminator_features must be a positive integer, got 0"):
        quiet(model="dcgan", discriminator_features=0)
    with pytest.raises(ValueError, match=r"lr_decay must be a fraction of the run in \[0, 1\]"):
        quiet(model="vae", lr_decay=1.5)
    assert main(["train", "gan", "--discriminator-features", "8", "--out", str(tmp_path), "--no-progress"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_decay_of_the_average_of_g_is_a_checked_setting_of_the_default_gans(tmp_path, capsys):
    """A number in [0, 1) for the default recipes that sample from an average of G; the seed recipes and the other
    families sample from G itself, and a decay given to them is refused by name."""
    assert [quiet(model=model).average_decay for model in ("gan", "dcgan", "wgan-gp")] == [0.999, 0.99, 0.99]
    assert quiet(model="wgan-gp", average_decay=0).average_decay == 0.0  # the average is G's latest weights
    for bad in (1, 1.5, -0.1, float("nan"), "0.9", True):
        with pytest.raises(ValueError, match=rf"^average_decay must be a number in \[0, 1\) .*, got {bad!r}$"):
            quiet(model="dcgan", average_decay=bad)
    for model, recipe in (("dcgan", "seed"), ("wgan-gp", "seed"), ("vae", "default"), ("toy", "default")):
        assert quiet(model=model, recipe=recipe).average_decay is None
        refused = rf"^average_decay is a setting of the default recipes of gan, dcgan, wgan-gp only, .*; the {recipe} "
        with pytest.raises(ValueError, match=refused + rf"recipe of {model} keeps none \(got 0.9\)$"):
            quiet(model=model, recipe=recipe, average_decay=0.9)
    for options in (["dcgan", "--average-decay", "1"], ["dcgan", "--recipe", "seed", "--average-decay", "0.9"]):
        assert main(["train", *options, "--out", str(tmp_path), "--no-progress"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "average_decay" in error


def test_the_average_decay_option_reaches_the_run(monkeypatch, tmp_path):
    from tinygen import cli

    runs = []
    monkeypatch.setattr(cli, "train", runs.append)
    assert main(["train", "wgan-gp", "--average-decay", "0.95", "--out", str(tmp_path), "--no-progress"]) == 0
    assert main(["train", "wgan-gp", "--out", str(tmp_path), "--no-progress"]) == 0
    assert [config.average_decay for config in runs] == [0.95, 0.99]
    assert build_recipe(runs[0]).average.decay == 0.95


def test_a_run_resumes_only_with_its_own_decay(tmp_path):
    """The decay is recorded in the checkpoint; resuming with another is refused by name, not averaged anew."""
    config = quiet(model="gan", latent_dim=4, subset=64, batch_size=8, epochs=1, average_decay=0.9, out=str(tmp_path))
    save_checkpoint(tmp_path / "checkpoint.npz", config, build_recipe(config), 1, [{"epoch": 1, "loss_d": 1.0}])
    assert load(str(tmp_path / "checkpoint.npz"))["config"]["average_decay"] == 0.9
    resumed = dataclasses.replace(config, epochs=2, resume=True, average_decay=0.99)
    with pytest.raises(ValueError, match=r"settings differ from the checkpoint's \(average_decay 0.99 here, 0.9 in "
                                         r"the checkpoint\)"):
        train(resumed, log=lambda line: None)


# --- the VAE's shifted training images -----------------------------------------------------------------------

def _move(original, image, shift):
    """The (dy, dx), |dy|, |dx| <= ``shift``, that moves ``original`` (H, W) onto ``image`` (zeros filled in), or
    None."""
    padded, (height, width) = np.pad(original, shift), original.shape
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            if np.array_equal(image, padded[shift - dy:shift - dy + height, shift - dx:shift - dx + width]):
                return dy, dx
    return None


def test_the_vae_sees_half_its_training_images_shifted_by_up_to_augment_shift_pixels(tmp_path):
    """Each image stays or, with probability 1/2, moves by its own (dy, dx), |dy|, |dx| <= 1, the background (0)
    filled in: of 400 images about 200 + 200 / 9 = 222 stay where they were, and every move is drawn."""
    recipe = build_recipe(quiet(model="vae", latent_dim=4, out=str(tmp_path)))
    assert recipe.config.augment_shift == 1
    images = ScalePixels(0.0, 1.0)(load_mnist()[0][:400])
    tinygen.manual_seed(0)
    seen = host(recipe.augment(images))[:, 0]
    moves = [_move(original, image, 1) for original, image in zip(host(images)[:, 0], seen)]
    assert None not in moves
    assert 222 - 40 < moves.count((0, 0)) < 222 + 40
    assert len(set(moves)) == 9


def test_only_training_batches_are_shifted_never_the_held_out_digits(tmp_path):
    """``train_step`` passes its batch through ``augment``; ``evaluate`` does not: with the same weights and draws
    the held-out -ELBO is the same with or without shifts."""
    shifted, plain = (build_recipe(quiet(model="vae", latent_dim=4, augment_shift=shift, out=str(tmp_path)))
                      for shift in (3, 0))
    plain.load_state_dict(shifted.state_dict())
    held_out = ScalePixels(0.0, 1.0)(load_mnist()[0][-64:])
    scores = []
    for recipe in (shifted, plain):
        tinygen.manual_seed(1)
        scores.append(recipe.evaluate(held_out))
    assert scores[0] == scores[1]
    augmented, augment = [], shifted.augment
    shifted.augment = lambda images: augmented.append(images.shape[0]) or augment(images)
    shifted.train_step(held_out[:16])
    shifted.evaluate(held_out)
    assert augmented == [16]


def test_augment_shift_is_a_checked_setting_of_the_vaes(tmp_path, capsys):
    """Whole pixels from 0 (off) to 27 for the VAEs: 1 for the default MLP and convolutional VAEs, 0 for the MLP
    VAE's seed recipe; the GANs have no such setting (the DCGAN's D shifts its images by its recipe)."""
    assert [quiet(model="vae").augment_shift, quiet(model="vae", recipe="seed").augment_shift,
            quiet(model="conv-vae").augment_shift, quiet(model="dcgan").augment_shift] == [1, 0, 1, None]
    assert quiet(model="conv-vae", augment_shift=27).augment_shift == 27
    for bad in (-1, 28, 1.0, "1", True):
        with pytest.raises(ValueError, match=rf"^augment_shift must be a whole number of pixels from 0 \(no shift\) "
                                             rf"to 27, got {bad!r}$"):
            quiet(model="vae", augment_shift=bad)
    with pytest.raises(ValueError, match=r"^augment_shift is a setting of vae, conv-vae only, not of dcgan \(got 2\)$"):
        quiet(model="dcgan", augment_shift=2)
    for options in (["vae", "--augment-shift", "-1"], ["gan", "--augment-shift", "1"]):
        assert main(["train", *options, "--out", str(tmp_path), "--no-progress"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "augment_shift" in error


def test_the_augment_shift_option_reaches_the_run(monkeypatch, tmp_path):
    from tinygen import cli

    runs = []
    monkeypatch.setattr(cli, "train", runs.append)
    assert main(["train", "conv-vae", "--augment-shift", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    assert main(["train", "vae", "--out", str(tmp_path), "--no-progress"]) == 0
    assert [config.augment_shift for config in runs] == [2, 1]


# --- the convolutional VAE ------------------------------------------------------------------------------------

def test_conv_vae_shapes():
    vae = ConvVAE(latent_dim=5, channels=4, hidden=16)
    images = tinygen.rand(3, 1, 28, 28)
    mu, logvar = vae.encode(images)
    assert mu.shape == logvar.shape == (3, 5)
    assert vae.decode(mu).shape == (3, 1, 28, 28)
    kinds = [type(layer).__name__ for layer in vae.modules()]
    assert kinds.count("Conv2d") == 2 and kinds.count("ConvTranspose2d") == 2


def test_conv_vae_elbo_is_reconstruction_plus_kl_and_training_lowers_it(tmp_path):
    """The recipe's loss is -ELBO in nats per image: the Bernoulli NLL of the pixels plus the Gaussian KL, as
    written out in NumPy here; a few steps on one batch lower it."""
    tinygen.manual_seed(0)
    recipe = build_recipe(quiet(model="conv-vae", latent_dim=4, out=str(tmp_path)))
    images = ScalePixels()(load_mnist()[0][:8])
    logits, mu, logvar = recipe.vae(images, generator=tinygen.random.Generator(seed=1))
    terms = elbo(logits, images, mu, logvar)
    x, l, m, v = (host(t).astype(np.float64) for t in (images, logits, mu, logvar))
    reconstruction = (np.logaddexp(0, l) - x * l).reshape(8, -1).sum(axis=1).mean()
    kl = 0.5 * (m ** 2 + np.exp(v) - 1 - v).sum(axis=1).mean()
    np.testing.assert_allclose(terms.reconstruction.item(), reconstruction, rtol=1e-5)
    np.testing.assert_allclose(terms.kl.item(), kl, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(terms.loss.item(), reconstruction + kl, rtol=1e-5)
    assert 450 < reconstruction < 650  # logits near 0 at the start: about 784 log 2 = 543 nats
    first = recipe.train_step(images)["loss"]
    for _ in range(20):
        last = recipe.train_step(images)["loss"]
    assert last < first - 100


def _autoregressive_conv_vae():
    tinygen.manual_seed(3)
    vae = ConvVAE(latent_dim=3, channels=4, hidden=16, autoregressive=True).to(tinygen.float64)
    with tinygen.no_grad():  # a context that matters: weights of the size training gives them
        vae.context.weight.mul_(8.0)
    return vae


def test_the_autoregressive_conv_vae_adds_a_causal_context_to_its_decoder():
    """logits(z, x) = decoder(z) + context(x), context a 5x5 CausalConv2d: pixel i's logit moves with the
    pixels before it and with no other pixel of x."""
    vae = _autoregressive_conv_vae()
    assert isinstance(vae.context, nn.CausalConv2d) and vae.context.kernel_size == (5, 5)
    assert ConvVAE().context is None
    z, x = tinygen.randn(2, 3, dtype=tinygen.float64), tinygen.rand(2, 1, 28, 28, dtype=tinygen.float64)
    np.testing.assert_allclose(host(vae.logits(z, x)), host(vae.decoder(z) + vae.context(x)), rtol=1e-12)
    after = host(x).copy()
    after[:, :, 10, 12:] = after[:, :, 11:] = 0.5  # pixel (10, 12) and every pixel after it
    moved = host(vae.logits(z, tinygen.tensor(after))) != host(vae.logits(z, x))
    assert not moved[:, :, 10, 12].any() and moved[:, :, 10, 13].all() and not moved[:, :, :9].any()
    with pytest.raises(TypeError, match=r"^ConvVAE: autoregressive must be True or False, got 'yes'$"):
        ConvVAE(autoregressive="yes")


def test_the_autoregressive_conv_vae_draws_pixel_by_pixel_the_image_its_logits_describe():
    """decode(z) draws x in raster order, each pixel its Bernoulli mean given z and the pixels before it. The
    readable form (a whole ``logits(z, x)`` per pixel, 784 of them) gives the same logits as the fast window-by-
    window loop, and the drawn image is the fixed point x = sigmoid(logits(z, x)). No graph is built."""
    vae = _autoregressive_conv_vae()
    z = tinygen.randn(2, 3, dtype=tinygen.float64, requires_grad=True)
    logits = vae.decode(z)
    assert logits.shape == (2, 1, 28, 28) and not logits.requires_grad
    with tinygen.no_grad():
        image = tinygen.zeros(2, 1, 28, 28, dtype=tinygen.float64)
        for row in range(28):
            for column in range(28):
                image[:, :, row, column] = vae.logits(z, image).sigmoid()[:, :, row, column]
        readable = vae.logits(z, image)
        np.testing.assert_allclose(host(logits), host(readable), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(host(vae.logits(z, logits.sigmoid())), host(logits), rtol=1e-10, atol=1e-12)
        assert np.abs(host(logits) - host(vae.decoder(z))).max() > 1.0  # the context moved the logits


@pytest.mark.slow
def test_train_conv_vae_writes_its_pictures(tmp_path):
    history = train(quiet(model="conv-vae", epochs=1, subset=64, batch_size=32, latent_dim=2, out=str(tmp_path)),
                    log=lambda line: None)
    assert history[-1]["eval_loss"] < 600
    for name in ("samples.png", "losses.png", "latent_walk.gif", "checkpoint.npz"):
        assert (tmp_path / name).exists(), name


def test_spectral_norm_is_in_nn_utils():
    assert nn.utils.spectral_norm is not None
