"""repeat_interleave and unflatten: values against NumPy and PyTorch, gradients (the r copies of a slice add up
into it) against finite differences to second order on a non-contiguous input, bad arguments (probe: missing from
transformer scripts: repeat_interleave for grouped heads, unflatten to split heads)."""
import numpy as np
import pytest

import tinygen

from helpers import check_values_and_gradients, host, random_tensor

CALLS = {
    "flat": (lambda x: x.repeat_interleave(2), lambda a: np.repeat(a, 2)),
    "dim_1": (lambda x: tinygen.repeat_interleave(x, 3, dim=1), lambda a: np.repeat(a, 3, axis=1)),
    "counts": (lambda x: x.repeat_interleave(tinygen.tensor([2, 0, 1, 3]), dim=-1, output_size=6),
               lambda a: np.repeat(a, [2, 0, 1, 3], axis=-1)),
    "one_count": (lambda x: x.repeat_interleave(tinygen.tensor([2]), 0), lambda a: np.repeat(a, 2, axis=0)),
    "unflatten": (lambda x: x.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2, 4)),
    "unflatten_last": (lambda x: tinygen.unflatten(x, -1, [1, 4, 1]), lambda a: a.reshape(3, 4, 1, 4, 1)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_gradients(name):
    function, reference = CALLS[name]
    x = random_tensor((3, 8, 4), seed=1)[:, ::2].detach().requires_grad_()  # (3, 4, 4), not contiguous
    check_values_and_gradients(function, reference, x)


def test_shapes_and_errors():
    assert tinygen.tensor(3.0).repeat_interleave(2).tolist() == [3.0, 3.0]
    assert tinygen.tensor([1, 2], dtype=tinygen.int32).repeat_interleave(2).dtype == tinygen.int32
    assert tinygen.ones(2, 0).repeat_interleave(3, dim=1).shape == (2, 0)
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats must be non-negative, got \[-1\]"):
        tinygen.ones(2).repeat_interleave(-1)
    with pytest.raises(ValueError, match="repeat_interleave: repeats has 3 counts; expected 1 or 2"):
        tinygen.ones(2, 3).repeat_interleave(tinygen.tensor([1, 2, 3]), dim=0)
    with pytest.raises(TypeError, match="repeat_interleave: repeats must be an int or a 1-D integer tensor, got a "
                                        "float32 tensor"):
        tinygen.ones(2).repeat_interleave(tinygen.ones(2))
    with pytest.raises(ValueError, match="repeat_interleave: output_size 5 is not the size of the result, 4"):
        tinygen.ones(2).repeat_interleave(2, output_size=5)
    with pytest.raises(ValueError, match=r"unflatten: sizes \(2, 2\) do not multiply up to the size of dim 1 \(3\)"):
        tinygen.ones(2, 3).unflatten(1, (2, 2))
    with pytest.raises(ValueError, match=r"unflatten: sizes \(-1, -1\)"):
        tinygen.ones(2, 4).unflatten(1, (-1, -1))
    with pytest.raises(ValueError, match="unflatten: a 0-d tensor"):
        tinygen.tensor(1.0).unflatten(0, (1,))


@pytest.mark.torch
def test_pytorch_agrees():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).normal(size=(2, 3, 4))
    upstream = np.random.default_rng(3)
    for repeats, dim in ((2, None), (3, 1), ([1, 0, 2], 1), ([2], -1), ([1, 3], 0)):
        ours, theirs = tinygen.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        ours_repeats = tinygen.tensor(repeats) if isinstance(repeats, list) else repeats
        theirs_repeats = torch.tensor(repeats) if isinstance(repeats, list) else repeats
        y, y_torch = ours.repeat_interleave(ours_repeats, dim), theirs.repeat_interleave(theirs_repeats, dim)
        assert np.array_equal(host(y), y_torch.detach().numpy())
        g = upstream.normal(size=tuple(y.shape))
        y.backward(tinygen.tensor(g))
        y_torch.backward(torch.tensor(g))
        assert np.allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-15, atol=0)
    for dim, sizes in ((1, (1, -1)), (-1, (2, 2)), (0, (2, 1))):
        assert tinygen.tensor(a).unflatten(dim, sizes).shape == tuple(torch.tensor(a).unflatten(dim, sizes).shape)
