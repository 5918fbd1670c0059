"""Arithmetic with broadcasting: gradients (first and second order) over drawn broadcastable shapes, each
input's gradient reduced to its own shape, values against NumPy, PyTorch's dtype promotion, bad input."""
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen
from tinygen.ops.arithmetic import Add, AddConstant, Mul, MulConstant, Sub
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst

from helpers import assert_close, host, random_tensor

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=tst.tensor_pairs(requires_grad=True, low=0.5, high=2.0))
def test_binary_gradients_with_broadcasting(name, pair):
    op = BINARY[name]
    a, b = pair
    gradcheck(op, [a, b])
    gradgradcheck(op, [a, b])
    assert_close(op(a, b), op(host(a), host(b)))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_for_a_fixed_broadcast(name):
    """The drawn cases above, made certain: (3, 1, 4) with (2, 1), each broadcast along the other's axes."""
    a, b = random_tensor((3, 1, 4), seed=1, low=0.5, high=2.0), random_tensor((2, 1), seed=2, low=0.5, high=2.0)
    gradcheck(BINARY[name], [a, b])
    gradgradcheck(BINARY[name], [a, b])


@given(pair=tst.tensor_pairs(requires_grad=True, low=0.5, high=2.0))
def test_pow_with_tensor_exponent_gradients(pair):
    base, exponent = pair
    gradcheck(tinygen.pow, [base, exponent])
    gradgradcheck(tinygen.pow, [base, exponent])


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, 0.5, -1.5, 2.5])
def test_pow_with_number_exponent(exponent):
    x = random_tensor((3, 2), seed=4, low=0.5, high=2.0)
    gradcheck(lambda x: x ** exponent, [x])
    gradgradcheck(lambda x: x ** exponent, [x])
    assert_close(x ** exponent, host(x) ** exponent)


def test_pow_negative_base_integer_exponent_is_finite_and_fractional_is_nan():
    x = tinygen.tensor([-2.0, -0.5], dtype=tinygen.float64, requires_grad=True)
    y = x ** 3
    y.sum().backward()
    assert_close(x.grad, 3 * host(x) ** 2)
    with np.errstate(invalid="ignore"):
        assert np.all(np.isnan(host(x.detach() ** 0.5)))


def test_pow_gradient_wrt_exponent_at_zero_base_is_zero():
    base = tinygen.tensor([0.0, 2.0], dtype=tinygen.float64, requires_grad=True)
    exponent = tinygen.tensor([2.0, 3.0], dtype=tinygen.float64, requires_grad=True)
    (base ** exponent).sum().backward()
    assert_close(exponent.grad, [0.0, 8.0 * np.log(2.0)])


@pytest.mark.parametrize(
    "a_shape, b_shape", [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 1, 3), (5, 1)), ((), (2, 2)), ((0, 3), (1, 3))]
)
def test_each_gradient_has_its_inputs_shape(a_shape, b_shape):
    a, b = random_tensor(a_shape, seed=1), random_tensor(b_shape, seed=2)
    upstream = random_tensor(np.broadcast_shapes(a_shape, b_shape), seed=3, requires_grad=False)
    (a * b).backward(upstream)
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    expected_a = np.broadcast_to(host(upstream) * host(b), upstream.shape)
    lead = expected_a.ndim - len(a_shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(a_shape) if n == 1 and upstream.shape[lead + i] != 1)
    assert_close(a.grad, expected_a.sum(axis=axes).reshape(a_shape))


def test_reflected_operators_with_numbers():
    x = random_tensor((3,), seed=5, low=0.5)
    assert_close(2.0 - x, 2.0 - host(x))
    assert_close(2.0 / x, 2.0 / host(x))
    assert_close(3 * x, 3 * host(x))
    assert_close(1 + x, 1 + host(x))


# --- a Python number beside a floating-point tensor: the op's constant ----------------------------------

CONSTANT_OPS = {  # how it is written -> (the expression of a tensor x and a number c, the op it makes)
    "x + c": (lambda x, c: x + c, AddConstant),
    "c + x": (lambda x, c: c + x, AddConstant),
    "x - c": (lambda x, c: x - c, AddConstant),
    "x * c": (lambda x, c: x * c, MulConstant),
    "c * x": (lambda x, c: c * x, MulConstant),
}


@pytest.mark.parametrize("name", sorted(CONSTANT_OPS))
@given(x=tst.tensors(tst.shapes(max_dims=3, max_side=4), requires_grad=True),
       c=st.floats(-3.0, 3.0) | st.integers(-3, 3))
def test_constant_op_gradients(name, x, c):
    """First and second order, drawn shapes and layouts (gradcheck draws a random upstream gradient)."""
    expression, op = CONSTANT_OPS[name]
    assert type(expression(x, c).grad_fn) is op
    gradcheck(lambda x: expression(x, c), [x])
    gradgradcheck(lambda x: expression(x, c), [x])


@pytest.mark.parametrize("name", sorted(CONSTANT_OPS))
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_constant_ops_equal_the_two_input_ops_bit_for_bit(name, dtype, shape):
    """The number as the op's constant gives what it gave as a 0-d tensor of x's dtype, bit for bit (signed zeros,
    infinities, overflow to inf in float16), the result and x's gradient; a NaN is a NaN (IEEE leaves its sign bit
    unspecified: x - nan is x + (-nan) here)."""
    expression, _ = CONSTANT_OPS[name]
    values = np.resize(np.array([-0.0, 0.0, 1.5, -2.25, np.inf, np.nan]), shape)
    upstream = np.resize(np.array([0.5, -1.25, 3.0]), shape)
    for c in (0.0, -0.0, 0.1, -3, 7, 1e300, float("inf"), float("nan")):
        results = []
        for as_tensor in (False, True):
            x = tinygen.tensor(values, dtype=getattr(tinygen, dtype), requires_grad=True)
            with np.errstate(over="ignore", invalid="ignore"):
                constant = tinygen.tensor(c, dtype=x.dtype) if as_tensor else c
                y = expression(x, constant)
                y.backward(tinygen.tensor(upstream, dtype=x.dtype))
            results.append((host(y.detach()), host(x.grad)))
        assert type(y.grad_fn) in (Add, Sub, Mul)  # the second result came from the two-input op
        for ours, theirs in zip(*results):
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            assert np.array_equal(np.isnan(ours), np.isnan(theirs)), (c, ours, theirs)
            ours, theirs = np.where(np.isnan(ours), 0.5, ours), np.where(np.isnan(theirs), 0.5, theirs)
            assert ours.tobytes() == theirs.tobytes(), (c, ours, theirs)


def test_numbers_that_stay_inputs():
    """Only a Python float or int beside a floating-point tensor is a constant: c - x is Sub, an integer tensor keeps
    PyTorch's promotion (int64 + 1 is int64, int64 * 0.5 is float32), a bool and a NumPy scalar take the checked
    path; a Parameter (a Tensor subclass) is a tensor."""
    x = random_tensor((3,), seed=7)
    assert type((2.0 - x).grad_fn) is Sub
    integers = tinygen.tensor([1, 2])
    assert (integers + 1).dtype == tinygen.int64 and (integers * 0.5).dtype == tinygen.float32
    assert type((x * True).grad_fn) is Mul and type((x * np.float64(2.0)).grad_fn) is Mul
    assert (x * np.float64(2.0)).dtype == x.dtype
    weight = tinygen.nn.Parameter(tinygen.ones(2))
    assert type((weight * 0.5).grad_fn) is MulConstant


# --- dtypes --------------------------------------------------------------------------------------------

def test_python_numbers_do_not_upcast_float32():
    x = tinygen.ones(3)
    for y in (x + 1.5, 2.0 * x, x / 3, x ** 2.0, x - 1):
        assert y.dtype == tinygen.float32


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("number", [0.5, -3.0, 1e300, float("inf"), float("nan"), 0.0])
def test_python_float_fast_path_agrees_with_the_checked_path(dtype, number):
    """``as_operand_pair`` skips ``number_operand`` for a Python float next to a float tensor: the checked path
    must give that same tensor and its dtype, and the pair must hold the number in it on both sides."""
    from tinygen.ops.checks import as_operand_pair, number_operand

    x = tinygen.tensor([1.0, 2.0], dtype=getattr(tinygen, dtype))
    checked, dtype_checked = number_operand("mul", x, number)
    assert checked is x and dtype_checked == x.dtype
    (same, right), (left, same_again) = as_operand_pair("mul", x, number), as_operand_pair("mul", number, x)
    assert same is x and same_again is x
    with np.errstate(over="ignore"):  # 1e300 is inf in float16 and float32, on both paths
        expected = np.asarray(number, dtype=host(x).dtype)
    for constant in (left, right):
        assert constant.dtype == x.dtype and constant.shape == ()
        np.testing.assert_array_equal(host(constant), expected)


def test_float32_and_float64_tensors_promote_to_float64():
    assert (tinygen.ones(2) + tinygen.ones(2, dtype=tinygen.float64)).dtype == tinygen.float64


def test_zero_dim_tensor_does_not_upcast_as_pytorch():
    scalar64 = tinygen.tensor(2.0, dtype=tinygen.float64)
    assert (tinygen.ones(3) * scalar64).dtype == tinygen.float32


def test_int_and_float_tensors_give_the_float_dtype():
    assert (tinygen.tensor([1, 2]) + tinygen.ones(2)).dtype == tinygen.float32
    assert (tinygen.tensor([1, 2]) * 0.5).dtype == tinygen.float32
    assert (tinygen.tensor([1, 2]) * 3).dtype == tinygen.int64
    assert (tinygen.tensor([1, 2]) / tinygen.tensor([2, 2])).dtype == tinygen.float32


def test_mixed_dtype_gradients_come_back_in_each_inputs_dtype():
    a = tinygen.ones(2, requires_grad=True)
    b = tinygen.ones(2, dtype=tinygen.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == tinygen.float32 and b.grad.dtype == tinygen.float64


# --- bad input ----------------------------------------------------------------------------------------

def test_shapes_that_do_not_broadcast_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        tinygen.ones(3, 4) + tinygen.ones(5)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad, got dtype int64"):
        tinygen.tensor([1, 2], requires_grad=True)


def test_strings_are_rejected():
    with pytest.raises(TypeError, match="mul: expected a tensor or a real number, got str"):
        tinygen.ones(2) * "a"


@pytest.mark.parametrize("compute, message", [
    (lambda x: x * 10**400, r"mul: the number \(an int of 1329 bits\) does not fit dtype float32"),
    (lambda x: 10**400 + x, r"add: the number"),
    (lambda x: x - 10**400, r"sub: the number"),
    (lambda x: 10**400 - x, r"sub: the number"),
    (lambda x: x / -10**400, r"div: the number -\(an int of 1329 bits\)"),
    (lambda x: x ** 10**400, r"pow: the exponent"),
    (lambda x: x.clamp(max=10**400), r"clamp: max"),
])
def test_a_python_int_beyond_the_float_range_is_refused_by_name(compute, message):
    """float(10**400) fails; the error names the op rather than NumPy's conversion."""
    with pytest.raises(OverflowError, match=message):
        compute(tinygen.ones(3))


def test_a_boolean_tensor_to_a_python_power_is_int64_as_in_pytorch():
    """It raised NumPy's "Invalid integer data type 'b'" (reading a bool dtype's integer range)."""
    x = tinygen.tensor([True, False])
    assert (x ** 2).dtype == tinygen.int64 and host(x ** 2).tolist() == [1, 0]
    assert (x ** 0.5).dtype == tinygen.float32 and host(x ** -1.0).tolist() == [1.0, float("inf")]


def test_remainder_gradients_for_a_fixed_broadcast():
    """a % b = a - b floor(a / b): dL/da = g, dL/db = -g floor(a / b); inputs kept away from the jumps (a / b whole)."""
    a = tinygen.tensor(np.array([[[0.3, 2.6, -1.3, 5.2]], [[-4.4, 0.9, 3.3, -2.3]], [[1.1, -0.2, 7.9, 2.3]]]),
                       requires_grad=True)  # (3, 1, 4)
    b = tinygen.tensor(np.array([[0.7], [-1.9]]), requires_grad=True)  # (2, 1)
    quotients = host(a)[:, :, None, :] / host(b)[None, None]
    assert np.all(np.abs(quotients - np.round(quotients)) > 0.05)
    gradcheck(lambda a, b: a % b, [a, b])
    gradgradcheck(lambda a, b: a % b, [a, b])
    gradcheck(lambda a, b: a // b, [a, b])
    gradgradcheck(lambda a, b: a // b, [a, b])
    a.grad = None
    (a // b * random_tensor((3, 2, 4), seed=5, requires_grad=False)).sum().backward()
    assert host(a.grad).tolist() == np.zeros((3, 1, 4)).tolist() and host(b.grad).tolist() == [[0.0], [0.0]]


def test_floor_division_and_remainder_follow_python_and_pytorch():
    """Probe: `t // 2` and `t % 3` raised Python's bare "unsupported operand type(s)"."""
    ints, divisors = tinygen.tensor([7, -7, 7, -7]), tinygen.tensor([2, 2, -2, -2])
    assert ((ints // divisors).tolist(), (ints % divisors).tolist()) == ([3, -4, -4, 3], [1, 1, -1, -1])
    floats = tinygen.tensor([7.5, -7.5, 7.5, -7.5])
    assert (floats // divisors).tolist() == [3.0, -4.0, -4.0, 3.0] and (floats // divisors).dtype == tinygen.float32
    assert (floats % divisors).tolist() == [1.5, 0.5, -0.5, -1.5]
    assert ((7 // tinygen.tensor([2, 3])).tolist(), (10 % tinygen.tensor([3, 4])).tolist()) == ([3, 2], [1, 2])
    assert (ints.floor_divide(2).tolist(), tinygen.remainder(ints, 3).tolist()) == ([3, -4, 3, -4], [1, 2, 1, 2])
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        ints // 0
    torch = pytest.importorskip("torch")
    t_ints, t_divisors = torch.tensor([7, -7, 7, -7]), torch.tensor([2, 2, -2, -2])
    assert ((t_ints // t_divisors).tolist(), (t_ints % t_divisors).tolist()) == ([3, -4, -4, 3], [1, 1, -1, -1])
    assert (torch.tensor([7.5, -7.5, 7.5, -7.5]) % t_divisors).tolist() == [1.5, 0.5, -0.5, -1.5]
