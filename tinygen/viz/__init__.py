"""Pictures: sample grids (PNG or JPEG), latent walks (GIF), loss curves and scatter plots; the autograd graph
and a traced backward pass."""
from tinygen.viz.graph import draw_graph, render_graph
from tinygen.viz.images import image_format, image_grid, save_gif, save_image, save_png
from tinygen.viz.plots import plot_history, plot_latent_space, plot_points
from tinygen.viz.trace_page import save_trace_page, save_trace_svg

__all__ = [
    "draw_graph", "image_format", "image_grid", "plot_history", "plot_latent_space", "plot_points", "render_graph",
    "save_gif", "save_image", "save_png", "save_trace_page", "save_trace_svg",
]
