"""Plots with matplotlib (its file-only Agg backend: no screen needed).

matplotlib is imported at the first plot, not with tinygen: it is the slowest import of all, and every ``tinygen``
command would otherwise wait for it (and a Ctrl-C in that wait could only show a traceback).

matplotlib is not safe to interrupt: a Ctrl-C that lands in its C code comes out as another error ("Invalid
bounding box"), and one that lands in its callbacks is printed and lost. So each plot holds Ctrl-C (and SIGTERM,
SIGHUP) until its file is written, a fraction of a second, and then stops as usual.
"""
import functools

import numpy

from tinygen.files import atomic_write
from tinygen.interrupts import interrupts_deferred
from tinygen.viz.images import image_format


@functools.lru_cache(maxsize=None)
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def _save(figure, path):
    """Write ``figure`` as PNG or JPEG, as ``path``'s suffix says, and close it."""
    try:
        format = image_format(path, what="a plot").lower()
        atomic_write(path, lambda file: figure.savefig(file, format=format, dpi=110, bbox_inches="tight"))
    finally:
        _pyplot().close(figure)


def _drawn_whole(plot):
    """``plot`` with stop signals held until it has returned (see the module docstring)."""
    @functools.wraps(plot)
    def drawn_whole(*args, **kwargs):
        with interrupts_deferred():
            return plot(*args, **kwargs)
    return drawn_whole


#: metrics that are bookkeeping, not curves
_NOT_PLOTTED = ("epoch", "steps", "seconds")
#: metrics that live in [0, 1] and read well together
_PROBABILITIES = ("d_real", "d_fake", "d_accuracy", "judge_confidence", "high_quality")


def _panels(keys):
    """Group metric names: the losses together, the [0, 1] metrics together, every other metric on its own."""
    losses = [key for key in keys if "loss" in key or key in ("reconstruction", "kl", "wasserstein", "gradient_penalty")]
    probabilities = [key for key in keys if key in _PROBABILITIES]
    singles = [[key] for key in keys if key not in losses and key not in probabilities]
    return [group for group in (losses, probabilities) if group] + singles


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@_drawn_whole
def plot_history(history, path, title="training"):
    """Curves of the per-epoch metrics (``history``: a list of dicts), one panel per group of comparable ones.

    Every metric of any epoch gets a curve (WGAN-GP reports loss_g only from epochs that trained G); a value
    that is missing or not a number is a gap."""
    if not isinstance(history, (list, tuple)):
        raise ValueError(f"plot_history: expected a list of per-epoch dicts, got a {type(history).__name__}")
    odd = next((entry for entry in history if not isinstance(entry, dict)), None)
    if odd is not None:
        raise ValueError(f"plot_history: expected a list of per-epoch dicts, got a list holding a {type(odd).__name__}")
    if not history:
        return
    keys = list(dict.fromkeys(key for entry in history for key, value in entry.items()
                              if key not in _NOT_PLOTTED and _is_number(value)))
    if not keys:
        return
    panels = _panels(keys)
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = _pyplot().subplots(rows, columns, figsize=(4.6 * columns, 3.2 * rows), squeeze=False)
    epochs = [entry["epoch"] if _is_number(entry.get("epoch")) else index + 1 for index, entry in enumerate(history)]
    for axis, group in zip(axes.flat, panels):
        for key in group:
            values = [entry[key] if _is_number(entry.get(key)) else numpy.nan for entry in history]
            axis.plot(epochs, values, marker="o", markersize=3, label=key)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.suptitle(title)
    _save(figure, path)


@_drawn_whole
def plot_points(points, path, reference=None, title="samples"):
    """A 2-D scatter of generated points (and, faintly, reference points) for the toy GAN."""
    figure, axis = _pyplot().subplots(figsize=(4.5, 4.5))
    if reference is not None:
        axis.scatter(*numpy.asarray(reference).T, s=4, alpha=0.2, color="gray", label="data")
    axis.scatter(*numpy.asarray(points).T, s=4, alpha=0.6, color="tab:red", label="generated")
    axis.set_aspect("equal")
    axis.set_xlim(-3, 3)
    axis.set_ylim(-3, 3)
    axis.legend(fontsize=8, loc="upper right")
    axis.set_title(title)
    _save(figure, path)


@_drawn_whole
def plot_latent_space(codes, labels, path, title="latent space (posterior means)"):
    """Scatter of 2-D latent codes coloured by digit label (for a VAE with latent_dim=2)."""
    figure, axis = _pyplot().subplots(figsize=(5, 4.5))
    scatter = axis.scatter(*numpy.asarray(codes).T, c=numpy.asarray(labels), cmap="tab10", s=3, alpha=0.7)
    figure.colorbar(scatter, ax=axis, ticks=range(10))
    axis.set_title(title)
    _save(figure, path)
