"""``make_grid`` and ``save_image``, torchvision's picture helpers, with its arguments and defaults.

    make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0)
    save_image(tensor, fp, format=None, **make_grid's arguments)

Images are (B, C, H, W) (or a list of (C, H, W)) with values in [0, 1], unless ``normalize=True`` maps
``value_range`` (default: the batch's min and max) to [0, 1]. One-channel images become three-channel grids,
as in torchvision. ``save_image`` writes ``round(255 x)`` clamped to [0, 255]; a path is written atomically
(the old file stays whole until the new one is complete).
"""
import math
import os

from PIL import Image

from tinygen.autograd.grad_mode import no_grad
from tinygen.backend.dtypes import uint8
from tinygen.creation import full
from tinygen.files import atomic_write
from tinygen.ops.shape import cat, stack
from tinygen.tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _batch(tensor):
    """``tensor`` (or a list of images) as a detached (B, C, H, W) batch, one-channel images made three-channel."""
    if isinstance(tensor, list):
        if not all(isinstance(item, Tensor) for item in tensor):
            raise TypeError("make_grid: expected a tensor or a list of tensors, got a list holding other things")
        tensor = stack(tensor)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_grid: expected a tensor or a list of tensors, got {type(tensor).__name__}")
    tensor = tensor.detach()
    if tensor.ndim == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 3:
        if tensor.shape[0] == 1:
            tensor = cat([tensor, tensor, tensor], 0)
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got shape {tensor.shape}")
    if tensor.shape[1] == 1:
        tensor = cat([tensor, tensor, tensor], 1)
    return tensor


def _to_unit_range(tensor, low, high):
    """clamp to [low, high], then (x - low) / max(high - low, 1e-5)."""
    return (tensor.clamp(low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """The images tiled in rows of ``nrow`` with ``padding`` pixels of ``pad_value`` around each: a (C, H', W')
    tensor (a single image comes back as it is, after the channel and range handling)."""
    with no_grad():
        tensor = _batch(tensor)
        if normalize:
            if value_range is not None and not isinstance(value_range, tuple):
                raise TypeError("make_grid: value_range must be a tuple (min, max) of numbers")

            def unit(images):
                low, high = value_range if value_range is not None else (float(images.min()), float(images.max()))
                return _to_unit_range(images, low, high)

            tensor = stack([unit(image) for image in tensor]) if scale_each else unit(tensor)
        if tensor.shape[0] == 1:
            return tensor.squeeze(0)
        count, channels, height, width = tensor.shape
        columns = min(nrow, count)
        rows = int(math.ceil(count / columns))
        cell_height, cell_width = height + padding, width + padding
        grid = full((channels, rows * cell_height + padding, columns * cell_width + padding), float(pad_value),
                    dtype=tensor.dtype, device=tensor.device)
        for index in range(count):
            top = (index // columns) * cell_height + padding
            left = (index % columns) * cell_width + padding
            grid[:, top:top + height, left:left + width] = tensor[index]
        return grid


def save_image(tensor, fp, format=None, **grid_options):
    """Write ``make_grid(tensor, **grid_options)`` as an image file (format from the file name or ``format``)."""
    with no_grad():
        grid = make_grid(tensor, **grid_options)
        pixels = (grid * 255 + 0.5).clamp(0, 255).permute(1, 2, 0).to("cpu", uint8).numpy()
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    if hasattr(fp, "write"):
        picture.save(fp, format=format)
        return
    if format is None:
        extension = os.path.splitext(os.fspath(fp))[1].lower()
        format = Image.registered_extensions().get(extension)
        if format is None:
            raise ValueError(f"save_image: cannot tell the image format from {os.fspath(fp)!r}; pass format='PNG'")
    atomic_write(fp, lambda file: picture.save(file, format=format))
