"""Special functions: the error function ``erf`` (for the exact GELU), to float64 accuracy on NumPy and CuPy alike.

NumPy has no erf, so tinygen evaluates W. J. Cody's near-minimax rational approximations ("Rational Chebyshev
approximations for the error function", Math. Comp. 23 (1969) 631-637), with the degrees and coefficients Cody
published for double precision, in three ranges of a = |x|:

    a <= 0.46875:      erf(x)  = x P1(x^2) / Q1(x^2)                    (P1, Q1 of degree 4)
    0.46875 < a <= 4:  erfc(a) = exp(-a^2) P2(a) / Q2(a)                (degree 8)
    a > 4:             erfc(a) = exp(-a^2) / a (1/sqrt(pi) - z P3(z) / Q3(z)),  z = 1 / a^2   (degree 5 and 4)

and erf(x) = sign(x) (1 - erfc(a)) beyond the first. exp(-a^2) is exp(-b^2) exp(-(a - b)(a + b)) with b = a rounded
down to a multiple of 1/16, so the rounding of a^2 does not cost digits. Beyond a = 6, erfc(a) < 2e-17 and erf is
+-1 in float64 (a is capped there: inf gives +-1, not nan). Relative error at most about 2 units in the last place
of float64 (tests/test_special.py compares with Python's math.erf); float32 inputs are computed in float32.
Only array-module functions both libraries have are used, so CuPy runs these same lines.

    d/dx erf(x) = 2 / sqrt(pi) exp(-x^2), written with tinygen's ops, so second derivatives work.
See docs/derivations/activations.md. Tests: tests/test_special.py.
"""
import math

from tinygen.autograd.function import Function
from tinygen.ops import checks
from tinygen.ops.elementwise import exp

__all__ = ["erf"]

# Cody's coefficients, highest power first; the denominators are monic.
_SMALL = ([1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
           3.20937758913846947e03],
          [1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03])
_MIDDLE = ([2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
            2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
            1.23033935479799725e03],
           [1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
            3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03])
_LARGE = ([1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
           1.60837851487422766e-2, 6.58749161529837803e-4],
          [1.0, 2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
           2.33520497626869185e-3])
_SMALL_END, _LARGE_START, _SATURATED = 0.46875, 4.0, 6.0


def _ratio(coefficients, t):
    """P(t) / Q(t) by Horner's rule, for ``coefficients`` = (P's, Q's), highest power first."""
    numerator, denominator = coefficients
    p, q = numerator[0], denominator[0]
    for c in numerator[1:]:
        p = p * t + c
    for c in denominator[1:]:
        q = q * t + c
    return p / q


def erf_array(xp, x):
    """erf of a raw floating-point array ``x`` of module ``xp``, by Cody's approximations (module docstring)."""
    near_zero = xp.clip(x, -_SMALL_END, _SMALL_END)  # each branch is computed on inputs where it stays finite
    small = near_zero * _ratio(_SMALL, near_zero * near_zero)
    a = xp.minimum(xp.abs(x), _SATURATED)
    large_a = xp.maximum(a, _LARGE_START)  # keeps 1 / a^2 finite where that branch is not taken
    z = 1.0 / (large_a * large_a)
    large = (1.0 / math.sqrt(math.pi) - z * _ratio(_LARGE, z)) / large_a
    b = xp.trunc(a * 16.0) / 16.0
    erfc = xp.exp(-b * b) * xp.exp(-(a - b) * (a + b)) * xp.where(a <= _LARGE_START, _ratio(_MIDDLE, a), large)
    return xp.where(xp.abs(x) <= _SMALL_END, small, xp.sign(x) * (1.0 - erfc))


class Erf(Function):
    """y = erf(x) = 2 / sqrt(pi) * integral_0^x exp(-t^2) dt.   dL/dx = g * 2 / sqrt(pi) * exp(-x^2)."""

    save_inputs = True

    def forward(self, x):
        return erf_array(self.backend.xp, x)

    def backward(self, g):
        (x,) = self.saved_inputs
        return g * exp(-(x * x)) * (2.0 / math.sqrt(math.pi))


def erf(input):
    """The error function, elementwise (PyTorch's ``erf``); integer inputs give the default float dtype."""
    return Erf()(checks.float_input("erf", input))
