"""The training loop shared by every model family: epochs of steps, then measurements, pictures and a checkpoint.

    config = TrainConfig("dcgan", epochs=8)
    history = train(config)          # writes into config.out (default runs/dcgan)

Per epoch it logs the metrics (and warnings when D wins or G collapses: ``diagnostics``), writes
``samples/epoch_NNN.png`` (fixed noise), ``metrics.csv`` and ``metrics.json``, and ``checkpoint.npz``; at the
end ``samples.png``, ``losses.png`` and ``latent_walk.gif`` (plus ``latent_space.png`` for a VAE with a 2-D
latent space).
"""
import csv
import json
import os
import time

from tinygen import random as tg_random
from tinygen.creation import randn
from tinygen.data import DataLoader, TensorDataset
from tinygen.files import atomic_write
from tinygen.metrics import feature_statistics, judge_report, load_judge
from tinygen.training.checkpoint import epoch_seed, load_checkpoint, save_checkpoint
from tinygen.training.config import TrainConfig
from tinygen.training.data import load_training_data
from tinygen.training.diagnostics import diagnose
from tinygen.training.gan import GANRecipe
from tinygen.training.pictures import save_latent_space, save_latent_walk, save_samples
from tinygen.training.vae import VAERecipe
from tinygen.training.wgan_gp import WGANGPRecipe
from tinygen.viz import image_grid, plot_history, save_png

RECIPES = {"gan": GANRecipe, "dcgan": GANRecipe, "toy": GANRecipe, "wgan-gp": WGANGPRecipe, "vae": VAERecipe,
           "conv-vae": VAERecipe}
GRID_SIZE = 64


def build_recipe(config):
    return RECIPES[config.model](config)


def prepare_output(directory):
    """Create ``directory`` (and ``samples/``) and prove it is writable before any training time is spent."""
    try:
        os.makedirs(os.path.join(directory, "samples"), exist_ok=True)
        probe = os.path.join(directory, ".write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.unlink(probe)
    except OSError as error:
        raise OSError(f"cannot write to the output directory {directory!r}: {error.strerror or error}") from None


def _progress(iterable, total, description, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=description, leave=False, dynamic_ncols=True)


def _write_metrics(directory, history):
    """metrics.json (everything) and metrics.csv (the scalar columns), each written atomically."""
    atomic_write(os.path.join(directory, "metrics.json"), lambda file: json.dump(history, file, indent=1), binary=False)
    columns = [key for key in history[0] if not isinstance(history[0][key], (list, dict))]

    def write_csv(file):
        table = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        table.writeheader()
        table.writerows(history)

    atomic_write(os.path.join(directory, "metrics.csv"), write_csv, binary=False)


def train(config, log=print):
    """Run (or resume) the training described by ``config``; returns the per-epoch history."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"train: expected a TrainConfig, got {type(config).__name__}")
    prepare_output(config.out)
    checkpoint_path = os.path.join(config.out, "checkpoint.npz")
    tg_random.manual_seed(config.seed)  # the initial weights, too, follow from the seed
    recipe = build_recipe(config)
    train_data, held_out, held_out_labels = load_training_data(config, recipe.pixel_range)

    history, first_epoch = [], 0
    if config.resume:
        checkpoint = load_checkpoint(checkpoint_path, model=config.model, device=config.device)
        _check_same_settings(config, checkpoint["config"], checkpoint_path)
        recipe.load_state_dict(checkpoint["state"])
        history, first_epoch = list(checkpoint["history"]), int(checkpoint["epochs_done"])
        log(f"resuming {config.model} from {checkpoint_path} after epoch {first_epoch}")

    loader = DataLoader(TensorDataset(train_data), batch_size=config.batch_size, shuffle=True, drop_last=True,
                        generator=tg_random.Generator(seed=config.seed))
    fixed = tg_random.Generator(config.device, seed=config.seed + 1)
    grid_noise = randn(GRID_SIZE, recipe.latent_dim, generator=fixed, device=config.device)
    judge = load_judge(config.device) if recipe.sample_kind == "image" and config.model != "vae" else None
    held_out_statistics = feature_statistics(judge, held_out) if judge is not None else None
    judge_noise = randn(config.eval_size, recipe.latent_dim, generator=fixed, device=config.device)

    for epoch in range(first_epoch, config.epochs):
        tg_random.manual_seed(epoch_seed(config.seed, epoch))
        loader.set_epoch(epoch)
        started, sums, counts, steps = time.perf_counter(), {}, {}, 0
        bar = _progress(loader, len(loader), f"epoch {epoch + 1}/{config.epochs}", config.progress)
        for (batch,) in bar:
            metrics = recipe.train_step(batch)  # a metric may be missing from a step (WGAN-GP's loss_g)
            steps += 1
            for key, value in metrics.items():
                sums[key], counts[key] = sums.get(key, 0.0) + value, counts.get(key, 0) + 1
            if config.progress and steps % 10 == 0:
                bar.set_postfix({key: f"{sums[key] / counts[key]:.3f}" for key in sums if key.startswith("loss")})
        entry = {"epoch": epoch + 1, "steps": steps, **{key: sums[key] / counts[key] for key in sums}}
        entry.update(recipe.evaluate(held_out))
        if judge is not None:
            entry.update(judge_report(judge, recipe.generate(judge_noise), real_statistics=held_out_statistics))
        entry["seconds"] = time.perf_counter() - started
        warnings = diagnose(entry)
        if warnings:
            entry["warnings"] = warnings
        history.append(entry)
        log(_summary(entry))
        for warning in warnings:
            log(f"  warning: {warning}")
        save_samples(recipe, grid_noise, os.path.join(config.out, "samples", f"epoch_{epoch + 1:03d}.png"),
                     reference=held_out, title=f"epoch {epoch + 1}")
        _write_metrics(config.out, history)
        save_checkpoint(checkpoint_path, config, recipe, epoch + 1, history)

    _final_pictures(config, recipe, grid_noise, held_out, held_out_labels, history)
    return history


#: settings a resumed run must share with the checkpoint, or it would not continue the same run
RESUME_SETTINGS = ("recipe", "batch_size", "lr", "latent_dim", "betas", "seed", "subset", "eval_size", "n_critic",
                   "gp_lambda", "beta")


def _check_same_settings(config, saved, path):
    """A resumed run continues the saved one bit for bit only with the same settings: refuse silent changes."""
    current = dict(config.to_dict(), betas=list(config.betas))
    saved = dict({"recipe": "seed"}, **saved)  # a checkpoint from before recipes had names holds a seed-recipe run
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
