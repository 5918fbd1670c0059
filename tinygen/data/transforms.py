"""Batch transforms: callables from one tensor to another, applied by the ``DataLoader`` on the device,
to the first tensor of every batch (the inputs; labels pass through).

    DataLoader(dataset, 64, transform=Compose([ScalePixels(-1.0, 1.0), Flatten()]))   # (64, 784) in [-1, 1]

Moving uint8 pixels to the device and scaling them there sends a quarter of the bytes float32 would.
"""
from tinygen.backend.dtypes import float32, is_floating, to_dtype

__all__ = ["Compose", "Flatten", "ScalePixels"]


class ScalePixels:
    """uint8 pixels in [0, 255] -> floats in [low, high]:  x * (high - low) / 255 + low.

    ``ScalePixels()`` gives [0, 1] (for a sigmoid / Bernoulli output), ``ScalePixels(-1.0, 1.0)`` gives [-1, 1]
    (for a tanh output, as DCGAN uses).
    """

    def __init__(self, low=0.0, high=1.0, dtype=float32, max_value=255):
        if not low < high:
            raise ValueError(f"ScalePixels: need low < high, got low={low}, high={high}")
        self.dtype = to_dtype(dtype)
        if not is_floating(self.dtype):
            raise TypeError(f"ScalePixels: dtype must be floating-point, got {self.dtype}")
        self.low, self.high, self.max_value = low, high, max_value

    def __call__(self, images):
        return images.to(dtype=self.dtype) * ((self.high - self.low) / self.max_value) + self.low

    def __repr__(self):
        return f"ScalePixels(low={self.low}, high={self.high}, dtype={self.dtype})"


class Flatten:
    """(N, C, H, W) -> (N, C * H * W): everything from ``start_dim`` on merged into one dimension."""

    def __init__(self, start_dim=1):
        self.start_dim = start_dim

    def __call__(self, images):
        return images.flatten(self.start_dim)

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim})"


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, images):
        for transform in self.transforms:
            images = transform(images)
        return images

    def __repr__(self):
        return f"Compose({self.transforms!r})"
