"""flip, roll and cumsum: values against NumPy and PyTorch, gradients against finite differences (first and second
order, random upstream gradients, non-contiguous inputs), bad dims and shifts (probe: all missing from PyTorch
scripts)."""
import numpy as np
import pytest

import tinygen

from helpers import check_values_and_gradients, host, random_tensor

CALLS = {
    "flip_last": (lambda x: x.flip(-1), lambda a: a[..., ::-1]),
    "flip_two": (lambda x: tinygen.flip(x, (0, 2)), lambda a: a[::-1, :, ::-1]),
    "cumsum_0": (lambda x: x.cumsum(0), lambda a: np.cumsum(a, axis=0)),
    "cumsum_last": (lambda x: tinygen.cumsum(x, -1), lambda a: np.cumsum(a, axis=-1)),
    "cumsum_of_flip": (lambda x: x.flip(1).cumsum(1), lambda a: np.cumsum(a[:, ::-1], axis=1)),
    "roll_flat": (lambda x: x.roll(5), lambda a: np.roll(a, 5)),
    "roll_two": (lambda x: tinygen.roll(x, (1, -3), (0, 2)), lambda a: np.roll(a, (1, -3), axis=(0, 2))),
    "roll_twice_one_dim": (lambda x: x.roll((2, 3), (-1, -1)), lambda a: np.roll(a, 5, axis=-1)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_gradients(name):
    function, reference = CALLS[name]
    x = random_tensor((3, 8, 4), seed=1)[:, ::2].detach().requires_grad_()  # (3, 4, 4), not contiguous
    check_values_and_gradients(function, reference, x, rtol=1e-12)


def test_dtypes_and_errors():
    assert tinygen.tensor([1, 2, 3], dtype=tinygen.int32).cumsum(0).dtype == tinygen.int64  # as PyTorch
    assert host(tinygen.tensor([True, True, False]).cumsum(0)).tolist() == [1, 2, 2]
    assert tinygen.ones(2, 3).flip(0).cumsum(1).dtype == tinygen.float32
    with pytest.raises(ValueError, match=r"flip: dims \(0, -2\) name one dimension twice"):
        tinygen.ones(2, 3).flip((0, -2))
    with pytest.raises(TypeError, match="flip: dims must be an int or a tuple of ints, got NoneType"):
        tinygen.ones(2).flip(None)
    with pytest.raises(IndexError, match="cumsum"):
        tinygen.ones(2, 3).cumsum(2)
    with pytest.raises(ValueError, match=r"roll: shifts \(1, 2\) and dims \(0,\) must have the same length"):
        tinygen.ones(2, 3).roll((1, 2), 0)
    with pytest.raises(ValueError, match=r"roll: without dims, shifts must be one int .* got \(1, 2\)"):
        tinygen.ones(2, 3).roll((1, 2))
    with pytest.raises(IndexError, match="roll: dim 2 is out of range"):
        tinygen.ones(2, 3).roll(1, 2)
    with pytest.raises(TypeError, match="roll: shifts must be an int or a tuple of ints"):
        tinygen.ones(2, 3).roll(1.5, 0)
    assert tinygen.tensor(3.0).roll(1).tolist() == 3.0 and tinygen.ones(0, 3).roll(1, 0).shape == (0, 3)
    assert tinygen.tensor([1, 2, 3], dtype=tinygen.int32).roll(1).dtype == tinygen.int32


def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).normal(size=(3, 4))
    # the method forms, which PyTorch spells alike
    for name in ("flip_last", "cumsum_0", "cumsum_of_flip", "roll_flat", "roll_twice_one_dim"):
        function = CALLS[name][0]
        assert np.allclose(host(function(tinygen.tensor(a))), function(torch.tensor(a)).numpy(), rtol=1e-12)
    ours = tinygen.roll(tinygen.tensor(a), (1, -3), (0, 1))
    assert np.array_equal(host(ours), torch.roll(torch.tensor(a), (1, -3), (0, 1)).numpy())
