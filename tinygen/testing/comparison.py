"""Comparing an analytic gradient with a numeric one, element by element: pass where
|analytic - numeric| <= atol + rtol * |numeric| everywhere, else the first lines of a failure report."""
import numpy  # the comparison happens on host copies


def mismatch(who, label, analytic, numeric, atol, rtol):
    """``None`` if the two NumPy arrays agree; else ``(worst index, report lines)``: the input, its shape and the
    worst element's index; the values there and the tolerance; how many entries are off."""
    difference = numpy.abs(analytic - numeric)
    tolerance = atol + rtol * numpy.abs(numeric)
    excess = difference - tolerance
    if numeric.size == 0 or excess.max() <= 0:
        return None
    worst = tuple(int(i) for i in numpy.unravel_index(int(excess.argmax()), numeric.shape))
    return worst, [
        f"{who}: gradient mismatch for {label} (shape {tuple(numeric.shape)}) at index {worst}:",
        f"analytic {analytic[worst]:.10g}, numeric {numeric[worst]:.10g}, |difference| {difference[worst]:.3g} > "
        f"tolerance {tolerance[worst]:.3g} (atol {atol} + rtol {rtol} * |numeric|)",
        f"{int((excess > 0).sum())} of {numeric.size} entries are off; largest |difference| overall "
        f"{difference.max():.3g}",
    ]


def agree(analytic, numeric, atol, rtol):
    """True where the two arrays agree everywhere (the test ``mismatch`` applies)."""
    return bool((numpy.abs(analytic - numeric) <= atol + rtol * numpy.abs(numeric)).all())
