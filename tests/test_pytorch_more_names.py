"""PyTorch names that a probe of PyTorch scripts found missing: tensor methods (any/all over a dim, repeat,
masked_fill_, detach_, new_tensor, numpy(force=True)), nn.ModuleDict, nn.ParameterList, SiLU, ConcatDataset, and
F.relu's inplace argument; gradient checks for the differentiable ones."""
import numpy as np
import pytest
from hypothesis import given

import tinygen
from tinygen import nn, optim
from tinygen.nn import functional as F
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst
from tinygen.utils.data import ConcatDataset, TensorDataset

from helpers import host, random_tensor


@pytest.mark.parametrize("repeats", [(2, 3), (1, 1), (2, 1, 2), (3, 2, 1, 1)])
def test_repeat_values_and_gradients(repeats):
    x = random_tensor((4, 6), seed=1)[::2, ::2].detach().requires_grad_()  # (2, 3), not contiguous
    expected = np.tile(host(x), repeats)
    assert np.array_equal(host(x.repeat(*repeats)), expected) and np.array_equal(host(x.repeat(repeats)), expected)
    gradcheck(lambda x: x.repeat(*repeats), [x])
    gradgradcheck(lambda x: x.repeat(*repeats), [x])


def test_repeat_refuses_too_few_repeats():
    with pytest.raises(ValueError, match=r"repeat: expected one non-negative int per dim of the tensor of shape \(2, 3\)"):
        tinygen.zeros(2, 3).repeat(2)


def test_repeat_is_pytorchs():
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3)
    for repeats in [(2, 3), (2, 1, 2), (0, 2)]:
        assert np.array_equal(tinygen.tensor(a).repeat(*repeats).numpy(), torch.tensor(a).repeat(*repeats).numpy())


@given(x=tst.tensors(tst.shapes(max_dims=3, max_side=4), requires_grad=True))
def test_silu_gradients(x):
    gradcheck(F.silu, [x])
    gradgradcheck(F.silu, [x])


def test_silu_values_and_module():
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    expected = x / (1 + np.exp(-x))
    assert np.allclose(host(F.silu(tinygen.tensor(x))), expected, rtol=1e-12)
    assert np.allclose(host(nn.SiLU()(tinygen.tensor(x))), expected, rtol=1e-12)


def test_any_and_all_over_a_dim():
    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    x = tinygen.tensor(a)
    assert host(x.any(dim=1)).tolist() == [True, False] and host(x.all(0)).tolist() == [False, False, False]
    assert x.any(1, keepdim=True).shape == (2, 1) and bool(x.any()) and not bool(x.all())
    assert host(tinygen.ones(2, 2).all(dim=-1)).tolist() == [True, True]


def test_in_place_spellings():
    x = tinygen.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x.masked_fill_(tinygen.tensor([True, False, True]), -1.0)  # broadcast over the rows
    assert host(x).tolist() == [[-1, 2, -1], [-1, 5, -1]]
    with pytest.raises(TypeError, match="masked_fill_: mask must be a bool tensor"):
        x.masked_fill_(tinygen.tensor([1, 0, 1]), 0.0)
    leaf = tinygen.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_: in-place change of a tensor that requires grad"):
        leaf.masked_fill_(tinygen.tensor([True, False]), 0.0)
    y = leaf * 2
    assert y.detach_() is y and not y.requires_grad and y.grad_fn is None
    assert leaf.numpy(force=True).tolist() == [1.0, 1.0]
    made = x.new_tensor([1, 2])
    assert made.dtype == x.dtype and host(made).tolist() == [1.0, 2.0]


def test_module_dict_and_parameter_list_register_what_they_hold():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.parts = nn.ModuleDict({"encoder": nn.Linear(2, 3), "decoder": nn.Linear(3, 2)})
            self.scales = nn.ParameterList([tinygen.ones(3), tinygen.ones(2)])

        def forward(self, x):
            return self.parts["decoder"](self.parts["encoder"](x) * self.scales[0]) * self.scales[1]

    model = Model()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["parts.encoder.weight", "parts.encoder.bias", "parts.decoder.weight", "parts.decoder.bias",
                     "scales.0", "scales.1"]
    assert list(model.parts) == ["encoder", "decoder"] and "encoder" in model.parts and len(model.scales) == 2
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model(tinygen.ones(4, 2)).sum().backward()
    optimizer.step()
    assert not np.array_equal(host(model.scales[1]), [1.0, 1.0])
    assert set(model.state_dict()) == set(names)
    with pytest.raises(KeyError, match="ModuleDict has no module 'middle' \\(it has 'encoder', 'decoder'\\)"):
        model.parts["middle"]
    assert model.parts.pop("decoder") is not None and list(model.parts.keys()) == ["encoder"]


def test_concat_dataset():
    joined = ConcatDataset([TensorDataset(tinygen.arange(3)), TensorDataset(tinygen.arange(10, 12))])
    assert len(joined) == 5 and [int(joined[i][0]) for i in range(5)] == [0, 1, 2, 10, 11]
    assert int(joined[-1][0]) == 11
    with pytest.raises(IndexError, match="ConcatDataset: index 5 is out of range for 5 samples"):
        joined[5]


def test_inplace_is_accepted_and_leaves_the_input_as_it_was():
    """tinygen computes activations out of place (an in-place change would break the graph recording them)."""
    x = tinygen.tensor([-1.0, 2.0])
    for function in (lambda x: F.relu(x, inplace=True), lambda x: F.leaky_relu(x, 0.1, inplace=True),
                     lambda x: F.elu(x, inplace=True), lambda x: F.silu(x, inplace=True)):
        function(x)
        assert host(x).tolist() == [-1.0, 2.0]
    assert host(F.relu(x, inplace=True)).tolist() == [0.0, 2.0]
