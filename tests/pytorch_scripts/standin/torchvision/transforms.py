"""torchvision's ToTensor, Normalize, Resize (of PIL images), Compose and Lambda, for the stand-in."""
import numpy
import torch
from PIL import Image


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image


class Lambda:
    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)


class ToTensor:
    def __call__(self, pic):
        pixels = numpy.array(pic, dtype=numpy.uint8)
        pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
        return torch.from_numpy(pixels.transpose(2, 0, 1).copy()).to(torch.get_default_dtype()).div(255)


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, tensor):
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
        return tensor.sub(mean).div(std)


class Resize:
    def __init__(self, size):
        self.size = size

    def __call__(self, image):
        width, height = image.size
        if isinstance(self.size, int):
            short, long = min(width, height), max(width, height)
            new_short, new_long = self.size, int(self.size * long / short)
            target = (new_short, new_long) if width <= height else (new_long, new_short)
        else:
            target = (self.size[1], self.size[0])
        return image if target == (width, height) else image.resize(target, Image.BILINEAR)
