"""nn.utils.clip_grad_norm_ and clip_grad_value_: the joint norm, in-place scaling, PyTorch's numbers."""
import math

import numpy as np
import pytest

import tinygen
from tinygen import nn

from helpers import assert_close, host


def parameters_with_gradients(seed=0):
    rng = np.random.default_rng(seed)
    params = [tinygen.tensor(rng.standard_normal(shape), requires_grad=True) for shape in [(3, 4), (5,)]]
    for param in params:
        param.grad = tinygen.tensor(rng.standard_normal(param.shape) * 3)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf])
def test_clips_to_max_norm_and_returns_the_norm_before(norm_type):
    params = parameters_with_gradients()
    flat = np.concatenate([host(p.grad).ravel() for p in params])
    expected = np.linalg.norm(flat, norm_type)
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert total.item() == pytest.approx(expected, rel=1e-12)
    after = np.concatenate([host(p.grad).ravel() for p in params])
    assert_close(after, flat * (1.0 / (expected + 1e-6)))


def test_small_gradients_are_left_as_they_are():
    params = parameters_with_gradients()
    before = [host(p.grad).copy() for p in params]
    nn.utils.clip_grad_norm_(params, max_norm=1e6)
    for param, old in zip(params, before):
        assert_close(param.grad, old)


def test_no_gradients_gives_zero_and_nonfinite_can_be_an_error():
    assert nn.utils.clip_grad_norm_([tinygen.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    params = parameters_with_gradients()
    params[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total 2.0-norm"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_every_entry():
    params = parameters_with_gradients()
    nn.utils.clip_grad_value_(params, 0.5)
    assert all(np.abs(host(p.grad)).max() <= 0.5 for p in params)


@pytest.mark.torch
def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    params = parameters_with_gradients(1)
    theirs = [torch.tensor(host(p), requires_grad=True) for p in params]
    for mine, their in zip(params, theirs):
        their.grad = torch.tensor(host(mine.grad))
    total = nn.utils.clip_grad_norm_(params, 2.0)
    total_torch = torch.nn.utils.clip_grad_norm_(theirs, 2.0)
    assert total.item() == pytest.approx(total_torch.item(), rel=1e-12)
    for mine, their in zip(params, theirs):
        assert_close(mine.grad, their.grad.numpy(), rtol=1e-12)
