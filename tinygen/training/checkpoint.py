"""Checkpoints of a training run: networks, optimizers, the epoch reached, the metric history and the seed.

A checkpoint is one ``tinygen.save`` file (an .npz with JSON metadata: never pickled code), written to a
temporary file and renamed, so an interrupted save leaves the previous checkpoint intact. Randomness is
re-derived from (seed, epoch) at the start of every epoch, so resuming after epoch k replays exactly
what an uninterrupted run would have drawn (see ``epoch_seed``).
"""
import os

from tinygen.serialization import CheckpointError, load, save
from tinygen.training.config import MODELS
from tinygen.training.run_directory import PREVIOUS

FORMAT = "tinygen-checkpoint"
VERSION = 1
#: what a training checkpoint holds besides its marker, and the type of each
CONTENTS = {"model": str, "config": dict, "epochs_done": int, "history": list, "state": dict}


def epoch_seed(seed, epoch):
    """The seed of the default generators during ``epoch``: a pure function of (seed, epoch)."""
    return hash((seed, epoch)) & (2**63 - 1)


def save_checkpoint(path, config, recipe, epochs_done, history):
    save({
        "format": FORMAT,
        "version": VERSION,
        "model": config.model,
        "config": dict(config.to_dict(), betas=list(config.betas)),
        "epochs_done": epochs_done,
        "history": history,
        "state": recipe.state_dict(),
    }, str(path))


def load_checkpoint(path, model=None, device=None):
    """The checkpoint at ``path`` as a dict; a clear error if it is not one, or holds another model's run."""
    try:
        checkpoint = load(str(path), map_location=device)
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {path}{_set_aside(path)}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a tinygen file but not a training checkpoint (no '{FORMAT}' marker)")
    if checkpoint.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {checkpoint.get('version')} is not supported (expected {VERSION})")
    for key, kind in CONTENTS.items():
        if not isinstance(checkpoint.get(key), kind) or isinstance(checkpoint.get(key), bool):
            got = "nothing" if key not in checkpoint else f"a {type(checkpoint[key]).__name__}"
            raise CheckpointError(
                f"{path}: a training checkpoint holds a {kind.__name__} under {key!r}, this one holds {got}; "
                "the file is damaged or was not written by tinygen's training loop"
            )
    _check_progress(path, checkpoint["epochs_done"], checkpoint["history"])
    if checkpoint["model"] not in MODELS:
        raise CheckpointError(
            f"{path}: holds a run of an unknown model {checkpoint['model']!r} (tinygen has {', '.join(MODELS)})"
        )
    if model is not None and checkpoint["model"] != model:
        raise CheckpointError(
            f"{path} holds a {checkpoint['model']!r} run; it cannot resume a {model!r} run "
            f"(use `tinygen train {checkpoint['model']} --resume`, or another --out directory)"
        )
    return checkpoint


def _set_aside(path):
    """Where ``path`` went if an ``--overwrite`` run set it aside and was killed before its first checkpoint."""
    directory, name = os.path.split(os.fspath(path))
    if not os.path.exists(os.path.join(directory, PREVIOUS, name)):
        return ""
    return (f": an --overwrite run stopped before its first checkpoint, and the previous run is set aside in "
            f"{os.path.join(directory, PREVIOUS)}; `tinygen train MODEL --out {directory or '.'}` puts it back (and "
            "stops there, before any work)")


def _check_progress(path, epochs_done, history):
    """``epochs_done`` finished epochs, each with its dict of metrics in ``history``."""
    if epochs_done < 0:
        raise CheckpointError(f"{path}: epochs_done is {epochs_done}; a training checkpoint counts its finished "
                              "epochs (0 or more): the file is damaged")
    for position, entry in enumerate(history):
        if not isinstance(entry, dict) or not all(isinstance(key, str) for key in entry):
            raise CheckpointError(f"{path}: history entry {position} is a {type(entry).__name__}, not a dict of "
                                  "metric names to values: the file is damaged")
    if len(history) != epochs_done:
        raise CheckpointError(f"{path}: epochs_done is {epochs_done} but the history holds {len(history)} epochs: "
                              "the file is damaged")
