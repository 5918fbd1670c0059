"""F.pad's reflect, replicate and circular modes and the padding layers: values and gradients against PyTorch, then
gradients first and second order against finite differences, at the largest pads each mode allows (so entries are
copied several times and their gradients add up), and one-line errors."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, random_tensor

# mode, input shape, pad: each as large as the mode allows on some side
CASES = [
    ("reflect", (1, 2, 3, 4), (3, 3, 2, 2)),
    ("reflect", (2, 5), (4, 1)),
    ("reflect", (2, 3, 4), (0, 3, 1, 0)),
    ("replicate", (2, 1, 2, 3), (4, 5, 3, 0)),
    ("replicate", (1, 3, 2), (2, 3)),
    ("circular", (1, 2, 3, 4), (4, 4, 3, 3)),
    ("circular", (3, 4), (1, 4)),
    ("reflect", (1, 2, 3, 3), (1, 2, 0, 2, 1, 1)),
]
IDS = [f"{mode}-{len(pad) // 2}d-{len(shape)}" for mode, shape, pad in CASES]


def noncontiguous(shape, seed):
    """A float64 leaf with ``shape`` whose last two dims are stored transposed."""
    x = random_tensor(shape[:-2] + shape[:-3:-1], seed=seed).transpose(-1, -2).detach().requires_grad_(True)
    assert not x.is_contiguous()
    return x


@pytest.mark.parametrize("mode, shape, pad", CASES, ids=IDS)
def test_gradients_first_and_second_order(mode, shape, pad):
    x = noncontiguous(shape, seed=len(pad))
    gradcheck(lambda t: F.pad(t, pad, mode), [x])
    gradgradcheck(lambda t: F.pad(t, pad, mode), [x])


@pytest.mark.torch
@pytest.mark.parametrize("mode, shape, pad", CASES, ids=IDS)
def test_values_and_gradients_match_torch(mode, shape, pad):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    x = random_tensor(shape, seed=1)
    x_torch = to_torch(x, requires_grad=True)
    y, y_torch = F.pad(x, pad, mode), torch.nn.functional.pad(x_torch, pad, mode)
    upstream = random_tensor(tuple(y.shape), seed=2, requires_grad=False)
    y.backward(upstream)
    y_torch.backward(to_torch(upstream))
    assert_close(y, y_torch.detach().numpy(), rtol=0, atol=0)
    assert_close(x.grad, x_torch.grad.numpy(), rtol=1e-14, atol=1e-14)


def test_replicated_edges_collect_every_copys_gradient():
    x = tinygen.tensor([[0.0, 1.0, 2.0]], requires_grad=True)
    F.pad(x, (2, 3), "replicate").sum().backward()
    assert_close(x.grad, [[3.0, 1.0, 4.0]])


LAYERS = [("ZeroPad2d", ((1, 2, 0, 3),)), ("ZeroPad1d", (2,)), ("ConstantPad2d", (1, -1.5)),
          ("ConstantPad1d", ((0, 2), 3.0)), ("ReflectionPad2d", (2,)), ("ReflectionPad1d", ((3, 1),)),
          ("ReplicationPad2d", ((1, 0, 4, 2),)), ("ReplicationPad1d", (5,)), ("CircularPad2d", (3,)),
          ("CircularPad1d", ((4, 0),))]


@pytest.mark.torch
@pytest.mark.parametrize("name, args", LAYERS)
def test_layers_match_torch_values_and_repr(name, args):
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    x = random_tensor((2, 3, 4) if name.endswith("1d") else (2, 3, 4, 4), seed=3, requires_grad=False)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert_close(ours(x), theirs(to_torch(x)).numpy(), rtol=0, atol=0)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("call, message", [
    (lambda x: F.pad(x, (3, 3, 0, 0), "reflect"),
     r"pad: mode 'reflect' needs each pad below its dim's size, got \(3, 3\) for dim 3 of size 3 \(input of shape "
     r"\(1, 1, 3, 3\)\)"),
    (lambda x: F.pad(x, (0, 0, 4, 0), "circular"),
     r"pad: mode 'circular' wraps around at most once: each pad at most its dim's size, got \(4, 0\) for dim 2 of "
     r"size 3"),
    (lambda x: F.pad(x, (1, 1), "reflect", value=2.0), "pad: mode 'reflect' pads with the input's own entries and "
                                                      "takes no value, got value=2.0"),
    (lambda x: F.pad(x[0, 0], (1, 1, 1, 1), "replicate"),
     r"pad: mode 'replicate' with pad of length 4 pads the last 2 dims of a 3-d or 4-d input \(\(C, \*\) or \(N, C, "
     r"\*\)\), got input of shape \(3, 3\)"),
    (lambda x: F.pad(x[:, :, :0], (1, 1, 1, 1), "replicate"),
     "pad: mode 'replicate' copies entries, but dim 2 of input of " r"shape \(1, 1, 0, 3\) is empty"),
    (lambda x: F.pad(x, (1, 1), "symmetric"), "pad: mode must be one of 'constant', 'reflect', 'replicate', "
                                              "'circular', got 'symmetric'"),
    (lambda x: F.pad(x, (1, 1, 1)), r"pad: expected \(before, after\) pairs for at most 4 dims, got \(1, 1, 1\)"),
    (lambda x: nn.ReflectionPad2d((1, 2)),
     r"ReflectionPad2d: padding must be an int or a tuple of 4 ints, got \(1, 2\)"),
])
def test_bad_padding_is_a_one_line_error_naming_pad(call, message):
    with pytest.raises(ValueError, match=message):
        call(tinygen.zeros(1, 1, 3, 3))
