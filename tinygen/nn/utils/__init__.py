"""Utilities that change how a layer uses its parameters (PyTorch's ``torch.nn.utils``)."""
from tinygen.nn.utils.spectral_norm import spectral_norm

__all__ = ["spectral_norm"]
