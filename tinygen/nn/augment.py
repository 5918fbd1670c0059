"""Differentiable augmentation (Zhao et al. 2020, "DiffAugment"): random shifts and cut-outs applied to every
image a GAN's discriminator sees, real and generated alike, in both players' steps.

A discriminator trained on few images (the bundled 9,000 digits) starts to memorize them; showing it the
images moved and partly hidden makes that harder. The generator's step sees the same kinds of transforms
and its gradient flows back through them: each one is a fixed linear map of the pixels for given random
draws (a shift is a permutation with zero fill, a cut-out a mask), so its backward is its transpose.

    translate:  out[n, c, i, j] = x[n, c, i - dy_n, j - dx_n]  (``fill`` where that falls outside),  |d| <= shift
    cutout:     out = x * mask + fill * (1 - mask),  mask zero on one size x size square per image
"""
from tinygen.creation import arange, randint
from tinygen.ops.indexing import gather
from tinygen.ops.padding import pad

__all__ = ["cutout", "diff_augment", "translate"]


def translate(images, shift, fill=-1.0, generator=None):
    """Move each image (N, C, H, W) by its own random (dy, dx), each in [-shift, shift]; uncovered pixels get
    ``fill`` (the background: -1 for images in [-1, 1])."""
    n, channels, height, width = images.shape
    padded = pad(images, (shift, shift, shift, shift), value=fill)
    padded_width = width + 2 * shift
    dy, dx = (randint(0, 2 * shift + 1, (n, 1, 1), generator=generator, device=images.device) for _ in range(2))
    rows = arange(height, device=images.device).reshape(1, height, 1) + dy   # rows of the padded image to read
    cols = arange(width, device=images.device).reshape(1, 1, width) + dx
    index = (rows * padded_width + cols).reshape(n, 1, height * width).expand(n, channels, height * width)
    return gather(padded.reshape(n, channels, -1), 2, index).reshape(n, channels, height, width)


def cutout(images, size, fill=-1.0, generator=None):
    """Set one ``size`` x ``size`` square per image (N, C, H, W), at a random centre, to ``fill``."""
    n, _, height, width = images.shape
    centre_y = randint(0, height, (n, 1, 1, 1), generator=generator, device=images.device)
    centre_x = randint(0, width, (n, 1, 1, 1), generator=generator, device=images.device)
    rows = arange(height, device=images.device).reshape(1, 1, height, 1)
    cols = arange(width, device=images.device).reshape(1, 1, 1, width)
    inside = ((rows - centre_y).abs() * 2 < size) & ((cols - centre_x).abs() * 2 < size)
    keep = (~inside).to(dtype=images.dtype)
    return images * keep + fill * (1.0 - keep)


def diff_augment(images, shift=3, cutout_size=0, fill=-1.0, generator=None):
    """The augmentation applied to every batch D sees: ``translate`` by up to ``shift`` pixels, then (if
    ``cutout_size``) ``cutout``. Pass the same ``generator`` state to transform two batches alike."""
    if shift:
        images = translate(images, shift, fill, generator)
    if cutout_size:
        images = cutout(images, cutout_size, fill, generator)
    return images
