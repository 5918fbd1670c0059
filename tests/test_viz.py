"""Pictures: grid layout and value scaling, PNG/GIF files readable, plots written."""
import numpy as np
import pytest
from PIL import Image

import tinygen
from tinygen.viz import image_grid, plot_history, plot_points, save_gif, save_png


def test_grid_layout_and_scaling():
    images = tinygen.tensor(np.linspace(-1, 1, 6 * 4).reshape(6, 1, 2, 2))
    grid = image_grid(images, nrow=4, padding=1)
    assert grid.shape == (2 * 3 + 1, 4 * 3 + 1) and grid.dtype == np.uint8
    assert grid[1, 1] == 0 and grid[5, 5] == 255  # the first pixel is -1 -> 0; the last image (row 1, column 1) ends at 1
    with pytest.raises(ValueError, match="image_grid: expected images of shape"):
        image_grid(tinygen.zeros(2, 28, 28))


def test_png_and_gif_files(tmp_path):
    frame = image_grid(tinygen.zeros(4, 1, 5, 5))
    save_png(frame, tmp_path / "a.png")
    save_gif([frame, 255 - frame], tmp_path / "a.gif")
    assert Image.open(tmp_path / "a.png").size == (2 * frame.shape[1], 2 * frame.shape[0])
    assert Image.open(tmp_path / "a.gif").n_frames == 2


def test_plots(tmp_path):
    plot_history([{"epoch": 1, "loss_d": 1.0, "loss_g": 2.0, "d_accuracy": 0.5},
                  {"epoch": 2, "loss_d": 0.8, "loss_g": 2.5, "d_accuracy": 0.6}], tmp_path / "h.png")
    plot_points(np.zeros((10, 2)), tmp_path / "p.png", reference=np.ones((10, 2)))
    assert Image.open(tmp_path / "h.png").size[0] > 100 and Image.open(tmp_path / "p.png").size[0] > 100


@pytest.mark.parametrize("count, columns", [(1, 1), (10, 4), (64, 8), (65, 9), (10_000, 100)])
def test_sample_grids_are_square(count, columns, monkeypatch, tmp_path):
    """``tinygen sample --n 10000`` draws a 100 x 100 grid (it drew 8 columns and 1,250 rows: 484 x 75,004 px)."""
    from tinygen.training import pictures

    class Recipe:
        sample_kind = "image"

    drawn = {}
    monkeypatch.setattr(pictures, "generate", lambda recipe, noise: tinygen.zeros(len(noise), 1, 2, 2))
    monkeypatch.setattr(pictures, "save_image", lambda picture, path: drawn.update(shape=picture.shape))
    pictures.save_samples(Recipe(), np.zeros((count, 3)), tmp_path / "grid.png")
    rows = -(-count // columns)
    assert drawn["shape"] == (rows * 4 + 2, columns * 4 + 2)


def test_large_pngs_take_the_fast_compression_and_read_back_the_same(monkeypatch, tmp_path):
    from tinygen.viz import images

    saved = []
    real_save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda image, file, **options: (saved.append(options),
                                                                           real_save(image, file, **options)))
    picture = np.random.default_rng(0).integers(0, 256, (60, 50), dtype=np.uint8)
    for limit in (10**9, 100):
        monkeypatch.setattr(images, "FAST_PNG_PIXELS", limit)
        save_png(picture, tmp_path / f"{limit}.png", scale=1)
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"{limit}.png")), picture)
    assert [options.get("compress_level") for options in saved] == [None, 1]


def test_the_latent_walk_is_laid_out_as_the_grid(monkeypatch, tmp_path):
    """It took int(sqrt(n)) columns: 32 walks in 5 columns (the last row holding 2), 2 walks in one column."""
    from tinygen.training import pictures

    layouts = []
    monkeypatch.setattr(pictures, "generate", lambda recipe, noise: tinygen.zeros(len(noise), 1, 2, 2))
    monkeypatch.setattr(pictures, "save_gif", lambda frames, path: layouts.append(frames[0].shape))
    for count in (2, 32):
        pictures.save_latent_walk(None, tinygen.zeros(count, 3), tinygen.zeros(count, 3), tmp_path / "w.gif", frames=2)
    assert layouts == [(1 * 4 + 2, 2 * 4 + 2), (6 * 4 + 2, 6 * 4 + 2)]  # 2: 2 x 1; 32: 6 x 6
