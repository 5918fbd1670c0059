"""Tensor methods added for PyTorch scripts: eq/ne/lt/le/gt/ge, normal_/uniform_, new_zeros/new_ones/new_full,
and the clear AttributeError for a missing name (never Python's own guess)."""
import subprocess
import sys

import numpy as np
import pytest

import tinygen
from tinygen import nn, optim
from tinygen.nn import functional as F

from helpers import host


def test_comparison_methods_match_the_operators():
    a, b = tinygen.tensor([1.0, 2.0, 3.0]), tinygen.tensor([3.0, 2.0, 1.0])
    for method, operator in [("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"), ("le", "__le__"),
                             ("gt", "__gt__"), ("ge", "__ge__")]:
        assert host(getattr(a, method)(b)).tolist() == host(getattr(a, operator)(b)).tolist()
    assert a.eq(2.0).sum().item() == 1


def test_classifier_accuracy_idiom():
    output = tinygen.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    target = tinygen.tensor([1, 0, 0])
    pred = output.argmax(dim=1, keepdim=True)
    assert pred.eq(target.view_as(pred)).sum().item() == 2


def test_normal_and_uniform_fill_in_place_reproducibly():
    x = tinygen.zeros(1000, dtype=tinygen.float64)
    assert x.normal_(2.0, 0.5, generator=tinygen.Generator(x.device, 0)) is x
    assert abs(host(x).mean() - 2.0) < 0.1 and abs(host(x).std() - 0.5) < 0.05
    y = tinygen.zeros(1000).uniform_(-1.0, 3.0)
    assert host(y).min() >= -1.0 and host(y).max() < 3.0 and host(y).mean() > 0.5
    again = tinygen.zeros(1000, dtype=tinygen.float64).normal_(2.0, 0.5, generator=tinygen.Generator(x.device, 0))
    assert np.array_equal(host(x), host(again))


def test_in_place_fill_of_a_leaf_that_requires_grad_needs_no_grad():
    weight = tinygen.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: in-place change of a tensor that requires grad"):
        weight.normal_()
    with tinygen.no_grad():
        weight.normal_(0.0, 0.02)
        weight.uniform_()


def test_new_tensors_take_dtype_and_device():
    x = tinygen.ones(2, dtype=tinygen.float64)
    assert x.new_zeros(3).dtype == tinygen.float64 and x.new_ones((2, 2)).shape == (2, 2)
    assert host(x.new_full((2,), 7.0)).tolist() == [7.0, 7.0] and x.new_zeros(1).device == x.device


@pytest.mark.parametrize("namespace, name, hint", [
    (tinygen, "compile", "use the model itself"),
    (tinygen, "set_default_dtype", "model.double()"),
    (nn, "Conv3d", "Conv1d, Conv2d and ConvTranspose2d"),
    (F, "rrelu", "F.leaky_relu"),
    (optim, "LBFGS", "RMSprop, Adagrad and Adadelta"),
    (tinygen, "not_a_pytorch_name", "coming-from-pytorch"),
])
def test_missing_names_say_tinygen_does_not_have_them(namespace, name, hint):
    with pytest.raises(AttributeError, match="tinygen does not have it") as error:
        getattr(namespace, name)
    assert hint in str(error.value)


def test_missing_tensor_attribute_says_so_and_properties_keep_their_own_errors():
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'storage': tinygen's Tensor"):
        tinygen.zeros(1).storage()
    with pytest.raises(AttributeError, match="pin_memory"):
        tinygen.zeros(1).pin_memory()
    assert not hasattr(tinygen.zeros(1), "__cuda_array_interface__")
    assert tinygen.vision.transforms.ToTensor  # submodules load on first use


def test_no_misleading_did_you_mean_for_a_pytorch_name_but_pythons_guess_for_a_typo():
    """``nn.Conv3d`` would get Python's "Did you mean: 'Conv2d'?", which is a different layer: a PyTorch name
    tinygen lists gets its hint alone. A typo (``x.matmaul``) keeps Python's guess. Printed by the
    interpreter's own hook and by the traceback module (they guess differently before Python 3.13)."""
    script = "import sys, traceback, tinygen, tinygen.nn as nn, tinygen.nn.functional as F\nx = tinygen.zeros(1)\n"
    for expression in ("nn.Conv3d", "F.rrelu", "x.bfloat16", "x.matmaul"):
        script += (f"try:\n    {expression}\nexcept AttributeError as error:\n"
                   "    sys.__excepthook__(type(error), error, error.__traceback__); traceback.print_exc()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    printed = result.stderr
    assert printed.count("does not have it") == 8, printed
    for misleading in ("'Conv2d'?", "'relu'?", "'float'?"):
        assert misleading not in printed, printed
    assert "Did you mean: 'matmul'?" in printed and printed.count("Did you mean") <= 2, printed


def test_a_0d_tensor_formats_as_its_number():
    """Probe: `f"{loss:.4f}"` raised "unsupported format string passed to Tensor.__format__" (PyTorch formats a 0-d
    tensor as its number)."""
    loss = tinygen.tensor(1.23456, dtype=tinygen.float64)
    assert (f"{loss:.3f}", f"{loss:>8.2e}", f"{tinygen.tensor(7):03d}", f"{loss}") == (
        "1.235", "1.23e+00", "007", "1.23456")
    assert f"{tinygen.ones(2)}" == str(tinygen.ones(2))
    with pytest.raises(TypeError, match=r"the format '.2f' applies to a 0-d tensor \(one number\), this one has shape"):
        f"{tinygen.ones(2):.2f}"
    torch = pytest.importorskip("torch")
    assert f"{torch.tensor(1.23456, dtype=torch.float64):.3f}" == "1.235"


def test_small_pytorch_spellings_from_the_scripts_probe(tmp_path):
    """Each raised an AttributeError or a TypeError in the probe where PyTorch works."""
    a, b = tinygen.tensor([1.0, 5.0]), tinygen.tensor([3.0, 2.0])
    assert host(tinygen.max(a, b)).tolist() == [3, 5] and host(a.min(b)).tolist() == [1, 2]  # the elementwise overload
    assert tinygen.randint(10, (4,)).shape == (4,) and int(tinygen.randint(10, (100,)).max()) < 10
    x = tinygen.tensor(np.arange(6.0).reshape(2, 3))
    assert x.t().shape == (3, 2) and tinygen.ones(3).t().shape == (3,) and x.nelement() == 6
    with pytest.raises(ValueError, match="t: expects a tensor of at most 2 dims"):
        tinygen.zeros(2, 2, 2).t()
    assert np.allclose(host(tinygen.softmax(x, 1)), host(F.softmax(x, dim=1)))
    assert np.allclose(host(tinygen.log_softmax(x, dim=0)), host(F.log_softmax(x, dim=0)))
    assert (tinygen.numel(x), tinygen.is_floating_point(x), tinygen.is_floating_point(tinygen.ones(1).long())) == (
        6, True, False)
    assert host(tinygen.empty_like(x)).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert x.to(x.device, non_blocking=True) is x
    tinygen.save({"w": a}, tmp_path / "w.pt")
    assert host(tinygen.load(tmp_path / "w.pt", weights_only=True)["w"]).tolist() == [1, 5]
    leaf = tinygen.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Pass grad_outputs="):
        tinygen.autograd.grad(leaf * 2, leaf)


def test_inference_mode_is_no_grad_in_all_its_spellings():
    x = tinygen.ones(2, requires_grad=True)
    with tinygen.inference_mode():
        assert not (x * 2).requires_grad
    with tinygen.inference_mode(False):
        assert (x * 2).requires_grad

    @tinygen.inference_mode
    def bare(y):
        return (y * 2).requires_grad

    @tinygen.inference_mode()
    def called(y):
        return (y * 2).requires_grad

    assert (bare(x), called(x), tinygen.is_grad_enabled()) == (False, False, True)
    with tinygen.no_grad(), tinygen.inference_mode(False):
        assert not (x * 2).requires_grad  # False leaves the mode as it is
