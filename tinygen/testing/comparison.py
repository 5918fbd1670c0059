"""Comparing an analytic gradient with a numeric one, element by element: pass where
|analytic - numeric| <= atol + rtol * |numeric| everywhere, else the first lines of a failure report.

That test alone passes any gradient whose entries are all below ``atol``, a wrong sign or a stub of zeros
included (a loss scaled by 1e-6, a regularization term). Such a gradient (``is_small``) is also compared relative
to its own size, given the ``noise`` of its finite differences: |analytic - numeric| <= rtol * scale + noise, with
scale the largest |entry| of either. An atol raised above the default is the caller's to keep: it applies alone.
"""
import numpy  # the comparison happens on host copies

#: the checks' default atol; a larger one, chosen by the caller, turns the comparison relative to size off
DEFAULT_ATOL = 1e-5

from tinygen.testing.arrays import first_non_finite


def is_small(analytic, numeric, atol):
    """Whether every entry of both gradients is below ``atol`` (at most the default): atol alone would pass them."""
    scale = max(float(numpy.abs(analytic).max(initial=0.0)), float(numpy.abs(numeric).max(initial=0.0)))
    return scale < atol <= DEFAULT_ATOL


def mismatch(who, label, analytic, numeric, atol, rtol, noise=None):
    """``None`` if the two NumPy arrays agree; else ``(worst index, report lines)``: the input, its shape and the
    worst element's index; the values there and the tolerance; how many entries are off. With ``noise`` (for a
    gradient ``is_small``), the comparison relative to the gradient's size applies too."""
    if numeric.size == 0:
        return None
    if not numpy.isfinite(numeric).all():
        worst = first_non_finite(numeric)
        return worst, [
            f"{who}: the numeric gradient for {label} (shape {tuple(numeric.shape)}) is {numeric[worst]} at index "
            f"{worst}: the function gave nan or inf when that entry moved by eps; is it defined that close (sqrt or "
            "log near 0)? Move the input further from the edge, or pass a smaller eps"
        ]
    difference = numpy.abs(analytic - numeric)
    tolerance = atol + rtol * numpy.abs(numeric)
    scale = max(float(numpy.abs(analytic).max()), float(numpy.abs(numeric).max()))
    relative = noise is not None
    if relative:
        tolerance = numpy.minimum(tolerance, rtol * scale + noise)
    excess = difference - tolerance
    if excess.max() <= 0:
        return None
    worst = tuple(int(i) for i in numpy.unravel_index(int(excess.argmax()), numeric.shape))
    rule = (f" = rtol {rtol} * {scale:.3g} + noise {noise:.3g}: the gradient is small (largest entry "
            f"{scale:.3g} < atol {atol}), so it is compared relative to its own size" if relative else
            f" (atol {atol} + rtol {rtol} * |numeric|)")
    return worst, [
        f"{who}: gradient mismatch for {label} (shape {tuple(numeric.shape)}) at index {worst}:",
        f"analytic {analytic[worst]:.10g}, numeric {numeric[worst]:.10g}, |difference| {difference[worst]:.3g} > "
        f"tolerance {tolerance[worst]:.3g}{rule}",
        f"{int((excess > 0).sum())} of {numeric.size} entries are off; largest |difference| overall "
        f"{difference.max():.3g}",
    ]


def agree(analytic, numeric, atol, rtol):
    """True where the two arrays agree everywhere (the test ``mismatch`` applies)."""
    return bool((numpy.abs(analytic - numeric) <= atol + rtol * numpy.abs(numeric)).all())
