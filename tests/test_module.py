"""Module: registration, deterministic parameter order, train/eval, state_dict round trips (also through
save/load), load errors, repr, to(dtype/device)."""
from collections import OrderedDict

import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.serialization import load, save

from helpers import assert_close, host


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.BatchNorm1d(width)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.norm(self.linear(x)).relu())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tinygen.ones(1))
        self.first = Block(4)
        self.blocks = nn.ModuleList([Block(4), Block(4)])
        self.head = nn.Linear(4, 1)
        self.register_buffer("calls", tinygen.zeros(()))
        self.register_buffer("cache", tinygen.zeros(2), persistent=False)

    def forward(self, x):
        x = self.first(x * self.scale)
        for block in self.blocks:
            x = block(x)
        return self.head(x)


BLOCK_KEYS = ["linear.weight", "linear.bias", "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var",
              "norm.num_batches_tracked"]


def test_named_parameters_and_state_dict_follow_registration_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["scale"] + [f"{block}.{key}" for block in ("first", "blocks.0", "blocks.1") for key in
                                 ("linear.weight", "linear.bias", "norm.weight", "norm.bias")] + ["head.weight", "head.bias"]
    assert list(net.state_dict()) == ["scale", "calls"] + [f"{block}.{key}" for block in ("first", "blocks.0", "blocks.1")
                                                          for key in BLOCK_KEYS] + ["head.weight", "head.bias"]
    assert [name for name, _ in net.named_buffers()][:2] == ["calls", "cache"]  # non-persistent: a buffer, not saved
    assert [name for name, _ in net.named_modules()][:4] == ["", "first", "first.linear", "first.norm"]
    assert [name for name, _ in Net().named_parameters()] == names  # the same order every time


def test_shared_parameter_appears_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2


def test_train_and_eval_reach_every_submodule():
    net = Net()
    x = tinygen.randn(8, 4)
    net.eval()
    assert not any(module.training for module in net.modules())
    assert_close(net(x).detach(), host(net(x)))  # evaluation is deterministic (no dropout, running stats)
    net.train()
    assert all(module.training for module in net.modules())
    assert net.train(False) is net and not net.head.training


def test_state_dict_round_trip_reproduces_outputs_exactly(tmp_path):
    tinygen.manual_seed(0)
    source, target = Net(), Net()
    source(tinygen.randn(8, 4))  # moves the running statistics away from their start
    source.eval(), target.eval()
    save(source.state_dict(), tmp_path / "net.npz")
    result = target.load_state_dict(load(tmp_path / "net.npz"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = tinygen.randn(5, 4)
    assert (host(target(x).detach()) == host(source(x).detach())).all()
    assert int(target.first.norm.num_batches_tracked) == 1
    assert target.first.norm.num_batches_tracked.dtype == tinygen.int64


def test_state_dict_holds_detached_values_sharing_memory():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad
    with tinygen.no_grad():
        layer.weight.fill_(3.0)
    assert (host(state["weight"]) == 3.0).all()


def test_load_errors_name_keys_layers_and_shapes():
    net = Net()
    state = net.state_dict()
    state["head.weight"] = tinygen.zeros(2, 4)
    state["extra.weight"] = tinygen.zeros(1)
    del state["first.linear.bias"]
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert "load_state_dict into Net failed" in message
    assert "head.weight (Linear): the checkpoint has shape (2, 4), this model has (1, 4)" in message
    assert "missing keys: first.linear.bias" in message
    assert "unexpected keys: extra.weight" in message

    state["head.weight"] = tinygen.zeros(1, 4)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["first.linear.bias"] and unexpected == ["extra.weight"]
    assert (host(net.head.weight) == 0).all()
    state["head.weight"] = tinygen.zeros(3)
    with pytest.raises(RuntimeError, match=r"head.weight \(Linear\): the checkpoint has shape \(3,\)"):
        net.load_state_dict(state, strict=False)  # shapes are checked even when not strict
    with pytest.raises(TypeError, match=r"'head.weight' \(Linear\) must be a Tensor, got list"):
        net.load_state_dict({**state, "head.weight": [[0.0] * 4]}, strict=False)


def test_loading_bumps_versions_so_stale_graphs_are_caught():
    layer = nn.Linear(2, 2)
    y = layer(tinygen.randn(3, 2)).sum()
    layer.load_state_dict(nn.Linear(2, 2).state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.torch
def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(OrderedDict(
        body=nn.Sequential(nn.Linear(100, 6272, bias=False), nn.BatchNorm1d(6272), nn.LeakyReLU(0.2, inplace=True)),
        unflatten=nn.Unflatten(1, (128, 7, 7)), norm=nn.BatchNorm2d(128), act=nn.Tanh(), flat=nn.Flatten(),
    ))
    theirs = torch.nn.Sequential(OrderedDict(
        body=torch.nn.Sequential(torch.nn.Linear(100, 6272, bias=False), torch.nn.BatchNorm1d(6272),
                                 torch.nn.LeakyReLU(0.2, inplace=True)),
        unflatten=torch.nn.Unflatten(1, (128, 7, 7)), norm=torch.nn.BatchNorm2d(128), act=torch.nn.Tanh(),
        flat=torch.nn.Flatten(),
    ))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_to_dtype_keeps_parameter_objects_and_casts_floating_state():
    net = Net()
    net(tinygen.randn(4, 4)).sum().backward()
    parameters = list(net.parameters())
    weight_version = net.head.weight._version[0]
    assert net.to(tinygen.float64) is net
    assert list(net.parameters()) == parameters and all(p.dtype == tinygen.float64 for p in parameters)
    assert net.head.weight.grad.dtype == tinygen.float64
    assert net.first.norm.running_var.dtype == tinygen.float64
    assert net.first.norm.num_batches_tracked.dtype == tinygen.int64
    assert net.head.weight._version[0] > weight_version
    assert net(tinygen.randn(4, 4, dtype=tinygen.float64)).dtype == tinygen.float64
    net.float()
    assert net.head.weight.dtype == tinygen.float32
    version = net.head.weight._version[0]
    net.to("float32")
    assert net.head.weight._version[0] == version  # nothing changed, nothing bumped


def test_to_another_device_moves_parameters_and_buffers():
    other = "strict" if tinygen.get_default_device() != "strict" else "cpu"
    net = Net().to(other)
    assert {p.device for p in net.parameters()} == {other}
    assert {b.device for b in net.buffers()} == {other}
    assert net(tinygen.randn(3, 4, device=other)).device == other


def test_registration_rules():
    class Bare(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(tinygen.ones(1))

    with pytest.raises(AttributeError, match="call super\\(\\).__init__\\(\\) before assigning attributes"):
        Bare()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Linear.weight is a parameter: assign a Parameter or None, got Tensor"):
        layer.weight = tinygen.ones(2, 2)
    with pytest.raises(KeyError, match="without '.'"):
        layer.register_buffer("a.b", tinygen.ones(1))
    layer.bias = None
    assert list(layer.state_dict()) == ["weight"]
    del layer.weight
    assert list(layer.parameters()) == []
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        layer.missing


def test_zero_grad_requires_grad_and_apply():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    net(tinygen.randn(4, 2)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all((host(p.grad) == 0).all() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    visited = []
    net.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "Linear", "Sequential"]  # children first, as PyTorch


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(tinygen.ones(1))
    assert np.isfinite(host(Net()(tinygen.randn(2, 4)).detach())).all()


def test_a_plain_list_of_layers_is_refused_with_the_fix():
    """Modules in a Python list are invisible to parameters(): the optimizer would never train them."""
    import tinygen.nn as nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    with pytest.raises(TypeError, match="Model.layers: a plain list of modules would hide their parameters.*ModuleList"):
        Model()
