"""Likely causes of a wrong gradient, read off the numbers: what the analytic gradient would have to be turned into
to match the numeric one.

A wrong shape: not summed over the axes that broadcasting added or stretched (a bias gradient left with its batch
axis), transposed, or the right entries in another shape. The right shape but wrong values: zero everywhere (a
stub; or the numeric one is, for a forward that reads the input from elsewhere), off by a constant factor (2, -1,
1/N), transposed or flipped (a convolution kernel), or an error that is constant along an axis, or proportional to
the centered input along it (a normalization's gradient through the mean or the variance left out). Each check
is exact arithmetic on small host arrays; none guesses from luck.
"""
import itertools
import math

import numpy  # on host copies

from tinygen.testing.comparison import agree


def shape_cause(gradient, shape, numeric, atol, rtol, same_shape_as=None):
    """A sentence on why a gradient (host array) has another shape than its input's ``shape``; ``numeric`` is the
    input's numeric gradient, to tell whether the suggested fix makes it right; ``same_shape_as`` names another
    input of exactly the gradient's shape, if there is one."""
    causes = _shape_causes(gradient.shape, tuple(shape))
    for text, fix in causes:
        if agree(fix(gradient), numeric, atol, rtol):
            return f"{text}; with that fix it matches the numeric gradient"
    if same_shape_as is not None:
        return (f"it has the shape of {same_shape_as}: are the gradients returned in the order of forward's "
                "parameters?")
    if causes:
        return f"{causes[0][0]} (even so it would not match the numeric gradient)"
    return None


def _shape_causes(gradient_shape, shape):
    causes = []
    axes = _unsummed_axes(gradient_shape, shape)
    if axes:
        causes.append((f"it was not summed over {_axes_text(axes)}, which broadcasting added or stretched: "
                       f"sum it there, e.g. {_sum_example(axes, gradient_shape, shape)}",
                       lambda g: g.sum(axis=axes).reshape(shape)))
    if len(shape) >= 2 and gradient_shape == shape[::-1]:
        causes.append(("it has the transposed shape: transpose it (.T)", lambda g: g.T))
    if math.prod(gradient_shape) == math.prod(shape) and not causes:
        causes.append((f"it has the right number of entries in another shape: reshape it, .reshape({shape})",
                       lambda g: g.reshape(shape)))
    return causes


def _unsummed_axes(gradient_shape, shape):
    """The axes of a gradient that summing would remove or shrink to 1 to give ``shape`` (empty if none would)."""
    extra = len(gradient_shape) - len(shape)
    if extra < 0:
        return ()
    axes = list(range(extra))
    for axis, (size, wanted) in enumerate(zip(gradient_shape[extra:], shape), start=extra):
        if size != wanted:
            if wanted != 1:
                return ()
            axes.append(axis)
    return tuple(axes)


def _axes_text(axes):
    return f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"


def _sum_example(axes, gradient_shape, shape):
    axis = axes[0] if len(axes) == 1 else axes
    if len(gradient_shape) == len(shape):
        return f".sum(axis={axis}, keepdims=True)"
    if all(axis < len(gradient_shape) - len(shape) for axis in axes):
        return f".sum(axis={axis})"
    return f".sum(axis={axis}).reshape({shape})"


def value_cause(analytic, numeric, x, atol, rtol, sizes=()):
    """A sentence on how ``analytic`` differs from ``numeric`` (host arrays of one shape), or ``None`` when no simple
    relation explains it. ``x`` holds the input's values (for errors that follow the input); ``sizes`` lists
    ``(description, size)`` of the axes of the inputs and output, to name the N of a factor 1/N."""
    if not analytic.any():
        return ("the analytic gradient is zero everywhere: is backward still a stub, or is this gradient never "
                "filled in?")
    if not numeric.any():
        return ("the numeric gradient is zero everywhere: forward's output does not move when this input does. Does "
                "forward read it from somewhere else (a global, or a dict a closure holds) instead of its argument? "
                "The finite differences move the argument")
    factor = _constant_factor(analytic, numeric, atol, rtol)
    if factor is not None:
        return _factor_text(factor, sizes)
    for text, rearranged in _rearrangements(numeric):
        if agree(analytic, rearranged, atol, rtol):
            return text
    return _error_along_an_axis(analytic - numeric, x)


def _constant_factor(analytic, numeric, atol, rtol):
    """c if analytic = c * numeric everywhere (the least-squares c), else ``None``."""
    squared = float((numeric * numeric).sum())
    if squared == 0.0:
        return None
    factor = float((analytic * numeric).sum()) / squared
    return factor if agree(analytic, factor * numeric, atol, rtol) else None


def _factor_text(factor, sizes):
    if abs(factor + 1) <= 1e-3:
        return "the analytic gradient has the wrong sign everywhere: it is -1 times the numeric one"
    whole, inverse = round(factor), round(1 / factor)
    if abs(whole) >= 2 and abs(factor - whole) <= 1e-3 * abs(factor):
        text, size = f"{whole} times", abs(whole)
    elif abs(inverse) >= 2 and abs(1 / factor - inverse) <= 1e-3 * abs(1 / factor):
        text, size = f"1/{inverse} of", abs(inverse)
    else:
        return f"the analytic gradient is {factor:.6g} times the numeric one everywhere: off by a constant factor"
    factor_name = text.replace(" times", "").replace(" of", "")
    hint = next((f" ({size} is the size of {where}: a mean over that axis where a sum belongs, or the reverse?)"
                 for where, extent in sizes if extent == size), "")
    if not hint and size == 2:
        hint = " (the 2 of a square's derivative, d(x^2)/dx = 2x, counted twice or left out?)"
    return (f"the analytic gradient is {text} the numeric one everywhere: off by a constant factor of "
            f"{factor_name}{hint}")


def _rearrangements(numeric):
    """(sentence, numeric rearranged) for a transpose and for flips along every set of axes."""
    if numeric.ndim >= 2 and numeric.shape[-1] == numeric.shape[-2]:
        yield ("the gradient is transposed: it equals the numeric one with its last two axes swapped (.T)",
               numpy.swapaxes(numeric, -1, -2))
    long_axes = [axis for axis, size in enumerate(numeric.shape) if size > 1]
    for count in range(1, len(long_axes) + 1):
        for axes in itertools.combinations(long_axes, count):
            yield (f"the gradient is flipped along {_axes_text(axes)}: it equals the numeric one reversed there (a "
                   "kernel flipped where it should not be, or not flipped where it should?)", numpy.flip(numeric, axes))


def _error_along_an_axis(error, x):
    """The error (analytic - numeric) along some axis: constant (a missing mean term), proportional to the centered
    input (a missing variance term), or both. Only axes of size 3 or more (4 for both), where a fit can fail."""
    scale = numpy.abs(error).max()
    for axis, size in enumerate(error.shape):
        if size < 3:
            continue
        constant = error.mean(axis=axis, keepdims=True)
        centered = x - x.mean(axis=axis, keepdims=True)
        squares = (centered * centered).sum(axis=axis, keepdims=True)
        slope = (error * centered).sum(axis=axis, keepdims=True) / numpy.where(squares > 0, squares, 1.0)
        where = f"along axis {axis} (size {size})"
        if numpy.abs(error - constant).max() <= 1e-3 * scale:
            return (f"the error (analytic - numeric) is the same all {where}: a term that sums or averages over "
                    "that axis is missing or wrong (batch norm's gradient through the mean?)")
        if (squares > 0).all() and numpy.abs(error - slope * centered).max() <= 1e-3 * scale:
            return (f"the error (analytic - numeric) is proportional, {where}, to the centered input "
                    f"x - x.mean(axis={axis}): a term through the variance over that axis is missing or wrong (batch "
                    "norm's gradient through the variance?)")
        if size >= 4 and (squares > 0).all() and numpy.abs(error - constant - slope * centered).max() <= 1e-3 * scale:
            return (f"the error (analytic - numeric) is a constant plus a multiple of the centered input {where}: "
                    "the terms through both the mean and the variance over that axis are missing or wrong (batch "
                    "norm?)")
    return None
