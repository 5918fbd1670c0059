"""Public test helpers: gradient checks for tinygen code (``gradcheck``, ``gradgradcheck``: first and second
order), for a backward written by hand with plain NumPy or CuPy arrays (``check_backward``), the finite differences
themselves (``numerical_gradient``) and, in ``tinygen.testing.strategies``, hypothesis strategies for shapes,
tensors and arrays. Usable by any project: see docs/testing.md and docs/check-your-backward.md."""
from tinygen.testing.check_backward import check_backward
from tinygen.testing.errors import GradcheckError
from tinygen.testing.gradcheck import gradcheck, gradgradcheck
from tinygen.testing.numerical import numerical_gradient

__all__ = ["GradcheckError", "check_backward", "gradcheck", "gradgradcheck", "numerical_gradient"]
