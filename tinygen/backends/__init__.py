"""``tinygen.backends``: PyTorch's ``torch.backends`` switches that scripts set, accepted so they run unchanged.

tinygen's array backends live in ``tinygen.backend`` (singular); this package only answers the questions
PyTorch scripts ask (``tinygen.backends.cudnn.benchmark = True``, ``tinygen.backends.mps.is_available()``).
"""
from tinygen.backends import cudnn, mps  # noqa: F401
