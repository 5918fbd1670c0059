"""dropout / Dropout: gradients with a fixed mask (first and second order), scaling, train/eval, seeding, errors."""
import numpy as np
import pytest
from hypothesis import given

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor


@given(x=tst.tensors(tst.shapes(max_dims=3, max_side=4), requires_grad=True))
def test_dropout_gradients_with_a_fixed_mask(x):
    def seeded_dropout(x):  # the same seed at every evaluation: the same mask, so fn is deterministic
        return F.dropout(x, 0.4, generator=tinygen.Generator(x.device, seed=3))

    gradcheck(seeded_dropout, [x])
    gradgradcheck(seeded_dropout, [x])


def test_kept_values_are_scaled_and_gradient_follows_the_mask():
    x = random_tensor((50, 40), seed=1, low=1.0, high=2.0)
    y = F.dropout(x, 0.25, generator=tinygen.Generator(x.device, seed=0))
    kept = host(y) != 0
    assert_close(host(y)[kept], host(x)[kept] / 0.75)
    assert 0.7 < kept.mean() < 0.8
    upstream = random_tensor(x.shape, seed=2, requires_grad=False)
    y.backward(upstream)
    assert_close(x.grad, np.where(kept, host(upstream) / 0.75, 0.0))


def test_the_mask_is_kept_as_booleans_and_gives_what_a_mask_of_numbers_gives():
    """dropout keeps a boolean mask and the scale apart (a quarter of the memory); the result, and its gradient, are
    bit for bit those of the mask of numbers (0 or 1 / (1 - p)) the op also takes."""
    from tinygen.ops.dropout import Dropout

    x = random_tensor((6, 7), seed=4, dtype=tinygen.float32)
    y = F.dropout(x, 0.3, generator=tinygen.Generator(x.device, seed=1))
    op = y.grad_fn
    assert isinstance(op, Dropout) and op.mask.dtype == bool and op.scale == 1 / 0.7
    numbers = op.mask.astype(np.float32) * np.float32(1 / 0.7)
    x2 = x.detach().requires_grad_()
    y2 = Dropout(numbers)(x2)
    assert np.array_equal(host(y), host(y2))
    upstream = random_tensor(x.shape, seed=5, requires_grad=False, dtype=tinygen.float32)
    y.backward(upstream)
    y2.backward(upstream)
    assert np.array_equal(host(x.grad), host(x2.grad))


def test_expected_value_is_preserved():
    x = tinygen.ones(200, 500)
    assert float(F.dropout(x, 0.5).mean()) == pytest.approx(1.0, abs=0.02)


def test_seeded_generator_repeats_the_mask_and_default_generator_follows_manual_seed():
    x = tinygen.ones(8, 8)
    first = F.dropout(x, 0.5, generator=tinygen.Generator(x.device, seed=5))
    assert_close(F.dropout(x, 0.5, generator=tinygen.Generator(x.device, seed=5)), host(first))
    tinygen.manual_seed(11)
    second = host(F.dropout(x, 0.5))
    tinygen.manual_seed(11)
    assert_close(F.dropout(x, 0.5), second)


def test_edge_probabilities_and_evaluation_mode():
    x = random_tensor((3, 4), seed=3)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.9, training=False) is x
    zeros = F.dropout(x, 1.0)
    assert_close(zeros.detach(), np.zeros((3, 4)))
    zeros.sum().backward()
    assert_close(x.grad, np.zeros((3, 4)))
    assert F.dropout(tinygen.ones(4, dtype=tinygen.float64), 0.5).dtype == tinygen.float64


def test_bad_probability_and_dtype_are_errors():
    for p in (-0.1, 1.5, "half", True):
        with pytest.raises(ValueError, match="dropout: p must be a probability in"):
            F.dropout(tinygen.ones(3), p)
        with pytest.raises(ValueError, match="Dropout: p must be a probability in"):
            nn.Dropout(p)
    with pytest.raises(TypeError, match="dropout: expected a floating-point input, got dtype int64"):
        F.dropout(tinygen.arange(3), 0.5)


def test_layer_switches_with_train_and_eval():
    layer = nn.Dropout(0.5)
    x = tinygen.ones(20, 20)
    assert (host(layer(x)) == 0).any()
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert (host(layer(x)) == 0).any()
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"


@pytest.mark.torch
def test_layer_repr_matches_torch():
    torch = pytest.importorskip("torch")
    for args in [(), (0.25,), (0.1, True)]:
        assert repr(nn.Dropout(*args)) == repr(torch.nn.Dropout(*args))
