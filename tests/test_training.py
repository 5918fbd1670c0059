"""Training runs: the toy GAN finds the ring's modes, the VAE's held-out ELBO improves, a resumed run is
bit-identical to an uninterrupted one, and bad settings fail before any work with a clear message."""
import json
import os

import numpy as np
import pytest

import tinygen
from tinygen.serialization import CheckpointError
from tinygen.training import TrainConfig, load_checkpoint, train


def quiet(**options):
    """A run without a progress bar, scored on 200 held-out samples (enough for tests, quicker than 1000)."""
    return TrainConfig(progress=False, **dict(dict(eval_size=200), **options))


@pytest.mark.slow  # an end-to-end run (about 18 s): CI's full pass runs it, the quick ones skip it
def test_toy_gan_covers_the_modes_of_the_ring(tmp_path):
    history = train(quiet(model="toy", epochs=12, out=str(tmp_path)), log=lambda line: None)
    assert history[-1]["modes_covered"] >= 7
    assert os.path.exists(tmp_path / "samples.png") and os.path.exists(tmp_path / "losses.png")


@pytest.mark.slow
def test_vae_held_out_elbo_improves(tmp_path):
    history = train(quiet(model="vae", epochs=3, subset=4000, batch_size=64, out=str(tmp_path)), log=lambda line: None)
    losses = [entry["eval_loss"] for entry in history]
    assert losses[-1] < losses[0] - 20, losses   # nats per image
    assert losses[-1] < 200
    assert all(entry["eval_kl"] > 0 for entry in history)


def _parameters(out):
    state = load_checkpoint(os.path.join(out, "checkpoint.npz"))["state"]
    return {f"{group}/{name}": value.numpy() for group, tensors in state.items() if group.startswith("model.")
            for name, value in tensors.items()}


@pytest.mark.parametrize("model, options", [
    ("toy", dict(subset=512)),
    pytest.param("dcgan", dict(subset=128, batch_size=32), marks=pytest.mark.slow),  # about 16 s
])
def test_resume_is_bit_identical_to_an_uninterrupted_run(model, options, tmp_path):
    straight, interrupted = str(tmp_path / "straight"), str(tmp_path / "interrupted")
    train(quiet(model=model, epochs=2, out=straight, **options), log=lambda line: None)
    train(quiet(model=model, epochs=1, out=interrupted, **options), log=lambda line: None)
    train(quiet(model=model, epochs=2, out=interrupted, resume=True, **options), log=lambda line: None)
    expected, got = _parameters(straight), _parameters(interrupted)
    assert expected.keys() == got.keys()
    for name in expected:
        assert np.array_equal(expected[name], got[name]), name
    with open(os.path.join(interrupted, "metrics.json")) as handle:
        assert [entry["epoch"] for entry in json.load(handle)] == [1, 2]


@pytest.mark.slow
def test_a_run_whose_learning_rate_decays_resumes_bit_identically_after_ctrl_c(tmp_path):
    """The VAE's learning rate decays over the second half of the epochs asked for (``lr_decay`` 0.5): a run
    interrupted in its second epoch and resumed with the same settings ends as the uninterrupted run."""
    from tinygen.training.stops import Interrupted

    options = dict(model="vae", epochs=2, subset=256, batch_size=64)
    straight, interrupted = str(tmp_path / "straight"), str(tmp_path / "interrupted")
    train(quiet(out=straight, **options), log=lambda line: None)

    def ctrl_c_at_the_end_of_epoch_2(line):
        if line.startswith("epoch 2:"):
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="after epoch 1"):
        train(quiet(out=interrupted, **options), log=ctrl_c_at_the_end_of_epoch_2)
    train(quiet(out=interrupted, resume=True, **options), log=lambda line: None)
    expected, got = _parameters(straight), _parameters(interrupted)
    assert expected.keys() == got.keys()
    for name in expected:
        assert np.array_equal(expected[name], got[name]), name
    saved = load_checkpoint(os.path.join(interrupted, "checkpoint.npz"))["state"]["optimizer.vae"]
    assert saved["param_groups"][0]["lr"] == 0.0  # the schedule's end
    lines = []
    train(quiet(out=interrupted, resume=True, **dict(options, epochs=3)), log=lines.append)
    assert "the learning rate follows --epochs 3, not the checkpoint's 2: it decays to 0 over the last 0.5 of 3 " \
           "epochs (lr_decay)" in lines


def test_resume_from_another_models_checkpoint_is_refused(tmp_path):
    train(quiet(model="toy", epochs=1, subset=256, out=str(tmp_path)), log=lambda line: None)
    with pytest.raises(CheckpointError, match="holds a 'toy' run; it cannot resume a 'gan' run"):
        train(quiet(model="gan", epochs=1, subset=64, out=str(tmp_path), resume=True), log=lambda line: None)


def test_impossible_settings_are_refused_up_front(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'gann'"):
        quiet(model="gann")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        quiet(model="toy", batch_size=0)
    with pytest.raises(ValueError, match="batch_size 512 is larger than the 100 training samples"):
        train(quiet(model="toy", batch_size=512, subset=100, out=str(tmp_path)), log=lambda line: None)


def test_an_unwritable_output_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="cannot write to the output directory"):
        train(quiet(model="toy", epochs=1, out=str(blocker / "run")), log=lambda line: None)


def test_a_corrupt_checkpoint_is_a_clear_error_and_is_left_alone(tmp_path):
    checkpoint = tmp_path / "checkpoint.npz"
    checkpoint.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(CheckpointError, match="checkpoint.npz"):
        train(quiet(model="toy", epochs=1, out=str(tmp_path), resume=True), log=lambda line: None)
    assert checkpoint.read_bytes().startswith(b"PK\x03\x04 definitely")


def test_training_uses_the_default_device(tmp_path):
    config = quiet(model="toy", epochs=1, subset=256, out=str(tmp_path))
    assert config.device == tinygen.get_default_device()


def test_resume_with_other_settings_is_refused(tmp_path):
    train(quiet(model="toy", epochs=1, subset=256, out=str(tmp_path)), log=lambda line: None)
    with pytest.raises(ValueError, match=r"settings differ from the checkpoint's \(lr 0.01 here, 0.001 in the checkpoint\)"):
        train(quiet(model="toy", epochs=2, subset=256, lr=0.01, out=str(tmp_path), resume=True), log=lambda line: None)


def test_every_setting_of_a_run_is_checked_on_resume_or_named_as_free_to_change():
    """A setting added to ``TrainConfig`` must join the settings a resume compares (``RESUME_SETTINGS``), or this
    list of those a resumed run may change: else a resume with another value would go unnoticed, or fail with a
    checkpoint that does not fit the networks instead of the refusal that names the setting."""
    import dataclasses

    from tinygen.training.loop import RESUME_SETTINGS

    free_to_change = {"epochs", "device", "out", "progress", "resume", "overwrite"}
    checked_by_load_checkpoint = {"model"}  # another model's checkpoint is refused by name when it is read
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    assert fields - free_to_change - checked_by_load_checkpoint == set(RESUME_SETTINGS)


@pytest.mark.parametrize("model", ["conv-vae", "gan"])
def test_a_generator_that_returns_the_held_out_digits_scores_a_frechet_distance_of_zero(model, monkeypatch, tmp_path):
    """The judge compares samples (in [-1, 1]) with the held-out digits in that same range, whatever range the
    family trains in (the VAEs' [0, 1]): samples that are the held-out digits score 0 and every class."""
    from tinygen.training.data import load_training_data
    from tinygen.training.loop import build_recipe

    config = quiet(model=model, epochs=1, subset=64, batch_size=32, latent_dim=2, out=str(tmp_path))
    _, held_out, _ = load_training_data(config, (-1.0, 1.0))
    recipe_class = type(build_recipe(config))
    monkeypatch.setattr(recipe_class, "generate", lambda recipe, noise: held_out[:noise.shape[0]])
    entry = train(config, log=lambda line: None)[-1]
    assert entry["frechet_distance"] == pytest.approx(0.0, abs=1e-3) and entry["classes_covered"] == 10
