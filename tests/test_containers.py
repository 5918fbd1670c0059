"""Sequential and ModuleList (registration, indexing, iteration, append), and the reshaping layers Flatten and
Unflatten (gradients, PyTorch parity, errors)."""
from collections import OrderedDict

import pytest

import tinygen
from tinygen import nn
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor


def test_sequential_applies_modules_in_order_and_registers_them():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    model = nn.Sequential(first, nn.Tanh(), second)
    x = tinygen.randn(5, 3)
    assert_close(model(x).detach(), host(second(first(x).tanh()).detach()))
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model) == 3 and list(model) == [first, model[1], second]
    assert model[-1] is second and model[0] is first


def test_sequential_from_an_ordered_dict_keeps_names_and_slices_keep_them():
    model = nn.Sequential(OrderedDict(encode=nn.Linear(2, 3), act=nn.ReLU(), decode=nn.Linear(3, 2)))
    assert list(model.state_dict()) == ["encode.weight", "encode.bias", "decode.weight", "decode.bias"]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and [name for name, _ in tail.named_children()] == ["act", "decode"]
    assert tail[1] is model.decode


def test_sequential_append_setitem_and_index_errors():
    model = nn.Sequential(nn.Linear(2, 2))
    assert model.append(nn.ReLU()) is model
    assert len(model) == 2 and isinstance(model[1], nn.ReLU)
    model[0] = nn.Linear(2, 5)
    assert model[0].out_features == 5
    with pytest.raises(IndexError, match="Sequential: index 2 is out of range for 2 modules"):
        model[2]
    with pytest.raises(TypeError, match="Sequential: expected Modules, got function"):
        model.append(tinygen.relu)
    with pytest.raises(TypeError, match="Sequential indices must be integers or slices, got str"):
        model["0"]


def test_module_list_registers_parameters_and_renumbers_slices_and_inserts():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])
    layers.append(nn.Linear(3, 1))
    layers.insert(0, nn.Identity())
    assert [type(layer).__name__ for layer in layers] == ["Identity", "Linear", "Linear", "Linear"]
    assert [name for name, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]
    assert [name for name, _ in layers[2:].named_children()] == ["0", "1"]
    assert len(nn.ModuleList()) == 0
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(tinygen.ones(1))


def test_container_reprs():
    model = nn.Sequential(nn.Linear(2, 3), nn.ModuleList([nn.ReLU()]))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ModuleList(\n"
        "    (0): ReLU()\n"
        "  )\n"
        ")"
    )


# --- Flatten and Unflatten ---------------------------------------------------------------------------------

def test_flatten_and_unflatten_gradients():
    x = random_tensor((2, 3, 2, 2), seed=1)
    gradcheck(nn.Flatten(), [x])
    gradgradcheck(nn.Flatten(), [x])
    vectors = random_tensor((2, 12), seed=2)
    gradcheck(nn.Unflatten(1, (3, -1, 2)), [vectors])


def test_flatten_and_unflatten_shapes_and_round_trip():
    x = tinygen.randn(4, 3, 5, 6)
    assert nn.Flatten()(x).shape == (4, 90)
    assert nn.Flatten(0, 2)(x).shape == (60, 6)
    assert nn.Flatten(-2)(x).shape == (4, 3, 30)
    assert nn.Unflatten(1, (3, 5, 6))(nn.Flatten()(x)).shape == x.shape
    assert nn.Unflatten(-1, (2, -1))(x).shape == (4, 3, 5, 2, 3)
    assert repr(nn.Unflatten(1, [128, 7, 7])) == "Unflatten(dim=1, unflattened_size=(128, 7, 7))"


def test_unflatten_errors():
    with pytest.raises(ValueError, match=r"Unflatten: dim 1 of the input \(shape \(2, 10\)\) has size 10, which cannot be split into \(3, 4\)"):
        nn.Unflatten(1, (3, 4))(tinygen.ones(2, 10))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(ValueError, match="cannot be split into \\(3, -1\\)"):
        nn.Unflatten(1, (3, -1))(tinygen.ones(2, 10))


@pytest.mark.torch
def test_flatten_and_unflatten_match_torch():
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    x = random_tensor((2, 3, 4, 5), seed=3, dtype=tinygen.float32, requires_grad=False)
    for start, end in [(1, -1), (0, 1), (2, 3)]:
        assert_close(nn.Flatten(start, end)(x), torch.nn.Flatten(start, end)(to_torch(x)).numpy())
        assert repr(nn.Flatten(start, end)) == repr(torch.nn.Flatten(start, end))
    assert_close(nn.Unflatten(2, (2, 2))(x), torch.nn.Unflatten(2, (2, 2))(to_torch(x)).numpy())
