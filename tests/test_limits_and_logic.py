"""clamp_min / clamp_max, nan_to_num, logical_and / or / xor / not, finfo / iinfo: values and dtypes against
PyTorch, nan_to_num's gradient (g where the input is finite) against finite differences to second order
(probe: missing from transformer, style-transfer and ranking scripts)."""
import math

import numpy as np
import pytest

import tinygen
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor

SPECIAL = [1.5, float("nan"), float("inf"), -float("inf"), -2.0, 0.0]


def test_nan_to_num_values_and_gradients():
    x = tinygen.tensor(SPECIAL, dtype=tinygen.float64, requires_grad=True)
    y = tinygen.nan_to_num(x, nan=0.5, neginf=-7.0)
    assert host(y).tolist() == [1.5, 0.5, np.finfo(np.float64).max, -7.0, -2.0, 0.0]
    upstream = tinygen.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=tinygen.float64)
    y.backward(upstream)
    assert host(x.grad).tolist() == [1.0, 0.0, 0.0, 0.0, 5.0, 6.0]  # g where x is finite, as PyTorch
    finite = random_tensor((3, 8), seed=1)[:, ::2].detach().requires_grad_()  # not contiguous
    gradcheck(lambda t: t.nan_to_num(posinf=1.0), [finite])
    gradgradcheck(lambda t: t.nan_to_num(posinf=1.0) * t, [finite])
    assert host(tinygen.tensor(SPECIAL, dtype=tinygen.float16).nan_to_num())[2] == 65504.0
    assert tinygen.tensor(SPECIAL).nan_to_num().dtype == tinygen.float32
    ints = tinygen.tensor([1, 2])
    assert ints.nan_to_num().tolist() == [1, 2] and ints.nan_to_num().dtype == tinygen.int64
    with pytest.raises(TypeError, match="nan_to_num: posinf must be a real number, got str"):
        tinygen.ones(2).nan_to_num(posinf="big")


def test_clamp_min_and_max():
    x = random_tensor((3, 8), seed=2)[:, ::2].detach().requires_grad_()
    for function in (lambda t: t.clamp_min(0.3), lambda t: tinygen.clamp_max(t, -0.2)):
        gradcheck(function, [x])
        gradgradcheck(function, [x])
    assert tinygen.clamp_min(x, 0.3).tolist() == x.clamp(min=0.3).tolist()
    assert x.clamp_max(-0.2).tolist() == tinygen.clamp(x, max=-0.2).tolist()
    assert tinygen.tensor([1, 5]).clamp_max(3).tolist() == [1, 3]
    assert tinygen.tensor([1, 5]).clamp_min(2.5).dtype == tinygen.float32  # a float bound, as clamp


def test_logical_ops():
    a, b = tinygen.tensor([[1.0, 0.0, -2.0]]), tinygen.tensor([[3], [0]])
    assert tinygen.logical_and(a, b).tolist() == [[True, False, True], [False, False, False]]
    assert a.logical_or(b).tolist() == [[True, True, True], [True, False, True]]
    assert tinygen.logical_xor(a, b).tolist() == [[False, True, False], [True, False, True]]
    assert a.logical_not().tolist() == [[False, True, False]] and a.logical_not().dtype == tinygen.bool
    assert not tinygen.logical_and(random_tensor((2,)), random_tensor((2,))).requires_grad
    with pytest.raises(TypeError, match="logical_or: expected other to be a Tensor, got int"):
        tinygen.logical_or(a, 1)
    with pytest.raises(ValueError, match=r"logical_xor: shapes \(1, 3\) and \(2,\) cannot be broadcast"):
        tinygen.logical_xor(a, tinygen.ones(2))


def test_finfo_and_iinfo():
    default = tinygen.finfo()
    assert (default.bits, default.eps, default.dtype) == (32, 2.0 ** -23, "float32")
    assert tinygen.finfo(tinygen.float64).tiny == tinygen.finfo(tinygen.float64).smallest_normal == 2.0 ** -1022
    assert tinygen.finfo(tinygen.float16).max == 65504.0 == -tinygen.finfo("float16").min
    assert tinygen.iinfo(tinygen.int64).max == 2 ** 63 - 1 and tinygen.iinfo(tinygen.uint8).min == 0
    assert math.isclose(tinygen.finfo(tinygen.float32).resolution, 1e-6)
    with pytest.raises(TypeError, match="finfo: expects a floating dtype .* got int64; use tinygen.iinfo"):
        tinygen.finfo(tinygen.int64)
    with pytest.raises(TypeError, match="iinfo: expects an integer dtype .* got bool; use tinygen.finfo"):
        tinygen.iinfo(tinygen.bool)


@pytest.mark.torch
def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((tinygen.finfo(), torch.finfo()), (tinygen.finfo(tinygen.float16), torch.finfo(torch.half)),
                         (tinygen.finfo(tinygen.float64), torch.finfo(torch.float64))):
        for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(ours, name) == getattr(theirs, name), name
        assert repr(ours) == repr(theirs)
    for dtype in ("uint8", "int32", "int64"):
        ours, theirs = tinygen.iinfo(getattr(tinygen, dtype)), torch.iinfo(getattr(torch, dtype))
        assert (ours.bits, ours.max, ours.min, ours.dtype, repr(ours)) == (theirs.bits, theirs.max, theirs.min,
                                                                          theirs.dtype, repr(theirs))
    values = np.array(SPECIAL)
    for kwargs in ({}, {"nan": 2.0, "posinf": 3.0}, {"neginf": -1.0}):
        for dtype in ("float32", "float64"):
            x, x_torch = tinygen.tensor(values, dtype=dtype), torch.tensor(values, dtype=getattr(torch, dtype))
            assert np.array_equal(host(x.nan_to_num(**kwargs)), x_torch.nan_to_num(**kwargs).numpy())
    a, b = np.array([[1.0, 0.0, -2.0]]), np.array([[3], [0]])
    for name in ("logical_and", "logical_or", "logical_xor"):
        assert np.array_equal(host(getattr(tinygen, name)(tinygen.tensor(a), tinygen.tensor(b))),
                              getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    ints = np.array([1, 5, -3])
    for ours, theirs in ((tinygen.tensor(ints).clamp_min(2.5), torch.tensor(ints).clamp_min(2.5)),
                         (tinygen.clamp_max(tinygen.tensor(ints), 2), torch.clamp_max(torch.tensor(ints), 2))):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert host(ours).tolist() == theirs.tolist()
