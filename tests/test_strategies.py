"""tinygen.testing.strategies.arrays: plain arrays for array code, as the docs promise (NumPy float64 by default,
contiguous unless asked, of a given or drawn shape, off the kinks when asked, on another backend when asked)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.backend import get_backend
from tinygen.testing import strategies as tst


@settings(max_examples=20)
@given(tst.arrays((3, 4)))
def test_a_given_shape_gives_contiguous_float64_numpy_arrays(x):
    assert type(x) is np.ndarray and x.shape == (3, 4) and x.dtype == np.float64
    assert x.flags.c_contiguous and ((x >= -2.0) & (x < 2.0)).all()


@settings(max_examples=20)
@given(tst.arrays(tst.shapes(min_dims=1, max_dims=3, max_side=4), away_from=(0.0, 1.0), margin=0.1))
def test_a_drawn_shape_keeps_its_values_off_the_kinks(x):
    assert 1 <= x.ndim <= 3 and max(x.shape) <= 4
    assert (np.abs(x) >= 0.1 - 1e-12).all() and (np.abs(x - 1.0) >= 0.1 - 1e-12).all()


@settings(max_examples=10)
@given(tst.arrays((2, 3), low=5.0, high=6.0, noncontiguous=True))
def test_bounds_and_a_non_contiguous_layout_on_request(x):
    assert ((x >= 5.0) & (x < 6.0)).all() and not x.flags.c_contiguous


@settings(max_examples=5)
@given(tst.arrays((2,), device="strict"), st.just(get_backend("strict")))
def test_another_backend_on_request(x, strict):
    assert strict.is_array(x) and x.dtype == np.float64


@settings(max_examples=5)
@given(tst.arrays((2, 2), dtype="float32"))
def test_another_dtype_on_request(x):
    assert x.dtype == np.float32


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_the_dev_and_ci_profiles_draw_the_same_examples_on_every_run(profile):
    """The README's test command and CI must not pass or fail by chance: two runs of one test see the same shapes."""
    tst.register_profiles()

    def shapes_seen():
        seen = []

        @settings(settings.get_profile(profile), max_examples=15)
        @given(tst.shapes(min_dims=1, max_dims=3))
        def record(shape):
            seen.append(shape)

        record()
        return seen

    first = shapes_seen()
    assert first == shapes_seen() and len(set(first)) > 1


@pytest.mark.parametrize("options, message", [
    (dict(low=1.0, high=0.0), "low must be below high; got low=1.0, high=0.0"),
    (dict(low=-0.01, high=0.01, away_from=(0.0,)), r"moves some out of \[low, high\) = \[-0.01, 0.01\)"),
])
def test_a_range_that_cannot_hold_the_values_is_refused(options, message):
    """``away_from`` with a margin wider than the range drew values outside [low, high), silently."""
    for strategy in (tst.arrays, tst.tensors):
        @settings(max_examples=1, database=None)
        @given(st.data())
        def draw(data):
            data.draw(strategy((3,), **options))

        with pytest.raises(ValueError, match=message):
            draw()


@settings(max_examples=30)
@given(tst.arrays((40,), low=-2.0, high=2.0, away_from=(-2.0, 0.0, 2.0)))
def test_kinks_at_the_ends_of_the_range_keep_the_values_inside_it(x):
    assert (x >= -2.0).all() and (x < 2.0).all()
    assert (np.abs(x[:, None] - np.array([-2.0, 0.0, 2.0])) >= 0.05).all()
