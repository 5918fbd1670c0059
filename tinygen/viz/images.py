"""Image grids and animations, written with Pillow. Host-side code: it works on NumPy arrays.

A picture's format follows its file name's suffix (``image_format``): PNG, JPEG, or GIF for animations; any
other suffix is an error that says which ones work, never a file whose bytes disagree with its name.
"""
import os

import numpy
from PIL import Image

from tinygen.files import atomic_write

#: suffix -> Pillow format, for still pictures and for animations
PICTURE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
ANIMATION_FORMATS = {".gif": "GIF"}
#: JPEG quality (Pillow's scale, 1-95): high, since sample grids are small and sharp-edged
JPEG_QUALITY = 95
#: PNGs of more pixels than this (a grid of 10,000 digits, enlarged: 36 million) are compressed with zlib's fastest
#: level: 0.5 s instead of 2 s, for a file 10% larger; smaller ones keep Pillow's default level
FAST_PNG_PIXELS = 4_000_000


def image_format(path, formats=None, what="a picture"):
    """The Pillow format that ``path``'s suffix asks for, from ``formats`` (default ``PICTURE_FORMATS``);
    ``ValueError`` naming the suffixes that work if it is another (or none)."""
    formats = PICTURE_FORMATS if formats is None else formats
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in formats:
        choices = ", ".join(formats)
        found = f"its suffix {suffix!r} is not one of" if suffix else "it has no suffix: use one of"
        raise ValueError(f"cannot write {what} to {os.fspath(path)!r}: the format follows the file name's suffix, "
                         f"and {found} {choices}")
    return formats[suffix]


def _host_images(images):
    """A tensor (N, C, H, W) on any device, or a NumPy array, -> a NumPy float array."""
    if hasattr(images, "detach"):
        images = images.detach().numpy()
    return numpy.asarray(images, dtype=numpy.float64)


def image_grid(images, nrow=8, padding=2, value_range=(-1.0, 1.0), pad_value=0):
    """Tile images (N, 1 or 3, H, W) with values in ``value_range`` into one uint8 picture (rows of ``nrow``).

    Returns an (H', W') array for single-channel images, else (H', W', 3).
    """
    images = _host_images(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image_grid: expected images of shape (N, 1 or 3, H, W), got {images.shape}")
    low, high = value_range
    pixels = numpy.clip((images - low) / (high - low), 0.0, 1.0)
    pixels = numpy.round(pixels * 255).astype(numpy.uint8).transpose(0, 2, 3, 1)
    count, height, width, channels = pixels.shape
    columns = min(nrow, count)
    rows = -(-count // columns)
    grid = numpy.full((rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
                      pad_value, dtype=numpy.uint8)
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[top:top + height, left:left + width] = pixels[index]
    return grid[..., 0] if channels == 1 else grid


def save_png(picture, path, scale=2):
    """Save a uint8 picture (H, W) or (H, W, 3) as PNG, enlarged ``scale`` times (nearest) to be seen easily."""
    _save_still(picture, path, "PNG", scale)


def save_image(picture, path, scale=2):
    """Save a uint8 picture as PNG or JPEG, as ``path``'s suffix says (``image_format``), enlarged ``scale`` times."""
    _save_still(picture, path, image_format(path), scale)


def _save_still(picture, path, format, scale):
    image = Image.fromarray(picture)
    if scale != 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    options = {"quality": JPEG_QUALITY} if format == "JPEG" else {}
    if format == "PNG" and image.width * image.height > FAST_PNG_PIXELS:
        options = {"compress_level": 1}
    atomic_write(path, lambda file: image.save(file, format=format, **options))


def save_gif(frames, path, duration_ms=80, scale=2):
    """Save uint8 pictures as a looping GIF animation (``path`` must end in .gif)."""
    image_format(path, ANIMATION_FORMATS, what="an animation")
    images = [Image.fromarray(frame) for frame in frames]
    if scale != 1:
        images = [image.resize((image.width * scale, image.height * scale), Image.NEAREST) for image in images]
    atomic_write(path, lambda file: images[0].save(
        file, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0))
