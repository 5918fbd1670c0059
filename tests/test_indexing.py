"""Indexing: basic and advanced ``x[index]`` and ``gather``; the backward scatters (repeated indices
accumulate), first and second order; bounds are checked (CuPy would wrap silently)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor

INDICES = {
    "int": lambda n: 1,
    "negative_int": lambda n: -1,
    "slice": lambda n: slice(1, None),
    "strided_slice": lambda n: slice(None, None, 2),
    "reversed": lambda n: slice(None, None, -1),
    "none_and_ellipsis": lambda n: (None, Ellipsis, 0),
    "int_list_with_repeats": lambda n: [0, 0, 2, 1, 0],
    "int_tensor": lambda n: tinygen.tensor([[2, 0], [0, 0]]),
    "mixed": lambda n: (slice(None), [1, 1, 0]),
    "bool_mask": lambda n: tinygen.tensor([True, False, True]),
}


@pytest.mark.parametrize("name", sorted(INDICES))
@given(x=tst.tensors((3, 3, 2), requires_grad=True))
def test_getitem_gradients_and_values(name, x):
    index = INDICES[name](3)
    gradcheck(lambda x: x[index], [x])
    gradgradcheck(lambda x: x[index], [x])
    numpy_index = tuple(host(i) if isinstance(i, tinygen.Tensor) else i for i in index) if isinstance(index, tuple) \
        else (host(index) if isinstance(index, tinygen.Tensor) else index)
    assert_close(x[index], host(x)[numpy_index])


def test_repeated_indices_accumulate():
    x = tinygen.zeros(3, requires_grad=True)
    upstream = tinygen.tensor([1.0, 2.0, 4.0, 8.0])
    x[[0, 0, 2, 0]].backward(upstream)
    assert host(x.grad).tolist() == [11.0, 0.0, 4.0]


def test_boolean_mask_over_two_dims():
    x = random_tensor((2, 3), seed=1)
    mask = x > 0
    assert_close(x[mask], host(x)[host(x) > 0])
    gradcheck(lambda x: x[mask], [x])


@given(data=st.data())
def test_gather_gradients(data):
    x = data.draw(tst.tensors((3, 4), requires_grad=True))
    dim = data.draw(st.sampled_from([0, 1, -1]))
    shape = list(x.shape)
    shape[dim] = data.draw(st.integers(1, 5))
    index = tinygen.tensor(np.random.default_rng(data.draw(st.integers(0, 99))).integers(0, x.shape[dim], shape))
    gradcheck(lambda x: x.gather(dim, index), [x])
    gradgradcheck(lambda x: x.gather(dim, index), [x])
    assert_close(x.gather(dim, index), np.take_along_axis(host(x), host(index), axis=dim))


def test_setitem_is_in_place_and_refused_on_tensors_that_require_grad():
    x = tinygen.zeros(3)
    x[1] = 2.0
    x[tinygen.tensor([0, 2])] = tinygen.tensor([1.0, 3.0])
    assert host(x).tolist() == [1.0, 2.0, 3.0]
    w = tinygen.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place change of a tensor that requires grad"):
        w[0] = 1.0
    with tinygen.no_grad():
        w[0] = 1.0
    assert host(w)[0] == 1.0


def test_setitem_errors_name_setitem():
    x = tinygen.zeros(3, 2)
    with pytest.raises(IndexError, match="^setitem: index 10 is out of range for dimension 0 of size 3"):
        x[10] = 1.0
    with pytest.raises(IndexError, match="^setitem: index 5 is out of range for dimension 1 of size 2"):
        x[:, [0, 5]] = 1.0
    with pytest.raises(IndexError, match="^setitem: too many indices"):
        x[0, 0, 0] = 1.0


def test_out_of_range_indices_are_errors_on_every_device():
    x = tinygen.ones(3, 2)
    with pytest.raises(IndexError, match="getitem: index 3 is out of range for dimension 0 of size 3"):
        x[3]
    with pytest.raises(IndexError, match="getitem: index 5 is out of range for dimension 1 of size 2"):
        x[:, [0, 5]]
    with pytest.raises(IndexError, match="getitem: index -4 is out of range"):
        x[tinygen.tensor([-4])]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="boolean mask of shape \\(2,\\) does not match"):
        x[tinygen.tensor([True, False])]
    with pytest.raises(IndexError, match="index arrays must hold integers or booleans"):
        x[tinygen.tensor([0.5])]
    with pytest.raises(IndexError, match="gather: index values must be in"):
        x.gather(1, tinygen.tensor([[0], [2], [1]]))


#: an int beside index arrays, and where PyTorch's result comes from: the ints applied first, then the rest
INTEGERS_FIRST = {
    "[1, :, [0, 2, 1]]": lambda a: a[1][:, [0, 2, 1]],
    "[0, :, [1, 3]]": lambda a: a[0][:, [1, 3]],
    "[0, :, mask]": lambda a: a[0][:, [0, 2]],
    "[1, None, :, [0, 2]]": lambda a: a[1][None, :, [0, 2]],
    "[1, ..., [0, 2]]": lambda a: a[1][..., [0, 2]],
    "[[1, 0], :, 1, [0, 4]]": lambda a: a[:, :, 1][[1, 0], :, [0, 4]],
    "[:, 0, [1, 3]]": lambda a: a[:, 0][:, [1, 3]],
}


@pytest.mark.parametrize("index", sorted(INTEGERS_FIRST))
def test_an_int_beside_index_arrays_is_applied_first_as_in_pytorch(index):
    """Probe: `x[1, :, [0, 2, 1]]` gave NumPy's answer, the list's dimension moved to the front (shape (3, 3) but
    transposed values; `x[0, :, [1, 3]]` (2, 3) where PyTorch gives (3, 2)), with no error."""
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    mask = np.array([True, False, True, False])
    got = eval("x" + index, {"x": tinygen.tensor(a), "mask": tinygen.tensor(mask)})
    expected = INTEGERS_FIRST[index](a)
    assert got.shape == expected.shape and np.array_equal(host(got), expected)


def test_the_integers_first_table_is_pytorchs():
    torch = pytest.importorskip("torch")
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    mask = torch.tensor([True, False, True, False])
    for index, expected in INTEGERS_FIRST.items():
        assert np.array_equal(eval("x" + index, {"x": torch.from_numpy(a), "mask": mask}).numpy(), expected(a)), index


def test_an_int_beside_index_arrays_differentiates_and_assigns_as_in_pytorch():
    x = random_tensor((6, 3, 4), seed=3)[::2].detach().requires_grad_()  # not contiguous
    gradcheck(lambda x: x[1, :, [0, 2, 2]], [x])
    gradgradcheck(lambda x: x[1, :, [0, 2, 2]], [x])
    target = tinygen.zeros(2, 3, 4)
    target[1, :, [0, 3]] = tinygen.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # shape (3, 2), as PyTorch's
    assert host(target)[1, :, 0].tolist() == [1.0, 3.0, 5.0] and host(target)[1, :, 3].tolist() == [2.0, 4.0, 6.0]
    assert host(target).sum() == 21.0
