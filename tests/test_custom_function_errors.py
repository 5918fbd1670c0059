"""A custom Function whose backward returns the wrong thing gets an error naming the op and the mistake,
not an unrelated error later (a raw array) or a silently missing gradient (too few gradients)."""
import pytest

import tinygen
from tinygen.autograd import Function

from helpers import random_tensor


class Scale(Function):
    """y = 2 x; ``backward`` is replaced per test by a wrong one."""

    def forward(self, x):
        return x * 2.0

    def backward(self, g):
        return g * 2.0


class Product(Function):
    """z = a * b.   dL/da = g * b,  dL/db = g * a."""

    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.saved_inputs
        return g * b, g * a


def _array_type(tensor):
    """``ndarray`` on NumPy and CuPy, ``StrictArray`` on the strict stand-in."""
    return type(tensor.array).__name__


def _other_device(device):
    return "cpu" if device != "cpu" else "strict"


def test_a_correct_custom_function_still_works_with_none_for_an_input():
    class FirstOnly(Product):
        def backward(self, g):
            a, b = self.saved_inputs
            return g * b, None

    a, b = random_tensor((3,), seed=1), random_tensor((3,), seed=2, requires_grad=False)
    FirstOnly()(a, b).sum().backward()
    assert a.grad is not None and b.grad is None


def test_a_backward_returning_a_raw_array_names_the_op_and_the_array_type():
    class RawArray(Scale):
        def backward(self, g):
            return g.array * 2.0

    x = random_tensor((3,), seed=3)
    with pytest.raises(RuntimeError,
                       match=rf"RawArray.backward returned a \S*{_array_type(x)} for input 0 instead of a Tensor"):
        RawArray()(x).sum().backward()


def test_a_backward_returning_a_raw_array_is_caught_in_grad_too():
    class RawArray(Scale):
        def backward(self, g):
            return g.array * 2.0

    x = random_tensor((3,), seed=3)
    with pytest.raises(RuntimeError, match=rf"RawArray.backward returned a \S*{_array_type(x)} for input 0"):
        tinygen.grad(RawArray()(x).sum(), [x])


def test_the_raw_array_error_names_the_right_input():
    class SecondRaw(Product):
        def backward(self, g):
            a, b = self.saved_inputs
            return g * b, (g * a).array

    a, b = random_tensor((3,), seed=4), random_tensor((3,), seed=5)
    with pytest.raises(RuntimeError, match=rf"SecondRaw.backward returned a \S*{_array_type(a)} for input 1 instead"):
        SecondRaw()(a, b).sum().backward()


def test_one_gradient_too_few_is_an_error_not_a_silently_missing_gradient():
    class TooFew(Product):
        def backward(self, g):
            a, b = self.saved_inputs
            return g * b

    a, b = random_tensor((3,), seed=6), random_tensor((3,), seed=7)
    with pytest.raises(RuntimeError,
                       match=r"TooFew.backward returned 1 gradient for an op with 2 inputs: return one per input"):
        TooFew()(a, b).sum().backward()
    assert b.grad is None


def test_one_gradient_too_many_is_an_error():
    class TooMany(Scale):
        def backward(self, g):
            return g * 2.0, g

    x = random_tensor((3,), seed=8)
    with pytest.raises(RuntimeError, match=r"TooMany.backward returned 2 gradients for an op with 1 input: "):
        TooMany()(x).sum().backward()


def test_the_count_is_checked_even_for_inputs_that_need_no_gradient():
    class TooFew(Product):
        def backward(self, g):
            a, b = self.saved_inputs
            return (g * b,)

    a, b = random_tensor((3,), seed=9), random_tensor((3,), seed=10, requires_grad=False)
    with pytest.raises(RuntimeError, match=r"TooFew.backward returned 1 gradient for an op with 2 inputs"):
        TooFew()(a, b).sum().backward()


def test_a_gradient_of_the_wrong_dtype_names_the_op_and_both_dtypes():
    class WrongDtype(Scale):
        def backward(self, g):
            return (g * 2.0).float()

    x = random_tensor((3,), seed=11)
    with pytest.raises(RuntimeError, match=r"WrongDtype.backward returned a gradient of shape \(3,\) and dtype float32 "
                                           r"for an input of shape \(3,\) and dtype float64"):
        WrongDtype()(x).sum().backward()


def test_a_gradient_on_another_device_names_the_op_and_both_devices(device):
    other = _other_device(device)

    class WrongDevice(Scale):
        def backward(self, g):
            return (g * 2.0).to(other)

    x = random_tensor((3,), seed=12)
    with pytest.raises(RuntimeError, match=rf"WrongDevice.backward returned a gradient on device '{other}' for input 0 "
                                           rf"on device '{device}'"):
        WrongDevice()(x).sum().backward()


def test_a_gradient_for_an_intermediate_node_is_checked_too():
    class RawArray(Scale):
        def backward(self, g):
            return g.array * 2.0

    x = random_tensor((3,), seed=13)
    with pytest.raises(RuntimeError, match=r"RawArray.backward returned"):
        (RawArray()(x.exp()) * 3.0).sum().backward()


def test_a_wrong_backward_is_caught_in_a_recorded_backward_as_well():
    class TooFew(Product):
        def backward(self, g):
            a, b = self.saved_inputs
            return g * b

    a, b = random_tensor((3,), seed=14), random_tensor((3,), seed=15)
    with pytest.raises(RuntimeError, match=r"TooFew.backward returned 1 gradient"):
        tinygen.grad(TooFew()(a, b).sum(), [a, b], create_graph=True)
