"""Hypothesis strategies for testing ops: shapes, broadcastable shapes, tensors, and plain arrays.

    from hypothesis import given
    from tinygen.testing import gradcheck, strategies as tst

    @given(tst.tensors(tst.shapes(max_dims=3), requires_grad=True, away_from=(0.0,)))
    def test_my_op(x):
        gradcheck(my_op, [x])

Tensors are float64 by default (what gradcheck needs), drawn from a seeded generator (so shrinking
works on the seed and the shape, not on every element), and sometimes laid out non-contiguously.
``away_from`` keeps values at least ``margin`` from the kinks of non-smooth ops (relu, abs at 0).
``arrays`` draws plain NumPy (or CuPy) arrays the same way, for code checked with ``check_backward``.

Profiles: ``load_profile()`` selects one of ``dev`` (fast), ``ci`` and ``heavy`` from the
``TINYGEN_HYPOTHESIS_PROFILE`` environment variable (default ``dev``). ``dev`` and ``ci`` are derandomized:
every run draws the same examples, so a result can be reproduced and never changes by chance; ``heavy`` draws
new ones each run, to look for cases the fixed draws miss.
"""
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tinygen import backend as backends
from tinygen.backend.dtypes import float64, to_dtype
from tinygen.random import Generator
from tinygen.tensor import Tensor

PROFILES = {
    "dev": dict(max_examples=15, derandomize=True, database=None),
    "ci": dict(max_examples=40, derandomize=True, database=None),
    "heavy": dict(max_examples=400),
}


def register_profiles():
    for name, options in PROFILES.items():
        settings.register_profile(
            name, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], **options
        )


def load_profile(name=None):
    """Register tinygen's profiles and load ``name`` (default: ``$TINYGEN_HYPOTHESIS_PROFILE`` or ``dev``)."""
    register_profiles()
    name = name or os.environ.get("TINYGEN_HYPOTHESIS_PROFILE", "dev")
    if name not in PROFILES:
        raise ValueError(f"unknown hypothesis profile {name!r}: expected one of {sorted(PROFILES)}")
    settings.load_profile(name)
    return name


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Tensor shapes, e.g. ``()``, ``(3,)``, ``(2, 1, 4)``."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw, shape, min_dims=0, max_dims=None, allow_size_zero=False):
    """A shape that broadcasts *with* ``shape`` (each dim equal, 1, or missing on the left; ``shape``'s own 1s
    may grow)."""
    max_dims = len(shape) + 1 if max_dims is None else max_dims
    ndim = draw(st.integers(min_dims, max_dims))
    result = []
    for axis in range(-ndim, 0):
        extent = shape[axis] if -axis <= len(shape) else None
        if extent is None:
            result.append(draw(st.integers(1, 4)))
        elif extent == 1:
            result.append(draw(st.sampled_from([1, draw(st.integers(1 if not allow_size_zero else 0, 4))])))
        else:
            result.append(draw(st.sampled_from([extent, 1])))
    return tuple(result)


@st.composite
def broadcastable_shape_pairs(draw, max_dims=4, max_side=4):
    """Two shapes that broadcast together, such as ``(3, 1)`` and ``(1, 4)`` or ``(4,)`` and ``(2, 3, 4)``."""
    first = draw(shapes(min_dims=0, max_dims=max_dims, max_side=max_side))
    second = draw(broadcastable_shapes(first, max_dims=max_dims))
    return first, second


def kink_zones(kinks, margin):
    """The merged open intervals [zone_low, zone_high] where some |value - kink| < margin, in order."""
    zones = []
    for kink in sorted(kinks):
        if zones and kink - margin < zones[-1][1]:
            zones[-1][1] = kink + margin
        else:
            zones.append([kink - margin, kink + margin])
    return zones


def move_off_kinks(xp, values, kinks, margin, low=-float("inf"), high=float("inf")):
    """``values`` (an array of ``xp``) with every value closer than ``margin`` to a kink moved to at least
    ``margin`` from every kink: reflected across the nearer edge of the kink's zone (kinks closer together than
    2 * margin share one zone), but never into the next zone, and across the other edge where the nearer one
    would leave ``[low, high)``. Moving away from each kink in turn is not enough: it can land a value on a
    neighbouring kink."""
    zones = kink_zones(kinks, margin)
    for position, (zone_low, zone_high) in enumerate(zones):
        floor = zones[position - 1][1] if position else -float("inf")
        ceiling = zones[position + 1][0] if position + 1 < len(zones) else float("inf")
        inside = (values > zone_low) & (values < zone_high)
        down = xp.maximum(2 * zone_low - values, floor)
        up = xp.minimum(2 * zone_high - values, ceiling)
        go_down = ((values - zone_low < zone_high - values) & (down >= low)) | (up >= high)
        values = xp.where(inside, xp.where(go_down, down, up), values)
    return values


#: the non-contiguous memory layouts ``tensors`` draws from
LAYOUTS = ("strided", "reversed", "transposed")


@st.composite
def tensors(draw, shape=None, dtype=float64, device=None, low=-2.0, high=2.0, requires_grad=False,
            away_from=(), margin=0.05, noncontiguous=None):
    """A tensor with values uniform in ``[low, high)``.

    ``shape`` is a tuple or a strategy for one; ``away_from`` lists points (kinks) that every value stays at
    least ``margin`` from; ``noncontiguous`` forces (True), forbids (False) or draws (None) a non-contiguous
    layout, one of ``LAYOUTS``: every other element of a wider array, a negative stride (``a[::-1]`` of a
    flipped copy), or a transposed memory order. The values are the same whichever layout is drawn.
    """
    dtype, backend = to_dtype(dtype), backends.get_backend(device)
    check_range("tensors", low, high, away_from, margin)
    values = _values(draw, shape, dtype, backend, low, high, away_from, margin, noncontiguous)
    return Tensor._make(values, backend, requires_grad and dtype.kind == "f")


@st.composite
def arrays(draw, shape=None, dtype=float64, device="cpu", low=-2.0, high=2.0, away_from=(), margin=0.05,
           noncontiguous=False):
    """A plain array with values uniform in ``[low, high)``, for array code checked with ``check_backward``:
    NumPy's on ``"cpu"`` (the default, whatever tinygen's default device), CuPy's on ``"cuda"``, the strict
    stand-in's on ``"strict"``. Float64 and contiguous unless asked; the other options are as for ``tensors``.

        @given(tst.arrays(tst.shapes(min_dims=2, max_dims=2), away_from=(0.0,)))
        def test_relu(x):
            check_backward(relu_forward, relu_backward, [x])
    """
    check_range("arrays", low, high, away_from, margin)
    return _values(draw, shape, to_dtype(dtype), backends.get_backend(device), low, high, away_from, margin,
                   noncontiguous)


def check_range(who, low, high, away_from, margin):
    """``low < high``, and moving values off the kinks keeps every value of ``[low, high)`` inside it. Within a zone
    the move is linear between the points where it changes side (the zone's ends and middle, and where a
    reflection reaches ``low`` or ``high``), so those points, a step either side, are the cases to try."""
    if not low < high:
        raise ValueError(f"{who}: values are drawn from [low, high), so low must be below high; got low={low}, "
                         f"high={high}")
    if margin < 0:
        raise ValueError(f"{who}: margin must be non-negative, got {margin}")
    xp = backends.get_backend("cpu").xp
    top = xp.nextafter(high, low)
    ends = [low, top]
    for zone_low, zone_high in kink_zones(away_from, margin):
        for point in (zone_low, (zone_low + zone_high) / 2, zone_high, 2 * zone_low - low, 2 * zone_high - high):
            ends += [point, xp.nextafter(point, -xp.inf), xp.nextafter(point, xp.inf)]
    candidates = xp.clip(xp.asarray(ends, dtype=float64), low, top)
    moved = move_off_kinks(xp, candidates, away_from, margin, low, high)
    if ((moved < low) | (moved >= high)).any():
        raise ValueError(f"{who}: keeping values {margin} away from {tuple(away_from)} moves some out of "
                         f"[low, high) = [{low}, {high}); widen the range or lower the margin")


def _values(draw, shape, dtype, backend, low, high, away_from, margin, noncontiguous):
    """An array of ``backend`` for ``tensors`` and ``arrays``: drawn from a seeded generator, kept off the kinks,
    relaid out non-contiguously if ``noncontiguous`` says so (``None``: drawn)."""
    shape = draw(shape if isinstance(shape, st.SearchStrategy) else st.just(shape if shape is not None else ()))
    seed = draw(st.integers(0, 2**32 - 1))
    generator = Generator(backend.device, seed)
    values = move_off_kinks(backend.xp, low + (high - low) * generator.random(shape, float64), away_from, margin,
                            low, high)
    values = backend.xp.asarray(values.astype(dtype))
    if values.size > 1 and (draw(st.booleans()) if noncontiguous is None else noncontiguous):
        values = _relaid(draw, backend.xp, values, draw(st.sampled_from(LAYOUTS)))
    return values


def _relaid(draw, xp, values, layout):
    """The same values in a non-contiguous view (``layout`` in ``LAYOUTS``; a layout the shape cannot take falls
    back to ``"strided"``)."""
    long_axes = [axis for axis, extent in enumerate(values.shape) if extent > 1]
    if layout == "reversed" and long_axes:
        flip = (slice(None),) * draw(st.sampled_from(long_axes)) + (slice(None, None, -1),)
        return xp.ascontiguousarray(values[flip])[flip]
    if layout == "transposed" and len(long_axes) >= 2:
        order = list(range(values.ndim))  # the long axes stored in reverse order
        for position, axis in zip(long_axes, reversed(long_axes)):
            order[position] = axis
        return xp.ascontiguousarray(values.transpose(order)).transpose(order)
    wide = xp.zeros(values.shape[:-1] + (2 * values.shape[-1],), dtype=values.dtype)
    wide[..., 1::2] = values
    return wide[..., 1::2]


def tensor_pairs(shape_pair=None, **options):
    """Two tensors of broadcastable shapes (keyword options as for ``tensors``)."""
    shape_pair = broadcastable_shape_pairs() if shape_pair is None else shape_pair
    return shape_pair.flatmap(lambda pair: st.tuples(tensors(pair[0], **options), tensors(pair[1], **options)))
