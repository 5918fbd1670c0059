"""``tinygen.vision``: the part of torchvision that MNIST scripts use, with torchvision's names and defaults.

    from tinygen.vision import datasets, transforms
    from tinygen.vision.utils import save_image

    dataset = datasets.MNIST("data", train=True, transform=transforms.Compose([
        transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    save_image(fake_images, "samples.png", nrow=8, normalize=True)

``datasets`` (MNIST), ``transforms`` (ToTensor, Normalize, Compose, Resize, CenterCrop, Lambda ...) and
``utils`` (make_grid, save_image). Images are PIL images until ``ToTensor``, as in torchvision. Host-side code:
it reads files and pixels with NumPy and Pillow, and hands tensors to tinygen.
"""
from tinygen.vision import datasets, transforms, utils  # noqa: F401

__all__ = ["datasets", "transforms", "utils"]
