"""``Tensor.data`` with PyTorch's meaning (a tensor sharing memory, cut out of the graph, with a version counter of
its own) and ``x.data = y``; ``Tensor.array``, the raw backend array, stays a plain slot. Checked against PyTorch
where the same lines run on both libraries."""
import types

import numpy as np
import pytest

import tinygen
from tinygen import nn

from helpers import host


def test_data_is_a_new_leaf_sharing_memory_that_does_not_require_grad():
    x = tinygen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for source in (x, x * 2.0):  # a leaf and a non-leaf
        data = source.data
        assert type(data) is tinygen.Tensor and data is not source and data is not source.data
        assert not data.requires_grad and data.grad_fn is None and data.is_leaf and data.grad is None
        assert data.array is source.array
        assert (data.shape, data.dtype, data.device) == (source.shape, source.dtype, source.device)
    assert not x.data.data.requires_grad


def test_data_of_a_parameter_is_a_plain_tensor():
    weight = nn.Linear(3, 2).weight
    assert type(weight.data) is tinygen.Tensor and weight.data.array is weight.array


def test_in_place_changes_through_data_work_while_recording_and_show_in_the_tensor():
    p = tinygen.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
    assert tinygen.is_grad_enabled()
    p.data.clamp_(-1.0, 1.0)  # WGAN weight clipping: no no_grad() around it
    assert host(p).tolist() == [-1.0, -0.5, 0.5, 1.0]
    p.data.add_(tinygen.ones(4), alpha=0.5)
    p.data.mul_(2.0)
    assert host(p).tolist() == [-1.0, 0.0, 2.0, 3.0]
    p.data.copy_(tinygen.tensor([4.0, 3.0, 2.0, 1.0]))
    p.data[0] = 9.0
    p.data -= 1.0
    assert host(p).tolist() == [8.0, 2.0, 1.0, 0.0]
    p.data.zero_()
    assert host(p).tolist() == [0.0] * 4 and p.requires_grad and p.is_leaf


def test_pytorch_initialisation_idioms_through_data():
    layer = nn.Conv2d(3, 8, 4)
    nn.init.normal_(layer.weight.data, 0.0, 0.02)
    nn.init.zeros_(layer.bias.data)
    layer.weight.data.normal_(0.0, 0.02)
    assert abs(float(host(layer.weight).std()) - 0.02) < 0.005 and not host(layer.bias).any()
    assert layer.weight.data.size(0) == 8 and layer.weight.data.dim() == 4


def test_autograd_does_not_see_in_place_changes_through_data_but_sees_them_through_detach():
    x = tinygen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    version = x._version[0]
    y = (x * x).sum()
    x.data.mul_(10.0)
    assert x._version[0] == version  # .data has a counter of its own
    y.backward()  # reads the new values, silently: PyTorch's escape hatch
    assert host(x.grad).tolist() == [20.0, 40.0, 60.0]
    z = (x * x).sum()
    x.detach().mul_(2.0)  # detach() shares the counter: the saved x is stale
    with pytest.raises(RuntimeError, match="was modified in place after the forward pass"):
        z.backward()


def test_assigning_data_replaces_the_values_and_keeps_the_autograd_state():
    x = tinygen.ones(3, requires_grad=True)
    (x * 2.0).sum().backward()
    version, grad = x._version[0], x.grad
    new = tinygen.zeros(2, 2, dtype=tinygen.float64)
    x.data = new  # another shape and dtype
    assert x.shape == (2, 2) and x.dtype == tinygen.float64 and x.array is new.array
    assert x.requires_grad and x.is_leaf and x.grad is grad and x._version[0] == version
    new.fill_(5.0)
    assert host(x).tolist() == [[5.0, 5.0], [5.0, 5.0]]  # shares memory with what it was given
    counts = tinygen.ones(2)
    counts.data = tinygen.tensor([1, 2])  # integer data is fine where no gradient is wanted
    assert counts.dtype == tinygen.int64


def test_assigning_data_can_move_a_parameter_to_another_device():
    weight = nn.Linear(2, 2).to("cpu").weight
    weight.data = weight.data.to("strict")
    assert weight.device == "strict" and type(weight) is nn.Parameter and weight.requires_grad


def test_assigning_data_refuses_a_non_tensor_and_integers_for_a_tensor_that_requires_grad():
    x = tinygen.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="Tensor.data must be set to a Tensor, got ndarray"):
        x.data = np.zeros(2)
    with pytest.raises(RuntimeError, match="requires grad, so its data must be floating point, got dtype int64"):
        x.data = tinygen.tensor([1, 2])
    assert x.dtype == tinygen.float32


def test_the_raw_array_is_a_slot_so_the_hot_path_reads_no_property():
    assert isinstance(tinygen.Tensor.__dict__["array"], types.MemberDescriptorType)
    assert isinstance(tinygen.Tensor.__dict__["data"], property)
    x = tinygen.ones(2)
    assert x.backend.is_array(x.array) and not isinstance(x.array, tinygen.Tensor)


# --- the same lines on PyTorch ---------------------------------------------------------------------------------

def _data_story(lib):
    """What a script sees: in-place through .data unseen by autograd, x.data = y, clipping while recording."""
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    y = (x * x).sum()
    x.data.mul_(10.0)
    y.backward()
    seen = [x.grad.tolist(), x.data.requires_grad, x.data.grad_fn is None, x.data.is_leaf]
    w = lib.ones(3, dtype=lib.float64, requires_grad=True)
    y = (w * w).sum()
    w.data = lib.full((3,), 2.0, dtype=lib.float64)
    y.backward()
    seen += [w.grad.tolist(), w.requires_grad, w.is_leaf]
    p = lib.tensor([-2.0, 0.5, 2.0], requires_grad=True)
    p.data.clamp_(-1.0, 1.0)
    seen += [p.detach().tolist(), p.requires_grad]
    q = lib.ones(2, requires_grad=True)
    x = lib.ones(2, requires_grad=True) * q
    x.data = lib.zeros(3)
    seen += [x.shape == (3,), x.grad_fn is not None, x.requires_grad]
    errors = []
    for value in (np.zeros(2), lib.tensor([1, 2])):
        try:
            q.data = value
        except (TypeError, RuntimeError) as error:
            errors.append(type(error).__name__)
    return seen + errors


@pytest.mark.torch
def test_data_behaves_as_in_pytorch():
    torch = pytest.importorskip("torch")
    assert _data_story(tinygen) == _data_story(torch)
