"""Differentiable augmentation: gradients through the shifts and cut-outs (first and second order), the transforms
against NumPy, the same draws transform two batches alike, and each image gets its own draw."""
import numpy as np
import pytest

import tinygen
from tinygen.nn.augment import cutout, diff_augment, translate
from tinygen.random import Generator
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


def _seeded(function, *args, **kwargs):
    """``function`` with a fresh generator of one seed on every call: the same draws each time (finite differences
    evaluate it many times)."""
    return lambda images: function(images, *args, generator=Generator(seed=7), **kwargs)


@pytest.mark.parametrize("augment", [
    _seeded(translate, 2), _seeded(cutout, 3), _seeded(diff_augment, shift=1, cutout_size=2),
])
def test_gradients(augment):
    images = random_tensor((3, 2, 5, 4))
    gradcheck(augment, [images])
    gradgradcheck(augment, [images])


def test_translate_moves_each_image_and_fills_the_background():
    images = random_tensor((6, 2, 7, 5), requires_grad=False)
    shifted = host(translate(images, 2, fill=-1.0, generator=Generator(seed=3)))
    draws = Generator(seed=3)
    dy = host(tinygen.randint(0, 5, (6, 1, 1), generator=draws)).ravel() - 2
    dx = host(tinygen.randint(0, 5, (6, 1, 1), generator=draws)).ravel() - 2
    padded = np.pad(host(images), ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    for n in range(6):  # out[i, j] = x[i + dy, j + dx]: the picture moves by (-dy, -dx)
        np.testing.assert_array_equal(shifted[n], padded[n, :, 2 + dy[n]:2 + dy[n] + 7, 2 + dx[n]:2 + dx[n] + 5])
    assert len(set(zip(dy, dx))) > 1, "every image gets its own shift, not one for the whole batch"


def test_cutout_hides_one_square_per_image():
    images = tinygen.ones(20, 1, 9, 9)
    hidden = host(cutout(images, 3, fill=-1.0, generator=Generator(seed=4))) == -1.0
    counts = hidden.reshape(20, -1).sum(axis=1)
    assert counts.max() == 9 and counts.min() >= 4  # a 3x3 square, cut by the border where its centre is near it
    rows, cols = np.nonzero(hidden[np.argmax(counts), 0])
    assert rows.max() - rows.min() == 2 and cols.max() - cols.min() == 2


def test_the_same_draws_transform_real_and_fake_alike():
    """Given one generator state, two batches get the same shift and cut-out per position: with fill 0 the map is
    linear, so augmenting real and fake separately equals augmenting their sum."""
    real, fake = random_tensor((4, 1, 8, 8), seed=1, requires_grad=False), random_tensor((4, 1, 8, 8), seed=2,
                                                                                         requires_grad=False)

    def augment(images):
        return diff_augment(images, shift=2, cutout_size=3, fill=0.0, generator=Generator(seed=5))

    np.testing.assert_allclose(host(augment(real) + augment(fake)), host(augment(real + fake)), rtol=1e-12)
    assert not np.array_equal(host(augment(real)), host(diff_augment(real, 2, 3, 0.0, Generator(seed=6))))


def test_no_augmentation_is_the_identity():
    images = random_tensor((2, 1, 4, 4), requires_grad=False)
    assert diff_augment(images, shift=0, cutout_size=0) is images
