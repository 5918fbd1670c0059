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
