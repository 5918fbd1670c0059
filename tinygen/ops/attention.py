"""Attention: ``scaled_dot_product_attention`` (PyTorch 2.x's ``F.scaled_dot_product_attention``).

    weights = softmax(q k^T * scale + bias),  out = weights v        q (..., L, E), k (..., S, E), v (..., S, Ev)

``bias`` is -inf where a bool mask is False (or above the diagonal with ``is_causal``), or the float mask itself.
It is composed of matmul, masked_fill, softmax and dropout, so its gradients (of any order) are theirs.
Tests: tests/test_attention.py.
"""
import math

from tinygen.backend.dtypes import bool_
from tinygen.ops import checks
from tinygen.ops.activation import softmax
from tinygen.ops.dropout import dropout
from tinygen.ops.linalg import matmul
from tinygen.ops.triangular import tril

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v, scale = 1 / sqrt(E) by default; ``attn_mask`` broadcasts to (..., L, S):
    bool (True takes part) or float (added). A row that takes part nowhere gives 0s, as PyTorch's. Dropout with
    probability ``dropout_p`` on the weights whenever it is above 0 (as PyTorch's, which has no training flag)."""
    name = "scaled_dot_product_attention"
    for argument, tensor in (("query", query), ("key", key), ("value", value)):
        checks.require_tensor(name, tensor, argument)
        if tensor.ndim < 2:
            raise ValueError(f"{name}: {argument} must have at least 2 dims (..., length, features), got shape "
                             f"{tuple(tensor.shape)}")
    if enable_gqa:
        raise NotImplementedError(f"{name}: enable_gqa=True is not supported; repeat key's and value's heads to "
                                  "query's with repeat_interleave(groups, dim=-3) first")
    if key.shape[-1] != query.shape[-1] or value.shape[-2] != key.shape[-2]:
        raise ValueError(f"{name}: expected query (..., L, E), key (..., S, E), value (..., S, Ev), got shapes "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else checks.real_number(name, "scale", scale)
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{name}: pass attn_mask or is_causal=True, not both")
        attn_mask = tril(scores.new_ones(scores.shape[-2:], dtype=bool_))
    if attn_mask is None:
        weights = softmax(scores, -1)
    else:
        weights = _masked_softmax(name, scores, attn_mask)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


def _masked_softmax(name, scores, attn_mask):
    """softmax over the last dim of scores with -inf where a bool mask is False (or plus a float mask); rows with
    no finite score give 0s, not the nan of 0 / 0 (their scores are set to 0 first, so no nan reaches a gradient)."""
    checks.require_tensor(name, attn_mask, "attn_mask")
    if attn_mask.dtype.kind == "b":
        scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
    elif attn_mask.dtype == scores.dtype:
        scores = scores + attn_mask
    else:
        raise TypeError(f"{name}: attn_mask must be bool or of query's dtype {scores.dtype}, got {attn_mask.dtype}")
    nowhere = (scores == float("-inf")).all(-1, keepdim=True)
    return softmax(scores.masked_fill(nowhere, 0.0), -1).masked_fill(nowhere, 0.0)
