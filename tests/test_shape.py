"""Shape ops: gradients (first and second order), values against NumPy, views sharing memory, bad shapes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor

SHAPE_OPS = {
    "reshape": (lambda x: x.reshape(-1), lambda a: a.reshape(-1)),
    "reshape_2": (lambda x: x.reshape(x.shape[0], -1), lambda a: a.reshape(a.shape[0], -1)),
    "transpose": (lambda x: x.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1)),
    "permute": (lambda x: x.permute(*reversed(range(x.ndim))), lambda a: a.transpose()),
    "T": (lambda x: x.T, lambda a: a.T),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda a: np.expand_dims(a, 1)),
    "squeeze": (lambda x: x.unsqueeze(0).squeeze(0), lambda a: a),
    "flatten": (lambda x: x.flatten(), lambda a: a.reshape(-1)),
    "expand": (lambda x: x.unsqueeze(0).expand(3, *x.shape), lambda a: np.broadcast_to(a, (3,) + a.shape)),
    "pad": (lambda x: tinygen.pad(x, (1, 2)), lambda a: np.pad(a, [(0, 0)] * (a.ndim - 1) + [(1, 2)])),
    "cat": (lambda x: tinygen.cat([x, 2 * x], dim=0), lambda a: np.concatenate([a, 2 * a], axis=0)),
    "stack": (lambda x: tinygen.stack([x, x * x], dim=1), lambda a: np.stack([a, a * a], axis=1)),
    "clone": (lambda x: x.clone(), lambda a: a.copy()),
    "contiguous": (lambda x: x.T.contiguous(), lambda a: a.T.copy()),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@given(x=tst.tensors(tst.shapes(min_dims=1, max_dims=3, max_side=4), requires_grad=True))
def test_shape_op_gradients_and_values(name, x):
    function, reference = SHAPE_OPS[name]
    gradcheck(function, [x])
    gradgradcheck(function, [x])
    assert_close(function(x), reference(host(x)))


@given(data=st.data())
def test_broadcast_to_and_sum_to_are_adjoint(data):
    shape = data.draw(tst.shapes(max_dims=3, max_side=3))
    target = data.draw(tst.broadcastable_shapes(shape))
    full = tuple(np.broadcast_shapes(shape, target))
    x = data.draw(tst.tensors(shape, requires_grad=True))
    gradcheck(lambda x: x.broadcast_to(full), [x])
    gradgradcheck(lambda x: x.broadcast_to(full), [x])


def test_cat_of_mixed_sizes_and_dtypes():
    a, b = random_tensor((2, 3), seed=1), random_tensor((2, 1), seed=2)
    gradcheck(lambda a, b: tinygen.cat([a, b], dim=1), [a, b])
    assert tinygen.cat([tinygen.ones(1), tinygen.ones(1, dtype=tinygen.float64)]).dtype == tinygen.float64


def test_pad_on_two_dimensions_like_pytorch():
    x = random_tensor((1, 2, 3), seed=3)
    y = tinygen.pad(x, (1, 0, 2, 1), value=-1.0)
    assert y.shape == (1, 5, 4)
    assert_close(y, np.pad(host(x), [(0, 0), (2, 1), (1, 0)], constant_values=-1.0))
    gradcheck(lambda x: tinygen.pad(x, (1, 0, 2, 1)), [x])


def test_views_share_memory_and_their_version_counter():
    x = tinygen.zeros(2, 3)
    view = x.reshape(6)
    view[0] = 5.0
    assert host(x)[0, 0] == 5.0
    assert x._version is view._version and x._version[0] == 1
    detached = x.detach()
    detached.fill_(1.0)
    assert host(x).sum() == 6.0


def test_view_that_would_join_dims_apart_in_memory_is_an_error_but_reshape_copies():
    x = tinygen.ones(2, 3).T
    with pytest.raises(RuntimeError, match=r"view: the tensor of shape \(3, 2\) \(strides \(1, 3\)\) cannot be "
                                           r"viewed as \(6,\): that would join dims that are not next to each other"):
        x.view(6)
    assert x.reshape(6).shape == (6,)


@pytest.mark.parametrize("make, shape, viewable", [
    (lambda t: t.view(2, 12)[:, 6:], (2, 2, 3), True),            # nanoGPT's split heads: a slice's dim split
    (lambda t: t.view(2, 3, 4).transpose(0, 1), (3, 2, 2, 2), True),  # a transposed tensor's last dim split
    (lambda t: t.view(2, 3, 4).transpose(0, 1), (6, 4), False),
    (lambda t: t.view(2, 3, 4)[:, :, ::2], (6, 2), True),          # strided, but its first two dims are one run
    (lambda t: t.view(2, 1, 12)[:, :, 2:], (2, 10), True),         # a size-1 dim places nothing
    (lambda t: t.view(4, 6).t(), (3, 2, 4), True),
    (lambda t: t.view(4, 6).t(), (24,), False),
])
def test_view_of_a_non_contiguous_tensor_where_pytorch_allows_it(make, shape, viewable):
    """Probe: view refused every non-contiguous tensor; PyTorch views one when the new shape only splits or joins
    dims that lie one after another in memory. The view shares memory, and its values are reshape's."""
    x = make(tinygen.arange(24.0))
    if not viewable:
        with pytest.raises(RuntimeError, match="cannot be viewed as"):
            x.view(*shape)
        return
    viewed = x.view(*shape)
    assert host(viewed).tolist() == host(x.reshape(*shape)).tolist()
    viewed.fill_(-1.0)
    assert (host(x) == -1.0).all()  # one memory: the fill shows through the original


def test_bad_shapes_are_clear_errors():
    x = tinygen.ones(2, 3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4,\)"):
        x.reshape(4)
    with pytest.raises(ValueError, match="permute: dims"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match=r"broadcast_to: a tensor of shape \(2, 3\) cannot be broadcast to shape \(3, 3\)"):
        x.broadcast_to((3, 3))
    with pytest.raises(ValueError, match="cat: shapes"):
        tinygen.cat([x, tinygen.ones(3, 3)], dim=1)
    with pytest.raises(ValueError, match="stack: all tensors must have one shape"):
        tinygen.stack([x, tinygen.ones(3, 2)])
