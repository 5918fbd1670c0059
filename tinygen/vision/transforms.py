"""``transforms``: torchvision's image transforms, for PIL images and for tensors (C, H, W) or (N, C, H, W).

    transforms.Compose([transforms.Resize(32), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    ToTensor      PIL image or uint8 array (H, W[, C]) -> float tensor (C, H, W) in [0, 1] (pixels / 255)
    PILToTensor   PIL image -> uint8 tensor (C, H, W)
    Normalize     (x - mean[c]) / std[c] per channel
    Resize        to (h, w), or the shorter side to ``size`` keeping the aspect ratio; bilinear or nearest.
                  A PIL image is resized by Pillow (as torchvision does, so the pixels are identical); a tensor
                  by ``F.interpolate`` (align_corners=False). Shrinking a tensor with ``antialias=True`` (the
                  default) is not supported: resize the PIL image instead (MNIST gives PIL images).
    CenterCrop    the central (h, w) window, padded with zeros where the image is smaller
    Lambda        any function of the image
    Compose       one after another
"""
import enum
import numbers

import numpy
from PIL import Image

from tinygen import creation
from tinygen.backend import dtypes
from tinygen.ops.pooling import interpolate
from tinygen.ops.padding import pad
from tinygen.tensor import Tensor

__all__ = ["CenterCrop", "Compose", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Resize", "ToTensor"]


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


_PIL_FILTERS = {InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.BILINEAR: Image.BILINEAR}
_FROM_PIL_CONSTANT = {Image.NEAREST: InterpolationMode.NEAREST, Image.BILINEAR: InterpolationMode.BILINEAR,
                      Image.BICUBIC: InterpolationMode.BICUBIC}


def _image_size(image):
    """(height, width) of a PIL image or a tensor (..., H, W)."""
    if isinstance(image, Image.Image):
        return image.height, image.width
    if isinstance(image, Tensor) and image.ndim >= 2:
        return tuple(image.shape[-2:])
    raise TypeError(f"expected a PIL image or a tensor (..., H, W), got {type(image).__name__}")


def _pair(name, size):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: size must be an int or a pair (h, w), got {size!r}")


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {transform}\n" for transform in self.transforms) + ")"


class Lambda:
    """Apply ``lambd`` (any function of the image)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self):
        return "Lambda()"


def _pixel_array(image, name):
    """A PIL image or a NumPy array as an (H, W, C) array."""
    if isinstance(image, Image.Image):
        array = numpy.array(image, dtype={"I": numpy.int32, "F": numpy.float32}.get(image.mode, numpy.uint8))
        if image.mode == "1":
            array = array * numpy.uint8(255)
    elif isinstance(image, numpy.ndarray):
        if image.ndim not in (2, 3):
            raise ValueError(f"{name}: expected an array (H, W) or (H, W, C), got shape {image.shape}")
        array = image
    else:
        raise TypeError(f"{name}: expected a PIL image or a NumPy array, got {type(image).__name__}")
    return array[:, :, None] if array.ndim == 2 else array


class ToTensor:
    """PIL image or array (H, W[, C]) -> tensor (C, H, W); uint8 pixels become floats / 255 in the default float
    dtype, other dtypes are kept."""

    def __call__(self, pic):
        array = numpy.ascontiguousarray(_pixel_array(pic, "ToTensor").transpose(2, 0, 1))
        if array.dtype == numpy.uint8:
            return creation.tensor(array).to(dtype=dtypes.default_float_dtype) / 255
        return creation.tensor(array)

    def __repr__(self):
        return "ToTensor()"


class PILToTensor:
    """PIL image -> tensor (C, H, W) of its pixels' own dtype (uint8 for "L" and "RGB")."""

    def __call__(self, pic):
        if not isinstance(pic, Image.Image):
            raise TypeError(f"PILToTensor: expected a PIL image, got {type(pic).__name__}")
        return creation.tensor(numpy.ascontiguousarray(_pixel_array(pic, "PILToTensor").transpose(2, 0, 1)))

    def __repr__(self):
        return "PILToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a float tensor (C, H, W) or (N, C, H, W)."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = tuple(mean), tuple(std), inplace
        if any(value == 0 for value in self.std):
            raise ValueError(f"Normalize: std {self.std} has a zero, which would divide by zero")

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor) or not tensor.is_floating_point() or tensor.ndim < 3:
            raise TypeError(f"Normalize: expected a float tensor (C, H, W) or (N, C, H, W), got "
                            f"{getattr(tensor, 'dtype', type(tensor).__name__)} {getattr(tensor, 'shape', '')}")
        channels = tensor.shape[-3]
        mean = creation.tensor(self.mean, dtype=tensor.dtype, device=tensor.device).reshape(-1, 1, 1)
        std = creation.tensor(self.std, dtype=tensor.dtype, device=tensor.device).reshape(-1, 1, 1)
        if mean.shape[0] not in (1, channels) or std.shape[0] not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means and {len(self.std)} stds for {channels} channels")
        return (tensor - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


def resized_size(height, width, size, max_size=None):
    """torchvision's target size: (h, w) as given, or the shorter side set to ``size`` and the longer one scaled
    (rounded down), then capped at ``max_size``."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    requested = int(size[0] if isinstance(size, (tuple, list)) else size)
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"Resize: max_size {max_size} must be larger than the requested size {requested}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


class Resize:
    """Resize to ``size``; see the module docstring for PIL images versus tensors."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if isinstance(interpolation, int):
            interpolation = _FROM_PIL_CONSTANT.get(interpolation, interpolation)
        if interpolation not in _PIL_FILTERS:
            raise ValueError(f"Resize: tinygen supports InterpolationMode.NEAREST and BILINEAR, got {interpolation!r}")
        if isinstance(size, (tuple, list)) and len(size) not in (1, 2) or not isinstance(size, (int, tuple, list)):
            raise ValueError(f"Resize: size must be an int or a sequence of 1 or 2 ints, got {size!r}")
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def __call__(self, image):
        height, width = _image_size(image)
        target = resized_size(height, width, self.size, self.max_size)
        if target == (height, width):
            return image
        if isinstance(image, Image.Image):
            return image.resize((target[1], target[0]), _PIL_FILTERS[self.interpolation])
        bilinear = self.interpolation is InterpolationMode.BILINEAR
        if bilinear and self.antialias and (target[0] < height or target[1] < width):
            raise NotImplementedError(
                f"Resize: shrinking a tensor {(height, width)} -> {target} with antialias=True is not supported in "
                "tinygen; resize the PIL image before ToTensor(), or pass antialias=False")
        batch = image.reshape(-1, *image.shape[-3:]) if image.ndim >= 3 else image.reshape(1, 1, height, width)
        resized = interpolate(batch, size=target, mode=self.interpolation.value,
                              align_corners=False if bilinear else None)
        return resized.reshape(*image.shape[:-2], *target)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation.value}, max_size={self.max_size})"


class CenterCrop:
    """The central ``size`` (h, w) window; where the image is smaller it is first padded with zeros around."""

    def __init__(self, size):
        self.size = _pair("CenterCrop", size)

    def __call__(self, image):
        crop_height, crop_width = self.size
        height, width = _image_size(image)
        if crop_height > height or crop_width > width:
            left, top = max(crop_width - width, 0) // 2, max(crop_height - height, 0) // 2
            right, bottom = max(crop_width - width + 1, 0) // 2, max(crop_height - height + 1, 0) // 2
            image = _pad(image, left, top, right, bottom)
            height, width = _image_size(image)
        top, left = int(round((height - crop_height) / 2.0)), int(round((width - crop_width) / 2.0))
        if isinstance(image, Image.Image):
            return image.crop((left, top, left + crop_width, top + crop_height))
        return image[..., top:top + crop_height, left:left + crop_width]

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


def _pad(image, left, top, right, bottom):
    """Zeros around an image: a new PIL image, or ``F.pad`` of a tensor."""
    if isinstance(image, Image.Image):
        padded = Image.new(image.mode, (image.width + left + right, image.height + top + bottom))
        padded.paste(image, (left, top))
        return padded
    return pad(image, (left, right, top, bottom))
