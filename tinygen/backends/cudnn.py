"""``tinygen.backends.cudnn``: the flags PyTorch scripts set, accepted with no effect.

tinygen's convolutions are matrix products (im2col) on every device, not cuDNN calls, so there is nothing to
benchmark or make deterministic: its results are already deterministic.
"""
benchmark = False
deterministic = False
enabled = True


def is_available():
    """False: tinygen does not call cuDNN."""
    return False


def version():
    return None
