"""Pictures: sample grids (PNG), latent walks (GIF), loss curves and scatter plots; the autograd graph."""
from tinygen.viz.graph import draw_graph, render_graph
from tinygen.viz.images import image_grid, save_gif, save_png
from tinygen.viz.plots import plot_history, plot_latent_space, plot_points

__all__ = [
    "draw_graph", "image_grid", "plot_history", "plot_latent_space", "plot_points", "render_graph", "save_gif",
    "save_png",
]
