"""F.scaled_dot_product_attention: values and gradients against PyTorch (no mask, causal, bool and float masks, a
row masked everywhere, scale), gradients against finite differences to second order on non-contiguous inputs,
dropout, bad arguments (probe: missing from transformer scripts)."""
import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor

MASK = np.array([[True, False, True, True, False], [False] * 5, [True, True, False, True, True]])
FLOAT_MASK = np.array([[[0.5, -1.0, 0.0, -np.inf, 2.0]], [[0.0, 0.0, -0.3, 0.1, -np.inf]]])
KWARGS = {
    "plain": lambda: {},
    "causal": lambda: {"is_causal": True},
    "bool_mask": lambda: {"attn_mask": tinygen.tensor(MASK)},
    "float_mask": lambda: {"attn_mask": tinygen.tensor(FLOAT_MASK)},
    "scale": lambda: {"scale": 0.3},
}


def _inputs():
    query = random_tensor((2, 6, 4), seed=1)[:, ::2].detach().requires_grad_()  # (2, 3, 4), not contiguous
    key = random_tensor((2, 4, 5), seed=2).transpose(-2, -1).detach().requires_grad_()  # (2, 5, 4), transposed
    return query, key, random_tensor((2, 5, 3), seed=3)


def _reference(q, k, v, attn_mask=None, is_causal=False, scale=None):
    scores = q @ np.swapaxes(k, -2, -1) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        attn_mask = np.tril(np.ones(scores.shape[-2:], bool))
    if attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf) if attn_mask.dtype == bool else scores + attn_mask
    finite = np.isfinite(scores).any(-1, keepdims=True)
    weights = np.exp(np.where(finite, scores, 0) - np.where(finite, scores, 0).max(-1, keepdims=True))
    return np.where(finite, weights / weights.sum(-1, keepdims=True), 0) @ v


@pytest.mark.parametrize("name", sorted(KWARGS))
def test_values_and_gradients(name):
    function = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **KWARGS[name]())  # noqa: E731
    inputs = _inputs()
    reference_kwargs = {key: host(value) if isinstance(value, tinygen.Tensor) else value
                        for key, value in KWARGS[name]().items()}
    assert_close(function(*inputs), _reference(*(host(x) for x in inputs), **reference_kwargs), rtol=1e-12)
    gradcheck(function, list(inputs))
    gradgradcheck(function, list(inputs))


def test_masked_rows_dropout_dtypes_and_errors():
    query, key, value = _inputs()
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=tinygen.tensor(MASK))
    assert host(out)[:, 1].tolist() == [[0.0] * 3] * 2  # a row that attends nowhere gives 0s, as PyTorch's
    out.sum().backward()
    assert np.isfinite(host(query.grad)).all() and host(query.grad)[:, 1].tolist() == [[0.0] * 4] * 2
    dropped = F.scaled_dot_product_attention(query, key, value, dropout_p=1.0)
    assert host(dropped).tolist() == [[[0.0] * 3] * 3] * 2
    as_float32 = [x.detach().float() for x in (query, key, value)]
    assert F.scaled_dot_product_attention(*as_float32, is_causal=True).dtype == tinygen.float32
    with pytest.raises(ValueError, match="scaled_dot_product_attention: pass attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(query, key, value, attn_mask=tinygen.tensor(MASK), is_causal=True)
    with pytest.raises(TypeError, match="scaled_dot_product_attention: attn_mask must be bool or of query's dtype "
                                        "float32, got float64"):
        F.scaled_dot_product_attention(*as_float32, attn_mask=tinygen.tensor(FLOAT_MASK))
    with pytest.raises(ValueError, match=r"expected query \(..., L, E\), key \(..., S, E\), value \(..., S, Ev\), "
                                         r"got shapes \(2, 3, 4\), \(2, 5, 4\), \(2, 4, 3\)"):
        F.scaled_dot_product_attention(query, key, value[:, :4])
    with pytest.raises(NotImplementedError, match="scaled_dot_product_attention: enable_gqa=True is not supported"):
        F.scaled_dot_product_attention(query, key, value, enable_gqa=True)
    with pytest.raises(ValueError, match=r"value must have at least 2 dims .* got shape \(3,\)"):
        F.scaled_dot_product_attention(query, key, tinygen.ones(3))


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(KWARGS))
def test_pytorch_agrees(name):
    torch = pytest.importorskip("torch")
    ours = [x.detach().requires_grad_() for x in _inputs()]
    theirs = [torch.tensor(host(x), requires_grad=True) for x in ours]
    kwargs = KWARGS[name]()
    torch_kwargs = {key: torch.tensor(host(value)) if isinstance(value, tinygen.Tensor) else value
                    for key, value in kwargs.items()}
    y = F.scaled_dot_product_attention(*ours, **kwargs)
    y_torch = torch.nn.functional.scaled_dot_product_attention(*theirs, **torch_kwargs)
    assert_close(y, y_torch.detach().numpy(), rtol=1e-12, atol=1e-15)
    upstream = np.random.default_rng(5).normal(size=tuple(y.shape))
    y.backward(tinygen.tensor(upstream))
    y_torch.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs):
        assert_close(mine.grad, reference.grad.numpy(), rtol=1e-12, atol=1e-15)
