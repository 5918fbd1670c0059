"""Plots with matplotlib (its file-only Agg backend: no screen needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy  # noqa: E402

from tinygen.files import atomic_write  # noqa: E402


def _save(figure, path):
    atomic_write(path, lambda file: figure.savefig(file, format="png", dpi=110, bbox_inches="tight"))
    plt.close(figure)


def plot_history(history, path, title="training"):
    """Loss curves: one panel per metric family, epochs on the x axis. ``history`` is a list of dicts."""
    if not history:
        return
    keys = [key for key in history[0] if key not in ("epoch", "seconds") and isinstance(history[0][key], (int, float))]
    losses = [key for key in keys if "loss" in key]
    others = [key for key in keys if key not in losses]
    panels = [group for group in (losses, others) if group]
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False)
    epochs = [entry.get("epoch", index + 1) for index, entry in enumerate(history)]
    for axis, group in zip(axes[0], panels):
        for key in group:
            axis.plot(epochs, [entry.get(key, numpy.nan) for entry in history], marker="o", markersize=3, label=key)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes[0][0].set_title(title)
    _save(figure, path)


def plot_points(points, path, reference=None, title="samples"):
    """A 2-D scatter of generated points (and, faintly, reference points) for the toy GAN."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    if reference is not None:
        axis.scatter(*numpy.asarray(reference).T, s=4, alpha=0.2, color="gray", label="data")
    axis.scatter(*numpy.asarray(points).T, s=4, alpha=0.6, color="tab:red", label="generated")
    axis.set_aspect("equal")
    axis.set_xlim(-3, 3)
    axis.set_ylim(-3, 3)
    axis.legend(fontsize=8, loc="upper right")
    axis.set_title(title)
    _save(figure, path)


def plot_latent_space(codes, labels, path, title="latent space (posterior means)"):
    """Scatter of 2-D latent codes coloured by digit label (for a VAE with latent_dim=2)."""
    figure, axis = plt.subplots(figsize=(5, 4.5))
    scatter = axis.scatter(*numpy.asarray(codes).T, c=numpy.asarray(labels), cmap="tab10", s=3, alpha=0.7)
    figure.colorbar(scatter, ax=axis, ticks=range(10))
    axis.set_title(title)
    _save(figure, path)
