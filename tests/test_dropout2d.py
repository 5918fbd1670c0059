"""F.dropout2d and nn.Dropout2d: whole channels dropped, survivors scaled, gradients (first and second order)."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


def seeded(seed):
    return tinygen.Generator(tinygen.get_default_device(), seed)


def test_each_channel_is_kept_whole_or_dropped_whole():
    x = tinygen.ones(8, 16, 3, 3)
    y = host(F.dropout2d(x, 0.5, generator=seeded(0)))
    planes = y.reshape(8, 16, 9)
    assert np.all((planes == 0).all(axis=2) | (planes == 2.0).all(axis=2))
    assert 0 < (planes[:, :, 0] == 0).sum() < 8 * 16


def test_unbatched_input_drops_channels_too():
    y = host(F.dropout2d(tinygen.ones(16, 2, 2), 0.5, generator=seeded(1)))
    assert np.all((y.reshape(16, 4) == 0).all(axis=1) | (y.reshape(16, 4) == 2.0).all(axis=1))


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_gradients_match_finite_differences(p):
    x = random_tensor((2, 3, 2, 2), seed=2)
    gradcheck(lambda t: F.dropout2d(t, p, generator=seeded(5)), [x])
    gradgradcheck(lambda t: F.dropout2d(t, p, generator=seeded(5)) * t, [x])


def test_module_is_the_identity_in_eval_mode_and_checks_p():
    layer = nn.Dropout2d(0.4)
    x = tinygen.randn(2, 3, 4, 4)
    assert layer.eval()(x) is x
    assert layer.train()(x).shape == x.shape and "p=0.4" in repr(layer)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout2d(2.0)
    with pytest.raises(ValueError, match="dropout2d: expected"):
        F.dropout2d(tinygen.ones(3, 3), 0.5)
