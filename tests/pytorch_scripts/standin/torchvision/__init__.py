"""A stand-in for the few parts of torchvision the scripts use, for machines where torchvision cannot be
installed beside this PyTorch (see ../../run_script.py). Not part of tinygen."""
from torchvision import datasets, transforms, utils  # noqa: F401
