"""The training loop shared by every model family: epochs of steps, then measurements, pictures and a checkpoint.

    config = TrainConfig("dcgan", epochs=8)
    history = train(config)          # writes into config.out (default runs/dcgan)

Per epoch it logs the metrics (and warnings when D wins or G collapses: ``diagnostics``), writes
``checkpoint.npz`` with ``metrics.json`` and ``metrics.csv`` (Ctrl-C waits until all three are written, so they
always agree), then ``samples/epoch_NNN.png`` (fixed noise); at the end ``samples.png``, ``losses.png`` and
``latent_walk.gif`` (plus ``latent_space.png`` for a VAE with a 2-D latent space, ``real.png`` for images).

What keeps a run from being lost (see ``run_directory`` and ``stops``):

* the output directory belongs to one run: a fresh run refuses a directory that holds another run (unless
  ``overwrite``), and a second process that tries to write into it stops at once;
* a loss or a parameter that turns nan or inf (checked after every step; the optimizer state and the samples
  before each checkpoint) stops training at that step with ``TrainingDiverged``: the checkpoint and pictures of
  the last finite epoch are kept and nothing more is written;
* ``metrics.json`` is strict JSON: a value that is not finite is written as ``null``, and the entry names it
  under ``"non_finite"`` with its value as a string (``{"eval_loss": null, ..., "non_finite": {"eval_loss":
  "inf"}}``); ``metrics.csv`` writes such values as ``nan`` / ``inf``;
* Ctrl-C raises ``Interrupted``, whose message says what is saved and how to continue.
"""
import csv
import json
import math
import os
import time

from tinygen import random as tg_random
from tinygen.creation import randn
from tinygen.data import DataLoader, TensorDataset
from tinygen.files import atomic_write
from tinygen.interrupts import interrupts_deferred
from tinygen.metrics import feature_statistics, judge_report, load_judge
from tinygen.training.checkpoint import epoch_seed, load_checkpoint, save_checkpoint
from tinygen.training.config import TrainConfig, settings_of_an_older_checkpoint
from tinygen.training.data import load_training_data
from tinygen.training.diagnostics import diagnose
from tinygen.training.gan import GANRecipe
from tinygen.training.pictures import generate, save_latent_space, save_latent_walk, save_samples
from tinygen.training.run_directory import (PREVIOUS, SAMPLES, RunDirectory,  # noqa: F401  (prepare_output: API)
                                            prepare_output)
from tinygen.training.stops import (Interrupted, TrainingDiverged, add_note, all_finite, first_non_finite, memory_for,
                                    non_finite)
from tinygen.training.vae import VAERecipe
from tinygen.training.wgan_gp import WGANGPRecipe
from tinygen.viz import image_grid, plot_history, save_png

RECIPES = {"gan": GANRecipe, "dcgan": GANRecipe, "toy": GANRecipe, "wgan-gp": WGANGPRecipe, "vae": VAERecipe,
           "conv-vae": VAERecipe}
GRID_SIZE = 64


def build_recipe(config):
    return RECIPES[config.model](config)


def _progress(iterable, total, description, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=description, leave=False, dynamic_ncols=True)


def strict_json(entry):
    """``entry`` (one epoch's metrics) with every non-finite float replaced by ``None`` and named, with its value
    as a string, under ``"non_finite"``; nested lists and dicts are scanned too (named by their path)."""
    found = {}

    def clean(value, name):
        if isinstance(value, float) and not math.isfinite(value):
            found[name] = repr(value)
            return None
        if isinstance(value, dict):
            return {key: clean(item, f"{name}.{key}" if name else str(key)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(item, f"{name}[{index}]") for index, item in enumerate(value)]
        return value

    cleaned = clean({key: value for key, value in entry.items() if key != "non_finite"}, "")
    if found:
        cleaned["non_finite"] = found
    return cleaned


def _write_metrics(directory, history):
    """metrics.json (everything, strict JSON: ``strict_json``) and metrics.csv (the scalar columns of every epoch,
    in the order they first appear), each written atomically."""
    entries = [strict_json(entry) for entry in history]
    atomic_write(os.path.join(directory, "metrics.json"),
                 lambda file: json.dump(entries, file, indent=1, allow_nan=False), binary=False)
    columns = list(dict.fromkeys(key for entry in history for key, value in entry.items()
                                 if not isinstance(value, (list, dict))))

    def write_csv(file):
        table = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        table.writeheader()
        table.writerows(history)

    atomic_write(os.path.join(directory, "metrics.csv"), write_csv, binary=False)


class _Progress:
    """How far a run got, for the message of an interruption: the epoch in progress and the last one saved."""

    def __init__(self):
        self.epoch = None       # the epoch being trained (1-based), or None outside the epochs
        self.saved = None       # epochs_done of the checkpoint in the directory (written by this run or resumed)
        self.trained = False    # all epochs done: the final pictures are being drawn

    def kept(self, config, checkpoint_path, restored):
        """What a run stopped by an error left, for a note on the error; None when it saved nothing."""
        if restored:
            return f"the previous run that --overwrite set aside is back in {config.out}"
        if self.saved is None:
            return None
        if self.saved >= config.epochs:
            return (f"the training is saved: {checkpoint_path} holds all {self.saved} epochs; --resume with the "
                    "same settings draws the final pictures")
        return (f"{checkpoint_path} (after epoch {self.saved}) is intact; continue with --resume and the same "
                "settings")

    def interrupted(self, config, checkpoint_path):
        if self.trained:
            where = "while drawing the final pictures"
        elif self.epoch is not None and self.epoch == self.saved:
            where = f"while drawing epoch {self.epoch}'s pictures"
        elif self.epoch is not None:
            where = f"during epoch {self.epoch}"
        else:
            where = "before training started"
        if self.saved is None:
            return (f"interrupted {where}, before the first checkpoint: nothing was saved; run the same command "
                    "again to start over")
        return (f"interrupted {where}: {checkpoint_path} (after epoch {self.saved}) is intact; continue with "
                "--resume and the same settings")


def train(config, log=print):
    """Run (or resume) the training described by ``config``; returns the per-epoch history.

    Raises ``RunDirectoryTaken`` / ``RunDirectoryInUse`` before any work if ``config.out`` holds another run or
    another process writes there, ``TrainingDiverged`` if a value turns nan or inf, ``Interrupted`` on Ctrl-C.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"train: expected a TrainConfig, got {type(config).__name__}")
    with RunDirectory(config.out) as run:
        run.claim(resume=config.resume, overwrite=config.overwrite)
        progress = _Progress()
        try:
            return _train(config, run, progress, log)
        except BaseException as error:
            restored = progress.saved is None and run.restore_previous()
            if isinstance(error, KeyboardInterrupt) and not isinstance(error, Interrupted):
                error = Interrupted(progress.interrupted(config, run.file("checkpoint.npz")))
            elif not isinstance(error, (Interrupted, TrainingDiverged)):  # their messages say what was kept
                add_note(error, progress.kept(config, run.file("checkpoint.npz"), restored))
                raise
            elif not restored:
                raise
            if restored:
                error = type(error)(f"{error}; the previous run that --overwrite set aside is back in {config.out}")
            raise error from None


def _train(config, run, progress, log):
    checkpoint_path = run.file("checkpoint.npz")
    tg_random.manual_seed(config.seed)  # the initial weights, too, follow from the seed
    # the data before the networks: its size bounds a setting that sizes them (clusters); loading draws nothing
    train_data, held_out, held_out_labels = load_training_data(config, RECIPES[config.model].pixel_range)
    with memory_for("latent_dim", config.latent_dim):
        recipe = build_recipe(config)

    history, first_epoch = [], 0
    if config.resume:
        checkpoint = load_checkpoint(checkpoint_path, model=config.model, device=config.device)
        _check_same_settings(config, checkpoint["config"], checkpoint_path)
        recipe.load_state_dict(checkpoint["state"])
        history, first_epoch = list(checkpoint["history"]), int(checkpoint["epochs_done"])
        progress.saved = first_epoch
        log(f"resuming {config.model} from {checkpoint_path} after epoch {first_epoch}")
        if first_epoch >= config.epochs:
            log(f"the checkpoint has {first_epoch} epochs, --epochs asks for {config.epochs}: nothing to train; "
                "drawing the final pictures again (raise --epochs to train on)")
        planned = checkpoint["config"].get("epochs")
        if config.lr_decay and planned != config.epochs:
            log(f"the learning rate follows --epochs {config.epochs}, not the checkpoint's {planned}: it decays to 0 "
                f"over the last {config.lr_decay:g} of {config.epochs} epochs (lr_decay)")
        if history:
            _write_metrics(config.out, history)  # the metrics agree with the checkpoint from here on
    elif config.overwrite:
        moved = run.set_aside_previous()
        if moved:
            log(f"--overwrite: the previous run's {len(moved)} files are set aside in "
                f"{run.file(PREVIOUS)} and deleted when this run saves its first checkpoint")
    if not config.resume:
        recipe.prepare(train_data)  # a resumed run's checkpoint holds what this made

    loader = DataLoader(TensorDataset(train_data), batch_size=config.batch_size, shuffle=True, drop_last=True,
                        generator=tg_random.Generator(seed=config.seed))
    recipe.plan(total_steps=config.epochs * len(loader), steps_done=first_epoch * len(loader))
    fixed = tg_random.Generator(config.device, seed=config.seed + 1)
    with memory_for("latent_dim", config.latent_dim):
        grid_noise = randn(GRID_SIZE, recipe.latent_dim, generator=fixed, device=config.device)
    if first_epoch and not os.path.exists(_epoch_picture_path(run, first_epoch)):
        _draw_epoch_picture(run, recipe, grid_noise, held_out, first_epoch)  # killed between checkpoint and picture
    judge = load_judge(config.device) if recipe.sample_kind == "image" and config.model != "vae" else None
    held_out_statistics = feature_statistics(judge, recipe.as_samples(held_out)) if judge is not None else None
    with memory_for("latent_dim", config.latent_dim):
        judge_noise = randn(config.eval_size, recipe.latent_dim, generator=fixed, device=config.device)
    parameters = [parameter for network in recipe.networks().values() for parameter in network.parameters()]

    for epoch in range(first_epoch, config.epochs):
        progress.epoch = epoch + 1
        tg_random.manual_seed(epoch_seed(config.seed, epoch))
        loader.set_epoch(epoch)
        started, sums, counts, steps = time.perf_counter(), {}, {}, 0
        bar = _progress(loader, len(loader), f"epoch {epoch + 1}/{config.epochs}", config.progress)
        for (batch,) in bar:
            with memory_for("batch_size", config.batch_size):
                metrics = recipe.train_step(batch)  # a metric may be missing from a step (WGAN-GP's loss_g)
            recipe.step_schedules()
            steps += 1
            _stop_unless_finite(metrics, parameters, recipe, config, epoch + 1, steps, len(loader), progress)
            for key, value in metrics.items():
                sums[key], counts[key] = sums.get(key, 0.0) + value, counts.get(key, 0) + 1
            if config.progress and steps % 10 == 0:
                bar.set_postfix({key: f"{sums[key] / counts[key]:.3f}" for key in sums if key.startswith("loss")})
        entry = {"epoch": epoch + 1, "steps": steps, **{key: sums[key] / counts[key] for key in sums}}
        _stop_unless_finite_state(recipe, config, epoch + 1, progress)
        entry.update(recipe.evaluate(held_out))
        if judge is not None:
            samples = generate(recipe, judge_noise)
            if not all_finite([samples]):
                raise _diverged(config, epoch + 1, "after the epoch", "the generator's samples hold nan or inf",
                                progress)
            entry.update(judge_report(judge, samples, real_statistics=held_out_statistics))
        entry["seconds"] = time.perf_counter() - started
        warnings = diagnose(entry)
        if warnings:
            entry["warnings"] = warnings
        history.append(entry)
        log(_summary(entry))
        for warning in warnings:
            log(f"  warning: {warning}")
        with interrupts_deferred():  # the checkpoint and the metrics are written together, or neither
            save_checkpoint(checkpoint_path, config, recipe, epoch + 1, history)
            progress.saved = epoch + 1
            _write_metrics(config.out, history)
        run.discard_previous()
        _draw_epoch_picture(run, recipe, grid_noise, held_out, epoch + 1)

    progress.epoch, progress.trained = None, True
    _final_pictures(config, recipe, grid_noise, held_out, held_out_labels, history)
    return history


def _epoch_picture_path(run, epoch):
    return run.file(SAMPLES, f"epoch_{epoch:03d}.png")


def _draw_epoch_picture(run, recipe, grid_noise, held_out, epoch):
    """samples/epoch_NNN.png: the grid of the weights saved after ``epoch``."""
    os.makedirs(run.file(SAMPLES), exist_ok=True)
    save_samples(recipe, grid_noise, _epoch_picture_path(run, epoch), reference=held_out, title=f"epoch {epoch}")


def _stop_unless_finite(metrics, parameters, recipe, config, epoch, step, steps, progress):
    """After a step: every reported loss and metric, and every parameter, must be finite."""
    bad = non_finite(metrics)
    if bad:
        raise _diverged(config, epoch, f"step {step} of {steps}",
                        ", ".join(f"{name} is {metrics[name]}" for name in bad), progress)
    if not all_finite(parameters):
        raise _diverged(config, epoch, f"step {step} of {steps}",
                        f"{first_non_finite(recipe.state_dict())} holds nan or inf after the update (the losses "
                        f"were finite: {', '.join(f'{k} {v:.4g}' for k, v in metrics.items())})", progress)


def _stop_unless_finite_state(recipe, config, epoch, progress):
    """Before a checkpoint: the whole state (parameters, batch-norm statistics, optimizer moments) must be finite."""
    name = first_non_finite(recipe.state_dict())
    if name is not None:
        raise _diverged(config, epoch, "at its end", f"{name} holds nan or inf", progress)


def _diverged(config, epoch, when, what, progress):
    if progress.saved is None:
        kept = "nothing was saved (no epoch finished with finite values)"
    else:
        kept = (f"kept: {os.path.join(config.out, 'checkpoint.npz')} after epoch {progress.saved} and its pictures, "
                "all finite")
    return TrainingDiverged(
        f"stopped at epoch {epoch}, {when}: {what}; {kept}. The run diverged: start again with a lower --lr "
        f"(now {config.lr:g}), into another --out or with --overwrite"
    )


#: settings a resumed run must share with the checkpoint, or it would not continue the same run
RESUME_SETTINGS = ("recipe", "batch_size", "lr", "latent_dim", "betas", "seed", "subset", "eval_size", "n_critic",
                   "gp_lambda", "beta", "discriminator_features", "lr_decay", "average_decay", "augment_shift",
                   "activation", "critic_norm", "decoder", "clusters")


def _check_same_settings(config, saved, path):
    """A resumed run continues the saved one bit for bit only with the same settings: refuse silent changes."""
    current = dict(config.to_dict(), betas=list(config.betas))
    saved = settings_of_an_older_checkpoint(saved)  # e.g. one from before recipes had names holds a seed-recipe run
    different = [f"{name} {current[name]!r} here, {saved.get(name)!r} in the checkpoint"
                 for name in RESUME_SETTINGS if current[name] != saved.get(name)]
    if different:
        raise ValueError(
            f"--resume from {path}: the settings differ from the checkpoint's ({'; '.join(different)}); "
            "pass the same settings to continue that run, or train into another --out directory"
        )


def _summary(entry):
    skip = ("epoch", "steps", "class_histogram")
    parts = [f"{key} {value:.4g}" for key, value in entry.items() if key not in skip and isinstance(value, float)]
    parts += [f"{key} {value}" for key, value in entry.items() if key not in skip and isinstance(value, int)]
    return f"epoch {entry['epoch']}: " + ", ".join(parts)


def _final_pictures(config, recipe, grid_noise, held_out, held_out_labels, history):
    out = config.out
    save_samples(recipe, grid_noise, os.path.join(out, "samples.png"), reference=held_out, title="final samples")
    if history:
        plot_history(history, os.path.join(out, "losses.png"), title=f"{config.model} training")
    if recipe.sample_kind == "image":
        half = grid_noise.shape[0] // 4
        save_latent_walk(recipe, grid_noise[:half], grid_noise[half:2 * half], os.path.join(out, "latent_walk.gif"))
    if config.model == "vae" and recipe.latent_dim == 2:
        save_latent_space(recipe.vae, held_out, held_out_labels, os.path.join(out, "latent_space.png"))
    if config.model != "toy":
        save_png(image_grid(held_out[:GRID_SIZE], nrow=8, value_range=recipe.pixel_range), os.path.join(out, "real.png"))
