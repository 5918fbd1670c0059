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
    with pytest.raises(ValueError, match=r"repeat: expected one non-negative int per dim of the tensor of shape "
                                         r"\(2, 3\)"):
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
    with pytest.raises(ValueError, match=r"masked_fill_: a mask of shape \(2,\) does not broadcast to the tensor's "
                                         r"shape \(2, 3\)"):
        x.masked_fill_(tinygen.tensor([True, False]), 0.0)
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


# --- from a second probe, with whole scripts (pytorch/examples' DCGAN, a conditional GAN, checkpoints) ---------

def test_embedding_looks_up_rows_and_adds_their_gradients():
    table = random_tensor((5, 6), seed=4)[:, ::2].detach().requires_grad_()  # (5, 3), not contiguous
    indices = tinygen.tensor([[0, 2, 2], [4, 2, 1]])  # row 2 used three times: its gradient adds up
    assert np.array_equal(host(F.embedding(indices, table)), host(table)[host(indices)])
    gradcheck(lambda table: F.embedding(indices, table), [table])
    gradgradcheck(lambda table: F.embedding(indices, table), [table])
    layer = nn.Embedding(5, 3, padding_idx=2)
    assert host(layer.weight)[2].tolist() == [0.0, 0.0, 0.0] and layer.weight.shape == (5, 3)
    (layer(indices) * random_tensor((2, 3, 3), seed=5, requires_grad=False, dtype=tinygen.float32)).sum().backward()
    assert host(layer.weight.grad)[2].tolist() == [0.0, 0.0, 0.0] and host(layer.weight.grad)[3].tolist() == [0.0] * 3
    assert np.abs(host(layer.weight.grad)[0]).sum() > 0 and repr(layer) == "Embedding(5, 3, padding_idx=2)"
    with pytest.raises(ValueError, match="Embedding: tinygen supports num_embeddings, embedding_dim and padding_idx "
                                         "only, got max_norm"):
        nn.Embedding(5, 3, max_norm=1.0)
    with pytest.raises(TypeError, match="embedding: input must hold integer indices"):
        layer(tinygen.tensor([0.5]))
    with pytest.raises(IndexError, match=r"embedding: indices must be in \[0, 5\) for a table of 5 rows"):
        layer(tinygen.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"embedding: weight must be a \(num_embeddings, embedding_dim\) table"):
        F.embedding(tinygen.tensor([0]), tinygen.ones(3))


def test_one_hot_mm_bmm_and_size():
    assert host(F.one_hot(tinygen.tensor([0, 2, 1]))).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(tinygen.tensor([[1]]), 4).shape == (1, 1, 4) and F.one_hot(tinygen.tensor([1])).dtype == \
        tinygen.int64
    with pytest.raises(ValueError, match=r"one_hot: class indices must be in \[0, 2\)"):
        F.one_hot(tinygen.tensor([2]), 2)
    a, b = random_tensor((2, 3), seed=6), random_tensor((3, 4), seed=7)
    assert np.allclose(host(a.mm(b)), host(a) @ host(b)) and tinygen.mm(a, b).shape == (2, 4)
    assert tinygen.bmm(tinygen.ones(5, 2, 3), tinygen.ones(5, 3, 1)).shape == (5, 2, 1)
    with pytest.raises(ValueError, match="mm: expects two matrices"):
        tinygen.mm(tinygen.ones(2, 2, 2), tinygen.ones(2, 2))
    with pytest.raises(ValueError, match="bmm: expects two 3-D tensors with one batch size"):
        tinygen.bmm(tinygen.ones(5, 2, 3), tinygen.ones(4, 3, 1))
    assert tinygen.zeros(4, 3).shape == tinygen.Size([4, 3]) and tinygen.Size([4, 3]).numel() == 12
    assert repr(tinygen.Size([4, 3])) == "tinygen.Size([4, 3])"


def test_data_parallel_runs_the_module_on_its_one_device():
    import tinygen.nn.parallel

    layer = nn.Linear(2, 1)
    x = tinygen.ones(3, 2)
    assert np.array_equal(host(tinygen.nn.parallel.data_parallel(layer, x, range(2))), host(layer(x)))
    wrapped = nn.DataParallel(layer, device_ids=[0])
    assert np.array_equal(host(wrapped(x)), host(layer(x))) and list(wrapped.state_dict()) == ["module.weight",
                                                                                               "module.bias"]


def test_save_and_load_through_a_file_object():
    import io

    buffer = io.BytesIO()
    tinygen.save({"weight": tinygen.ones(2), "epoch": 3}, buffer)
    buffer.seek(0)
    loaded = tinygen.load(buffer)
    assert host(loaded["weight"]).tolist() == [1.0, 1.0] and loaded["epoch"] == 3
    with pytest.raises(tinygen.serialization.CheckpointError, match="the file object is not a readable tinygen"):
        tinygen.load(io.BytesIO(b"not a checkpoint"))


@pytest.mark.parametrize("where, name", [(lambda: optim.lr_scheduler, "OneCycleLR"),
                                         (lambda: nn.init, "sparse_"), (lambda: nn.utils, "weight_norm")])
def test_a_missing_name_in_every_namespace_says_tinygen_lacks_it(where, name):
    """Probe: these three namespaces raised Python's bare AttributeError."""
    with pytest.raises(AttributeError, match="tinygen does not have it"):
        getattr(where(), name)


def test_reductions_and_softmax_take_pytorchs_dtype_argument():
    """Probe: ``x.prod(0, dtype=...)``, ``cumsum(..., dtype=...)`` and ``F.softmax(..., dtype=...)`` raised a bare
    TypeError. As in PyTorch, the input is cast first: float32 summed in float64, ints averaged as floats."""
    values = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x = tinygen.tensor(values)
    assert x.sum(dtype=tinygen.float64).dtype == tinygen.float64
    assert x.sum(dtype=tinygen.float64).item() == values.astype(np.float64).sum()
    assert x.prod(0, dtype=tinygen.float64).dtype == tinygen.float64
    assert tinygen.cumsum(x, 1, dtype=tinygen.float64).dtype == tinygen.float64
    assert tinygen.arange(4).mean(dtype=tinygen.float32).item() == 1.5
    assert F.softmax(x, 1, dtype=tinygen.float64).dtype == tinygen.float64
    assert x.log_softmax(1, dtype="float64").dtype == tinygen.float64
    leaf = tinygen.tensor(values, requires_grad=True)
    leaf.sum(dtype=tinygen.float64).backward()
    assert leaf.grad.dtype == tinygen.float32 and host(leaf.grad).tolist() == np.ones((3, 4)).tolist()
    with pytest.raises(TypeError, match="sum: unknown dtype 'float99'"):
        x.sum(dtype="float99")
    with pytest.raises(TypeError, match="softmax: pass dim, the dimension whose entries become a probability vector"):
        F.softmax(x)


def test_roll_takes_a_numpy_integer_shift():
    """Probe: ``torch.roll(x, np.int64(2), 0)`` (a random shift drawn with NumPy) was refused."""
    x = tinygen.arange(5)
    assert host(tinygen.roll(x, np.int64(2), 0)).tolist() == [3, 4, 0, 1, 2]
    assert host(x.roll((np.int32(-1),), (0,))).tolist() == [1, 2, 3, 4, 0]
