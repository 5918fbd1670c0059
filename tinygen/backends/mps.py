"""``tinygen.backends.mps``: Apple's GPU is not a tinygen device; scripts that ask get "no"."""


def is_available():
    return False


def is_built():
    return False
