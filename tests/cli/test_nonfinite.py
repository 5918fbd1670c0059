"""A loss or a parameter that turns nan or inf stops training at that step (probe: `tinygen train vae --lr 0.4
--batch-size 32 --subset 256 --epochs 3` went on to "done", exit 0, overwrote the last good checkpoint with nan
weights, drew a black samples.png and wrote bare NaN into metrics.json).

Expected now: exit status 3 and one line naming the epoch, the step and the loss; the checkpoint and pictures of the
last finite epoch are kept (nothing after them is written); metrics.json is strict JSON always; non-finite learning
rates and weights are refused before any work, by the command line and by the optimizers."""
import json
import math

import numpy as np
import pytest

from tinygen import nn, optim
from tinygen.training import TrainConfig, load_checkpoint, train
from tinygen.training.gan import GANRecipe
from tinygen.training.loop import _write_metrics, strict_json
from tinygen.training.stops import TrainingDiverged


def strict_load(path):
    """json.load that refuses NaN and Infinity (which Python's json accepts, but JSON does not)."""
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}, which is not JSON")

    with open(path) as file:
        return json.load(file, parse_constant=refuse)


def all_finite_weights(path):
    state = load_checkpoint(path)["state"]
    arrays = [tensor.numpy() for part in state.values() if isinstance(part, dict)
              for tensor in part.values() if hasattr(tensor, "numpy")]
    return bool(arrays) and all(np.isfinite(array).all() for array in arrays)


def test_the_vae_that_diverges_at_lr_0_4_stops_and_keeps_its_last_finite_epoch(tinygen, tmp_path):
    out = tmp_path / "vae"
    outcome = tinygen("train", "vae", "--lr", "0.4", "--batch-size", "32", "--subset", "256", "--epochs", "3",
                      "--latent-dim", "16", "--lr-decay", "0", "--augment-shift", "0", "--activation", "relu", "--out",
                      out, "--no-progress")  # the settings of the VAE this scenario was found with, not today's
    assert outcome.status == 3, outcome
    line = outcome.one_line_error
    # where a real divergence first shows (a step's loss, or the optimizer's state at the epoch's end) depends on the
    # device's random stream (CuPy's generator is not NumPy's); the injected failures below pin each place
    assert line.startswith("tinygen train: stopped at epoch 2, "), line
    assert (" step " in line and " of 8: loss is " in line) or "at its end: optimizer.vae/state/" in line, line
    assert f"kept: {out / 'checkpoint.npz'} after epoch 1" in line and "lower --lr (now 0.4)" in line
    assert "done" not in outcome.out
    checkpoint = load_checkpoint(out / "checkpoint.npz")
    assert checkpoint["epochs_done"] == 1 and all_finite_weights(out / "checkpoint.npz")
    assert [entry["epoch"] for entry in strict_load(out / "metrics.json")] == [1]
    assert sorted(path.name for path in (out / "samples").iterdir()) == ["epoch_001.png"]
    assert not (out / "samples.png").exists() and not (out / "latent_walk.gif").exists()


class BlowsUpAt(GANRecipe):
    """A toy GAN whose generator weight becomes inf after one step (epoch, step), while the losses stay finite."""

    epoch_and_step = (2, 3)

    def __init__(self, config):
        super().__init__(config)
        self.steps_taken = 0

    def train_step(self, real):
        metrics = super().train_step(real)
        self.steps_taken += 1
        epoch, step = self.epoch_and_step
        if self.steps_taken == (epoch - 1) * self.steps_per_epoch + step:
            self.generator.net[0].weight.array[0, 0] = math.inf
        return metrics


def test_a_parameter_that_turns_inf_stops_training_at_that_step_naming_it(tmp_path, monkeypatch):
    BlowsUpAt.steps_per_epoch = 512 // 256
    BlowsUpAt.epoch_and_step = (2, 1)
    monkeypatch.setitem(__import__("tinygen.training.loop", fromlist=["RECIPES"]).RECIPES, "toy", BlowsUpAt)
    config = TrainConfig("toy", epochs=3, subset=512, eval_size=200, out=str(tmp_path), progress=False)
    with pytest.raises(TrainingDiverged, match=r"stopped at epoch 2, step 1 of 2: model.generator/net.0.weight holds "
                                               r"nan or inf after the update \(the losses were finite: loss_d "):
        train(config, log=lambda line: None)
    assert load_checkpoint(tmp_path / "checkpoint.npz")["epochs_done"] == 1
    assert all_finite_weights(tmp_path / "checkpoint.npz")


def test_an_optimizer_state_that_turns_inf_stops_before_the_checkpoint(tmp_path, monkeypatch):
    original = GANRecipe.train_step

    def poisons_adam(recipe, real):
        metrics = original(recipe, real)
        for state in recipe.discriminator_optimizer.state.values():
            state["exp_avg_sq"].array[...] = math.inf
        return metrics

    monkeypatch.setattr(GANRecipe, "train_step", poisons_adam)
    with pytest.raises(TrainingDiverged, match=r"stopped at epoch 1, at its end: optimizer.discriminator/state/0/"
                                               r"exp_avg_sq holds nan or inf; nothing was saved"):
        train(TrainConfig("toy", epochs=1, subset=256, eval_size=200, out=str(tmp_path), progress=False),
              log=lambda line: None)
    assert not (tmp_path / "checkpoint.npz").exists()


@pytest.mark.parametrize("option, value, message", [
    ("--lr", "inf", "lr must be a positive number, got inf (a finite learning rate, at most 10"),
    ("--lr", "1e308", "lr must be a positive number, got 1e+308 (a finite learning rate, at most 10"),
    ("--lr", "nan", "lr must be a positive number, got nan"),
    ("--gp-lambda", "inf", "gp_lambda must be a non-negative number, got inf (it must be finite)"),
    ("--beta", "nan", "beta must be a non-negative number, got nan"),
    ("--betas", ["0.5", "1.0"], "betas must be a pair of numbers in [0, 1), got (0.5, 1.0)"),
    ("--betas", ["nan", "0.9"], "betas must be a pair of numbers in [0, 1), got (nan, 0.9)"),
])
def test_non_finite_and_absurd_settings_are_refused_before_any_work(option, value, message, tinygen, tmp_path):
    """Probes: `--lr inf` and `--lr 1e308` were accepted (a GAN at 1e308 ended in "Eigenvalues did not converge")."""
    values = value if isinstance(value, list) else [value]
    outcome = tinygen("train", "gan", option, *values, "--out", tmp_path / "run", "--no-progress")
    assert outcome.status == 2 and message in outcome.one_line_error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=math.inf),
    lambda p: optim.Adam(p, lr=math.inf),
    lambda p: optim.SGD(p, lr=0.1, momentum=math.inf),
    lambda p: optim.Adam(p, eps=math.inf),
])
def test_optimizers_refuse_non_finite_options(make):
    """Probe: `SGD(lr=inf)` was accepted."""
    with pytest.raises(ValueError, match=r"(SGD|Adam): invalid (learning rate|momentum|eps) inf \(must be finite"):
        make(nn.Linear(2, 2).parameters())


def test_metrics_json_is_strict_json_with_non_finite_values_as_null_and_named(tmp_path):
    history = [{"epoch": 1, "loss": 0.5, "eval_loss": math.inf, "class_histogram": [1, 2], "seconds": 1.0},
               {"epoch": 2, "loss": 0.4, "eval_loss": math.nan, "extra": {"a": -math.inf}, "seconds": 1.0}]
    _write_metrics(str(tmp_path), history)
    entries = strict_load(tmp_path / "metrics.json")
    assert entries[0]["eval_loss"] is None and entries[0]["non_finite"] == {"eval_loss": "inf"}
    assert entries[1]["non_finite"] == {"eval_loss": "nan", "extra.a": "-inf"} and entries[1]["extra"] == {"a": None}
    assert "non_finite" not in strict_json({"epoch": 3, "loss": 1.0})
    assert history[0]["eval_loss"] == math.inf  # the history itself (and the checkpoint's copy) keeps the values
    header, first, second = (tmp_path / "metrics.csv").read_text().splitlines()
    assert header == "epoch,loss,eval_loss,seconds" and first.split(",")[2] == "inf" and second.split(",")[2] == "nan"
