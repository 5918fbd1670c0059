"""``tinygen.nn.utils``: helpers around training and layers, PyTorch's names (``clip_grad_norm_``, ``clip_grad_value_``,
``spectral_norm``)."""
from tinygen.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from tinygen.nn.utils.spectral_norm import spectral_norm  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_value_", "spectral_norm"]


def __getattr__(name):  # a PyTorch name tinygen lacks: say so (tinygen/missing_names.py)
    from tinygen import missing_names

    raise missing_names.error("nn.utils", name)
