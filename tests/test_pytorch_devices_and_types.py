"""Devices (tinygen.device, cuda, backends, accelerator), legacy tensor types, Variable, Tensor.type, grad's
only_inputs: the names PyTorch scripts use, and PyTorch's answers where it has one."""
import pickle
import warnings

import numpy as np
import pytest

import tinygen
from tinygen.autograd import Variable

from helpers import host


def test_device_objects_are_their_names():
    cpu = tinygen.device("cpu")
    assert cpu == "cpu" and hash(cpu) == hash("cpu") and cpu.type == "cpu" and cpu.index is None
    assert str(cpu) == "cpu" and f"{cpu}" == "cpu" and repr(cpu) == "'cpu'"
    assert tinygen.device("cuda:0") == tinygen.device("cuda", 0) == "cuda" and tinygen.device("cuda:0").index == 0
    assert tinygen.device(cpu) is cpu and pickle.loads(pickle.dumps(cpu)) == "cpu"
    with pytest.raises(ValueError, match="unknown device 'mps'"):
        tinygen.device("mps")
    with pytest.raises(ValueError, match="tinygen uses one GPU"):
        tinygen.device("cuda", 1)


def test_tensor_device_is_a_device_object_that_moves_tensors(device):
    x = tinygen.zeros(2)
    assert isinstance(x.device, tinygen.device) and x.device == device and x.device.type == device
    assert x.to(tinygen.device(device)).device == device
    assert tinygen.zeros(2, device=tinygen.device(device)).device == device
    assert x.is_cuda is (device == "cuda")
    assert {x.device: "found"}[device] == "found"


def test_cuda_backends_and_accelerator_answer_without_a_gpu():
    available = tinygen.cuda.is_available()
    assert tinygen.cuda.device_count() == (1 if available else 0)
    assert tinygen.accelerator.is_available() is available
    tinygen.cuda.manual_seed(0)
    tinygen.cuda.manual_seed_all(0)
    tinygen.backends.cudnn.benchmark = True
    assert tinygen.backends.mps.is_available() is False
    if not available:
        assert tinygen.accelerator.current_accelerator() is None
        with pytest.raises(RuntimeError, match="tinygen.cuda.FloatTensor: no GPU here"):
            tinygen.cuda.FloatTensor(2, 3)
        with pytest.raises(RuntimeError, match="no GPU here"):
            tinygen.cuda.current_device()


def test_legacy_types_construct_cast_and_check(device):
    zeros = tinygen.FloatTensor(2, 3)
    assert zeros.shape == (2, 3) and zeros.dtype == tinygen.float32 and not host(zeros).any()
    values = tinygen.FloatTensor(np.random.default_rng(0).normal(0, 1, (4, 5)))
    assert values.dtype == tinygen.float32 and values.device == device
    assert tinygen.LongTensor([1, 2]).dtype == tinygen.int64 and tinygen.FloatTensor().shape == (0,)
    assert isinstance(values, tinygen.FloatTensor) and not isinstance(values, tinygen.DoubleTensor)
    assert not isinstance(values, tinygen.cuda.FloatTensor) and not isinstance(3.0, tinygen.FloatTensor)
    assert repr(tinygen.FloatTensor) == "<class 'tinygen.FloatTensor'>"
    filled = tinygen.FloatTensor(3, 1).fill_(1.0)
    assert host(filled).tolist() == [[1.0], [1.0], [1.0]]


def test_type_gives_names_and_casts():
    x = tinygen.tensor([1.5, -2.5])
    assert x.type() == "tinygen.FloatTensor" and x.double().type() == "tinygen.DoubleTensor"
    assert x.type(tinygen.FloatTensor) is x
    assert x.type(tinygen.LongTensor).dtype == tinygen.int64
    assert x.type("torch.DoubleTensor").dtype == tinygen.float64
    assert x.type("tinygen.IntTensor").dtype == tinygen.int32
    assert x.type(tinygen.float64).dtype == tinygen.float64
    with pytest.raises(TypeError, match="type\\(\\): expected a tensor type"):
        x.type("torch.Potato")


def test_casting_with_type_is_differentiable():
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    (gradient,) = tinygen.grad((x.type(tinygen.DoubleTensor) * 3).sum(), x)
    assert gradient.dtype == tinygen.float32 and host(gradient).tolist() == [3.0, 3.0]


def test_variable_returns_a_detached_tensor_with_a_deprecation_warning():
    x = tinygen.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(DeprecationWarning, match="Variable is deprecated"):
        wrapped = Variable(y)
    assert wrapped is not y and wrapped.grad_fn is None and not wrapped.requires_grad
    assert host(wrapped).tolist() == [2.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leaf = Variable(tinygen.zeros(3), requires_grad=True)
        with pytest.warns(UserWarning, match="volatile has no effect"):
            Variable(tinygen.zeros(1), volatile=True)
    assert leaf.requires_grad and leaf.is_leaf
    with pytest.raises(TypeError, match="Variable: expected a Tensor"):
        Variable([1.0])


def test_grad_accepts_only_inputs():
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    (gradient,) = tinygen.grad((x * x).sum(), x, only_inputs=True)
    assert host(gradient).tolist() == [2.0, 4.0]
    with pytest.warns(FutureWarning, match="only_inputs is deprecated"):
        tinygen.autograd.grad((x * x).sum(), [x], only_inputs=False)


def test_from_numpy_shares_memory_and_get_default_dtype():
    array = np.zeros(3)
    tensor = tinygen.from_numpy(array)
    array[0] = 5.0
    assert tensor.device == "cpu" and tensor[0].item() == 5.0 and tensor.dtype == tinygen.float64
    assert tinygen.is_tensor(tensor) and not tinygen.is_tensor(array)
    assert tinygen.get_default_dtype() == tinygen.float32
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray"):
        tinygen.from_numpy([1.0])


@pytest.mark.torch
def test_legacy_behaviour_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"):
        ours, theirs = getattr(tinygen, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        assert ours.type().split(".")[-1] == theirs.type().split(".")[-1]
    x = torch.ones(2, requires_grad=True)
    assert torch.autograd.Variable(x * 2).grad_fn is None  # PyTorch detaches too


def test_a_deep_copy_or_pickle_of_a_tensor_or_module_works_with_the_original(device):
    """Probe: `ema = copy.deepcopy(model)` made a second 'cpu' backend, and every op mixing the copy with the original
    failed with "expected all tensors on one device, got 'cpu' and 'cpu'"; a pickle round trip likewise."""
    import copy

    tinygen.manual_seed(0)
    model, x = tinygen.nn.Linear(4, 2).to(device), tinygen.randn(3, 4, device=device)
    twin = copy.deepcopy(model)
    assert np.array_equal(host(twin(x)), host(model(x)))
    with tinygen.no_grad():
        for average, parameter in zip(twin.parameters(), model.parameters()):
            average.mul_(0.99).add_(parameter, alpha=0.01)  # an EMA update
    for tensor in (copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert tensor.backend is x.backend and np.array_equal(host(tensor + x), host(2 * x))
    assert copy.deepcopy(x.backend) is x.backend


def test_an_empty_tinygen_device_counts_as_unset(monkeypatch):
    """Probe: `TINYGEN_DEVICE= tinygen train ...` (the usual way to unset it) said "unknown device ''"."""
    from tinygen import backend

    monkeypatch.setenv("TINYGEN_DEVICE", "")
    monkeypatch.setattr(backend, "_default_device", None)
    assert backend.get_default_device() == "cpu"


def test_the_legacy_tensor_constructor_makes_float32_as_pytorchs_does(device):
    """Probe: `torch.Tensor([1, 2])` gave int64 and `torch.Tensor(np.array([1.5]))` float64 (PyTorch: float32 both);
    `torch.Tensor(2, 3)` failed with "unknown dtype 3"."""
    for values in ([1, 2], np.array([1.5, 2.5]), [[True], [False]], tinygen.ones(2, dtype=tinygen.float64)):
        made = tinygen.Tensor(values, device=device)
        assert made.dtype == tinygen.float32 and made.device == device
    assert tinygen.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tinygen.Tensor(2, 3).shape == (2, 3) and host(tinygen.Tensor(2, 3)).sum() == 0
    assert tinygen.Tensor().shape == (0,) and tinygen.Tensor([]).shape == (0,)
    assert tinygen.Tensor([1, 2], dtype=tinygen.int64).dtype == tinygen.int64  # tinygen's own keyword still works
    assert tinygen.Tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(TypeError, match=r"Tensor: expected sizes \(ints\) or one sequence"):
        tinygen.Tensor([1], [2])
    torch = pytest.importorskip("torch")
    assert str(torch.Tensor([1, 2]).dtype) == "torch.float32" and tuple(torch.Tensor(2, 3).shape) == (2, 3)


def test_pytorchs_dtype_aliases_and_casts_and_a_star_import_keeps_the_builtins():
    """Probe: `dtype=torch.float` (the DCGAN example), `torch.long`, `torch.bool`, `x.int()`, `x.bool()` were
    missing."""
    aliases = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
               "bool": "bool"}
    for alias, dtype in aliases.items():
        assert str(getattr(tinygen, alias)) == dtype
    assert tinygen.full((2,), 1, dtype=tinygen.float).dtype == tinygen.float32
    x = tinygen.tensor([1.5, -2.0, 0.0])
    assert (x.int().tolist(), x.bool().tolist(), x.byte().dtype, x.half().dtype) == (
        [1, -2, 0], [True, True, False], tinygen.uint8, tinygen.float16)
    namespace = {}
    exec("from tinygen import *", namespace)
    assert not {"float", "int", "bool"} & set(namespace)
    torch = pytest.importorskip("torch")
    for alias, dtype in aliases.items():
        assert str(getattr(torch, alias)) == f"torch.{dtype}"
    assert torch.tensor([1.5, -2.0, 0.0]).int().tolist() == [1, -2, 0]
