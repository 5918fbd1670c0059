"""Public test helpers: gradient checks (first and second order) and, in ``tinygen.testing.strategies``,
hypothesis strategies for shapes and tensors. Usable by any project that defines its own ops."""
from tinygen.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
