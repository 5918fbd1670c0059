"""Arithmetic with broadcasting: ``+ - * / ** neg`` and dtype casts.

When an input was broadcast in the forward, the same number fed many outputs, so its gradient is the
sum of theirs: every backward here ends with ``sum_to(grad, input.shape)``. A Python number beside a
floating-point tensor (``x * 0.5``, ``y + 1``) is no input at all but the constant of ``AddConstant`` or
``MulConstant``: one input, nothing broadcast, nothing saved.
See docs/derivations/broadcasting.md.
Tests: tests/test_arithmetic.py.
"""
import numbers

from tinygen.autograd.function import Function
from tinygen.backend.dtypes import default_float_dtype, int64, is_floating
from tinygen.ops import checks
from tinygen.ops.shape import sum_to
from tinygen.tensor import Tensor

_PYTHON_NUMBERS = (float, int)


class Add(Function):
    """z = a + b.   dL/da = sum_to(g, a.shape),  dL/db = sum_to(g, b.shape)."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        a_shape, b_shape = self.shapes
        grad_a = sum_to(g, a_shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(g, b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Sub(Function):
    """z = a - b.   dL/da = sum_to(g),  dL/db = -sum_to(g)."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        a_shape, b_shape = self.shapes
        grad_a = sum_to(g, a_shape) if self.needs_input_grad[0] else None
        grad_b = -sum_to(g, b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Mul(Function):
    """z = a * b.   dL/da = sum_to(g * b),  dL/db = sum_to(g * a)."""

    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.saved_inputs
        grad_a = sum_to(g * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(g * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class AddConstant(Function):
    """z = a + c for a Python number c (and a - c as a + (-c), which is the same float).   dL/da = g."""

    def __init__(self, constant):
        self.constant = constant

    def forward(self, a):
        return a + checks.typed_scalar(self.constant, a)

    def backward(self, g):
        return g


class MulConstant(Function):
    """z = a * c for a Python number c.   dL/da = g * c (this op again)."""

    def __init__(self, constant):
        self.constant = constant

    def forward(self, a):
        return a * checks.typed_scalar(self.constant, a)

    def backward(self, g):
        return MulConstant(self.constant)(g)


class Div(Function):
    """z = a / b.   dL/da = sum_to(g / b),  dL/db = sum_to(-g * a / b**2)."""

    save_inputs = True

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.saved_inputs
        grad_a = sum_to(g / b, a.shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(-g * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class FloorDivide(Function):
    """z = floor(a / b): steps, flat between them, so dL/da = dL/db = 0 (as PyTorch)."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return self.backend.xp.floor_divide(a, b)

    def backward(self, g):
        a_shape, b_shape = self.shapes
        grad_a = sum_to(g * 0.0, a_shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(g * 0.0, b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Remainder(Function):
    """z = a - b floor(a / b) (the sign of b, as Python's % and PyTorch's).   dL/da = sum_to(g),
    dL/db = sum_to(-g floor(a / b))."""

    save_inputs = True

    def forward(self, a, b):
        return self.backend.xp.remainder(a, b)

    def backward(self, g):
        a, b = self.saved_inputs
        grad_a = sum_to(g, a.shape) if self.needs_input_grad[0] else None
        quotient = Tensor._make(self.backend.xp.floor_divide(a.array, b.array), a.backend)  # a constant: flat steps
        grad_b = sum_to(-g * quotient, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """z = -a.   dL/da = -g."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class PowConstant(Function):
    """z = a ** c for a Python number c.   dL/da = g * c * a ** (c - 1)."""

    save_inputs = True

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, a):
        # a's dtype, made explicit: NumPy 1 computes a 0-d a ** 0.5 (or a float16 a ** 1e10) in float64. The exponent
        # stays a Python number (not checks.typed_scalar): NumPy's fast paths (a ** 2 as a * a, a ** 0.5 as sqrt)
        # take only those.
        return (a ** self.exponent).astype(a.dtype, copy=False)

    def backward(self, g):
        (a,) = self.saved_inputs
        c = self.exponent
        if c == 0:
            return g * 0.0
        return g * (c * a ** (c - 1) if c != 2 else 2.0 * a)


class Pow(Function):
    """z = a ** b.   dL/da = sum_to(g * b * a ** (b - 1)) (0 where b = 0: a ** 0 = 1 is constant, even at a = 0),
    dL/db = sum_to(g * z * log a)  (0 where a = 0)."""

    save_inputs = True
    save_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, g):
        from tinygen.ops.elementwise import log, where

        a, b = self.saved_inputs
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            # at a = b = 0 the formula reads 0 * 0 ** -1 = 0 * inf = NaN: use the exponent 1 there (b * a ** 1 = 0)
            exponent = where((a == 0) & (b == 0), 1.0, b - 1.0)
            grad_a = sum_to(g * b * a ** exponent, a.shape)
        if self.needs_input_grad[1]:
            base_is_zero = a == 0
            safe_base = where(base_is_zero, 1.0, a)  # z * log(a) -> 0 as a -> 0 for b > 0, as PyTorch takes it
            grad_b = sum_to(g * self.saved_output * log(safe_base), b.shape)
        return grad_a, grad_b


class Cast(Function):
    """z = a converted to ``dtype``.   dL/da = g converted back to a's dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        self.input_dtype = a.dtype
        return a.astype(self.dtype)

    def backward(self, g):
        return cast(g, self.input_dtype)


# --- public functions ----------------------------------------------------------------------------------

def _binary(name, function_class, a, b):
    a, b = checks.as_operand_pair(name, a, b)
    a_shape, b_shape = a.array.shape, b.array.shape
    if a_shape != b_shape and a_shape and b_shape:  # a 0-d operand (shape ()) broadcasts with anything
        checks.broadcast_shapes(name, a_shape, b_shape)
    return function_class()(a, b)


def _tensor_and_number(a, b):
    """``(tensor, number)`` when one of ``a``, ``b`` is a floating-point tensor and the other a Python float or int
    (not a bool), in either order; else ``None``. Such a number is the op's constant (``AddConstant``,
    ``MulConstant``), not a second input: no 0-d tensor is made for it and the backward has one gradient to send."""
    if type(b) in _PYTHON_NUMBERS and isinstance(a, Tensor):
        tensor, number = a, b
    elif type(a) in _PYTHON_NUMBERS and isinstance(b, Tensor):
        tensor, number = b, a
    else:
        return None
    return (tensor, number) if tensor.array.dtype.kind == "f" else None


def add(a, b, *, alpha=1):
    """``a + alpha b`` (PyTorch's ``alpha``, 1 by default); a floating-point tensor plus a Python number is
    ``AddConstant``."""
    if alpha != 1:
        b = mul(b, alpha)
    pair = _tensor_and_number(a, b)
    if pair is not None:
        tensor, number = pair
        try:
            return AddConstant(number)(tensor)
        except OverflowError:  # a Python int beyond the float dtype's range: say so by name
            checks.check_number_fits("add", "the number", number, tensor.dtype)
            raise
    return _binary("add", Add, a, b)


def sub(a, b, *, alpha=1):
    """``a - alpha b``; a floating-point tensor minus a Python number is ``AddConstant`` of its negative (the same
    float)."""
    if alpha != 1:
        b = mul(b, alpha)
    pair = _tensor_and_number(a, b)
    if pair is not None and pair[0] is a:
        try:
            return AddConstant(-b)(a)
        except OverflowError:
            checks.check_number_fits("sub", "the number", b, a.dtype)
            raise
    return _binary("sub", Sub, a, b)


def mul(a, b):
    """``a * b``; a floating-point tensor times a Python number is ``MulConstant``."""
    pair = _tensor_and_number(a, b)
    if pair is not None:
        tensor, number = pair
        try:
            return MulConstant(number)(tensor)
        except OverflowError:  # a Python int beyond the float dtype's range: say so by name
            checks.check_number_fits("mul", "the number", number, tensor.dtype)
            raise
    return _binary("mul", Mul, a, b)


def div(a, b, *, rounding_mode=None):
    """True division; integer inputs give a float32 result, as in PyTorch. ``rounding_mode`` as PyTorch's:
    ``"floor"`` is ``floor_divide`` (floor(a / b)), ``"trunc"`` rounds toward zero (trunc(a / b); integers stay
    integers: sign(a) sign(b) (|a| // |b|)). Rounded quotients are piecewise constant: their gradient is 0."""
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return _truncated_quotient(a, b)
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = checks.as_operand_pair("div", a, b)
    if not is_floating(a.dtype):
        a, b = a.to(dtype=default_float_dtype), b.to(dtype=default_float_dtype)
    return _binary("div", Div, a, b)


def _truncated_quotient(a, b):
    """trunc(a / b): the floor of the quotient where it is >= 0, its ceiling where it is < 0."""
    from tinygen.ops.elementwise import abs, ceil, floor, sign, where

    a, b = _nonzero_integer_divisor("div", a, b)
    if not is_floating(a.dtype):
        return sign(a) * sign(b) * floor_divide(abs(a), abs(b))
    quotient = div(a, b)
    return where(quotient < 0, ceil(quotient), floor(quotient))


def floor_divide(a, b):
    """``a // b``: floor(a / b), for integers and floats as in PyTorch (and Python)."""
    return _binary("floor_divide", FloorDivide, *_nonzero_integer_divisor("floor_divide", a, b))


def remainder(a, b):
    """``a % b``: a - b floor(a / b), with the sign of ``b`` (Python's and PyTorch's rule)."""
    return _binary("remainder", Remainder, *_nonzero_integer_divisor("remainder", a, b))


def _nonzero_integer_divisor(name, a, b):
    """An integer division by zero is an error in PyTorch (NumPy would give 0 and a warning)."""
    a, b = checks.as_operand_pair(name, a, b)
    if not is_floating(b.dtype) and not is_floating(a.dtype) and not bool(b.backend.xp.all(b.array != 0)):
        raise ZeroDivisionError(f"{name}: integer division by zero")
    return a, b


def neg(a):
    return Neg()(checks.require_tensor("neg", a))


def pow(base, exponent):
    """``base ** exponent``; a Python-number exponent uses the cheaper ``PowConstant``."""
    from tinygen.tensor import Tensor

    if isinstance(base, Tensor) and isinstance(exponent, numbers.Real) and not isinstance(exponent, bool):
        exponent = checks.python_number(exponent)
        if base.dtype.kind == "b":
            base = base.to(dtype=int64)  # True ** 2 is 1, an int64, as in PyTorch
        if not is_floating(base.dtype) and (exponent < 0 or isinstance(exponent, float)):
            base = base.to(dtype=default_float_dtype)  # a float or negative exponent makes a float, as in PyTorch
        if is_floating(base.dtype):
            checks.check_number_fits("pow", "the exponent", exponent, base.dtype)
        else:
            checks.check_integer_fits("pow", exponent, base)
        return PowConstant(exponent)(base)
    base, exponent = checks.as_operand_pair("pow", base, exponent)
    if base.dtype.kind == "b":
        base, exponent = base.to(dtype=int64), exponent.to(dtype=int64)  # True ** True is 1, an int64
    if not is_floating(base.dtype):  # integers stay integers (2 ** arange(3) is int64), as in PyTorch
        if bool((exponent.array < 0).any()):
            raise RuntimeError("pow: integers to negative integer powers are not allowed (as in PyTorch); "
                               "make the base a float first, e.g. base.float() ** exponent")
    return _binary("pow", Pow, base, exponent)


def cast(a, dtype):
    """``a`` converted to ``dtype`` (differentiable between floating dtypes)."""
    if a.dtype == dtype:
        return a
    if a.requires_grad and not is_floating(dtype):
        a = a.detach()  # a cast to an integer or bool type ends the graph, as in PyTorch
    return Cast(dtype)(a)
