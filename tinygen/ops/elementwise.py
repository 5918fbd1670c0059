"""Elementwise math: y_i = f(x_i), so dL/dx_i = g_i * f'(x_i). Each op writes f and f' side by side.

Masks and signs used in a backward (relu, clamp, abs, max ties) are constants: they are flat almost
everywhere, so their own derivative is 0 and double backward is still exact away from the kinks.
See docs/derivations/elementwise.md. Tests: tests/test_elementwise.py.
"""
from tinygen.autograd.function import Function
from tinygen.backend.dtypes import default_float_dtype, is_floating, value_range
from tinygen.ops import checks
from tinygen.ops.shape import sum_to
from tinygen.tensor import Tensor


def _constant(like, array):
    """A tensor that holds ``array`` and takes no part in the graph (a mask or a sign)."""
    return Tensor._make(array, like.backend)


class Exp(Function):
    """y = exp(x).   dL/dx = g * y."""

    save_output = True

    def forward(self, x):
        return self.backend.xp.exp(x)

    def backward(self, g):
        return g * self.saved_output


class Log(Function):
    """y = log(x).   dL/dx = g / x."""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.log(x)

    def backward(self, g):
        (x,) = self.saved_inputs
        return g / x


class Log1p(Function):
    """y = log(1 + x), accurate for small x.   dL/dx = g / (1 + x)."""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.log1p(x)

    def backward(self, g):
        (x,) = self.saved_inputs
        return g / (1.0 + x)


class Expm1(Function):
    """y = exp(x) - 1, accurate for small x.   dL/dx = g * (y + 1)."""

    save_output = True

    def forward(self, x):
        return self.backend.xp.expm1(x)

    def backward(self, g):
        return g * (self.saved_output + 1.0)


class Sqrt(Function):
    """y = sqrt(x).   dL/dx = g / (2 y)."""

    save_output = True

    def forward(self, x):
        return self.backend.xp.sqrt(x)

    def backward(self, g):
        return g / (2.0 * self.saved_output)


class Sin(Function):
    """y = sin(x).   dL/dx = g * cos(x)."""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.sin(x)

    def backward(self, g):
        (x,) = self.saved_inputs
        return g * cos(x)


class Cos(Function):
    """y = cos(x).   dL/dx = -g * sin(x)."""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.cos(x)

    def backward(self, g):
        (x,) = self.saved_inputs
        return -g * sin(x)


class Abs(Function):
    """y = |x|.   dL/dx = g * sign(x)  (0 at x = 0, as PyTorch)."""

    save_inputs = True

    def forward(self, x):
        return self.backend.xp.abs(x)

    def backward(self, g):
        (x,) = self.saved_inputs
        return g * _constant(x, self.backend.xp.sign(x.array))


class Tanh(Function):
    """y = tanh(x).   dL/dx = g * (1 - y^2)."""

    save_output = True

    def forward(self, x):
        return self.backend.xp.tanh(x)

    def backward(self, g):
        return TanhBackward()(g, self.saved_output)  # g * (1.0 - y * y) in one op


class TanhBackward(Function):
    """Tanh's backward as one op: z = g * (1 - y^2), one call instead of three (tanh_backward_reference).
    dL/dg = h * (1 - y^2) (this op again),  dL/dy = -2 h g y   (h = dL/dz)."""

    save_inputs = True

    def forward(self, g, y):
        return g * (checks.typed_scalar(1.0, y) - y * y)  # the 1 in y's dtype: NumPy 1 makes 1.0 - 0-d float32 float64

    def backward(self, h):
        g, y = self.saved_inputs
        grad_g = TanhBackward()(h, y) if self.needs_input_grad[0] else None
        grad_y = -2.0 * h * g * y if self.needs_input_grad[1] else None
        return grad_g, grad_y


def tanh_backward_reference(g, y):
    """What ``TanhBackward`` computes, written with three ops: the form that reads like the formula."""
    return g * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), computed without overflow.   dL/dx = g * y * (1 - y)."""

    save_output = True

    def forward(self, x):
        # exp(min(x, 0)) / (1 + exp(-|x|)) is 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below: neither exp
        # overflows, and no branch per element (a select on x's sign, with its mispredictions, took 3 times as long)
        xp = self.backend.xp
        numerator = xp.exp(xp.minimum(x, checks.typed_scalar(0, x)))
        return (numerator / (1.0 + xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    def backward(self, g):
        return SigmoidBackward()(g, self.saved_output)  # g * (y * (1.0 - y)) in one op


class SigmoidBackward(Function):
    """Sigmoid's backward as one op: z = g y (1 - y), one call instead of three (sigmoid_backward_reference).
    dL/dg = h y (1 - y) (this op again),  dL/dy = h g (1 - 2y)   (h = dL/dz)."""

    save_inputs = True

    def forward(self, g, y):
        return g * (y * (checks.typed_scalar(1.0, y) - y))  # the 1 in y's dtype, as in TanhBackward

    def backward(self, h):
        g, y = self.saved_inputs
        grad_g = SigmoidBackward()(h, y) if self.needs_input_grad[0] else None
        grad_y = h * g * (1.0 - 2.0 * y) if self.needs_input_grad[1] else None
        return grad_g, grad_y


def sigmoid_backward_reference(g, y):
    """What ``SigmoidBackward`` computes, written with three ops: the form that reads like the formula."""
    return g * (y * (1.0 - y))


class ReLU(Function):
    """y = max(x, 0).   dL/dx = g * [x > 0]."""

    def forward(self, x):
        y = self.backend.xp.maximum(x, checks.typed_scalar(0, x))
        if self.needs_input_grad[0]:  # only the backward reads the mask: a pass over y saved when x needs no grad
            self.positive = y > 0
        return y

    def backward(self, g):
        return MaskedScale(self.positive, 0.0)(g)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x.   dL/dx = g * (1 if x > 0 else slope).

    Runs as max(x, slope * x) and a backward that multiplies g by a 1-or-slope factor (``MaskedScale``): several
    times faster than the masked select that ``leaky_relu_reference`` writes as the definition reads, and tested
    equal to it (values and first and second derivatives, in tests/test_elementwise.py).
    """

    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def forward(self, x):
        xp = self.backend.xp
        self.positive = x > 0
        # max(x, slope * x) picks x where x > 0 whenever slope <= 1 (min(...) when slope > 1): two plain passes,
        # several times faster than a masked select, whose branches a random sign pattern keeps mispredicting.
        y = xp.asarray(x * checks.typed_scalar(self.negative_slope, x))  # asarray: out= cannot fill a 0-d scalar
        (xp.maximum if self.negative_slope <= 1 else xp.minimum)(x, y, out=y)
        return y

    def backward(self, g):
        return MaskedScale(self.positive, self.negative_slope)(g)


class MaskedScale(Function):
    """y = g where ``mask`` else ``scale`` * g, for a fixed boolean mask: the backward of relu (scale 0) and
    leaky_relu, in one pass. It is linear in g and symmetric, so it is its own adjoint:
    dL/dg = MaskedScale(mask, scale)(upstream), and the double backward of relu and leaky_relu comes free."""

    def __init__(self, mask, scale):
        self.mask, self.scale = mask, scale

    def forward(self, g):
        if self.scale == 0:
            return g * self.mask  # a boolean factor keeps g's dtype
        factor = self.backend.xp.asarray(self.mask * checks.typed_scalar(1.0 - self.scale, g))  # 1 - scale or 0 ...
        factor += checks.typed_scalar(self.scale, g)                                            # ... now 1 or scale
        factor *= g
        return factor

    def backward(self, upstream):
        return MaskedScale(self.mask, self.scale)(upstream)


class ELU(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1).   dL/dx = g * (1 if x > 0 else y + alpha)."""

    save_output = True

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = self.backend.xp
        self.positive = x > 0
        return xp.where(self.positive, x, self.alpha * xp.expm1(xp.minimum(x, 0))).astype(x.dtype, copy=False)

    def backward(self, g):
        y = self.saved_output
        return where(_constant(g, self.positive), g, g * (y + self.alpha))


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta (linear above ``threshold``).   dL/dx = g * sigmoid(beta x)."""

    save_inputs = True

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = self.backend.xp
        scaled = x * self.beta
        soft = xp.logaddexp(0, scaled) / self.beta  # log(1 + e^t) without overflow
        return xp.where(scaled > self.threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_inputs
        scaled = x * self.beta
        linear = _constant(x, scaled.array > self.threshold)
        return where(linear, g, g * sigmoid(scaled))


class Clamp(Function):
    """y = min(max(x, low), high).   dL/dx = g where low <= x <= high, else 0."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        xp = self.backend.xp
        low, high = checks.typed_scalar(self.low, x), checks.typed_scalar(self.high, x)
        inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        self.inside = inside
        return xp.clip(x, low, high)

    def backward(self, g):
        return g * _constant(g, self.inside.astype(g.dtype))


class NanToNum(Function):
    """y = x with nan, +inf, -inf replaced by the given numbers.   dL/dx = g where x is finite, else 0."""

    def __init__(self, nan, posinf, neginf):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        xp = self.backend.xp
        self.finite = xp.isfinite(x)
        return xp.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, g):
        return g * _constant(g, self.finite.astype(g.dtype))


class Maximum(Function):
    """y = max(a, b).   The gradient goes to the larger input; at a tie each gets half (as PyTorch)."""

    def forward(self, a, b):
        xp = self.backend.xp
        self.shapes = a.shape, b.shape
        self.weight_a = ((a > b) + 0.5 * (a == b)).astype(a.dtype)
        return xp.maximum(a, b)

    def backward(self, g):
        a_shape, b_shape = self.shapes
        weight_a = _constant(g, self.weight_a)
        return sum_to(g * weight_a, a_shape), sum_to(g * (1.0 - weight_a), b_shape)


class Where(Function):
    """y = a where cond else b (cond is a constant).   dL/da = g where cond,  dL/db = g elsewhere."""

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return self.backend.xp.where(self.condition, a, b)

    def backward(self, g):
        a_shape, b_shape = self.shapes
        zero = g * 0.0
        condition = _constant(g, self.condition)
        grad_a = sum_to(where(condition, g, zero), a_shape) if self.needs_input_grad[0] else None
        grad_b = sum_to(where(condition, zero, g), b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Sign(Function):
    """y = sign(x), 0 at NaN as PyTorch's (NumPy's is NaN): flat almost everywhere, so no gradient (dL/dx = 0)."""

    def forward(self, x):
        xp = self.backend.xp
        y = xp.sign(x)
        return xp.where(xp.isnan(y), 0, y).astype(y.dtype, copy=False) if y.dtype.kind == "f" else y

    def backward(self, g):
        return g * 0.0


class Rounding(Sign):
    """y = floor(x), ceil(x) or round(x) (to even, as PyTorch and NumPy): steps, flat between them, so dL/dx = 0."""

    def __init__(self, how):
        self.how = how

    def forward(self, x):
        xp = self.backend.xp
        return {"floor": xp.floor, "ceil": xp.ceil, "round": xp.round}[self.how](x)


# --- public functions ----------------------------------------------------------------------------------

def exp(x):
    return Exp()(checks.float_input("exp", x))


def log(x):
    return Log()(checks.float_input("log", x))


def sqrt(x):
    return Sqrt()(checks.float_input("sqrt", x))


def log1p(x):
    return Log1p()(checks.float_input("log1p", x))


def expm1(x):
    return Expm1()(checks.float_input("expm1", x))


def reciprocal(x):
    """1 / x (an integer tensor gives floats, as PyTorch's); its backward is division's, -g / x^2."""
    return 1.0 / checks.float_input("reciprocal", x)


def abs(x):
    checks.require_tensor("abs", x)
    return Abs()(x)


def sin(x):
    return Sin()(checks.float_input("sin", x))


def cos(x):
    return Cos()(checks.float_input("cos", x))


def square(x):
    """x * x (PyTorch's ``square``)."""
    checks.require_tensor("square", x)
    return x * x


def rsqrt(x):
    """1 / sqrt(x)."""
    return 1.0 / sqrt(x)


def floor(x):
    checks.require_tensor("floor", x)
    return Rounding("floor")(x)


def ceil(x):
    checks.require_tensor("ceil", x)
    return Rounding("ceil")(x)


def round(x):
    """To the nearest integer, halves to even (``round(2.5) == 2``), as PyTorch."""
    checks.require_tensor("round", x)
    return Rounding("round")(x)


def tanh(x):
    return Tanh()(checks.float_input("tanh", x))


def sigmoid(x):
    return Sigmoid()(checks.float_input("sigmoid", x))


def relu(x):
    checks.require_tensor("relu", x)
    return ReLU()(x)


def leaky_relu(x, negative_slope=0.01):
    negative_slope = checks.real_number("leaky_relu", "negative_slope", negative_slope)
    return LeakyReLU(negative_slope)(checks.float_input("leaky_relu", x))


def leaky_relu_reference(x, negative_slope=0.01):
    """leaky_relu as its definition reads, ``x if x > 0 else slope * x``, with ``where`` (its backward sends g to
    the branch each entry took): the reference that ``LeakyReLU``'s max trick is tested against."""
    return where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    return ELU(checks.real_number("elu", "alpha", alpha))(checks.float_input("elu", x))


def softplus(x, beta=1.0, threshold=20.0):
    beta = checks.real_number("softplus", "beta", beta)
    threshold = checks.real_number("softplus", "threshold", threshold)
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus(beta, threshold)(checks.float_input("softplus", x))


def sign(x):
    return Sign()(checks.require_tensor("sign", x))


def clamp(x, min=None, max=None):
    """Limit values to ``[min, max]`` (either bound may be ``None``, a number or a tensor that broadcasts).

    An integer tensor stays integer with integer bounds and becomes float32 with a float bound, as in PyTorch.
    With a tensor bound: where(x < min, min, x), then where(. > max, max, .), so dL/dx = g where min <= x <= max and
    a bound gets g where its value is taken, as PyTorch's.
    """
    checks.require_tensor("clamp", x)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        for bound in (min, max):  # named as clamp's errors, not those of the comparisons below
            if isinstance(bound, Tensor):
                if bound.backend is not x.backend:
                    raise checks.device_error("clamp", x, bound)
                checks.broadcast_shapes("clamp", x.shape, bound.shape)
        if min is not None:
            x = where(x < min, min, x)
        return x if max is None else where(x > max, max, x)
    min = None if min is None else checks.real_number("clamp", "min", min)
    max = None if max is None else checks.real_number("clamp", "max", max)
    if not is_floating(x.dtype) and any(isinstance(bound, float) for bound in (min, max)):
        x = x.to(dtype=default_float_dtype)
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min {min} is greater than max {max}")
    if x.dtype.kind in "iu":
        info = x.backend.xp.iinfo(x.dtype)
        min, max = _within(min, info), _within(max, info)
    else:
        for name, bound in (("min", min), ("max", max)):
            checks.check_number_fits("clamp", name, bound, x.dtype)
    return Clamp(min, max)(x)


def clamp_min(x, min):
    """``clamp`` with a lower bound only: max(x, min)."""
    return clamp(x, min=min)


def clamp_max(x, max):
    """``clamp`` with an upper bound only: min(x, max)."""
    return clamp(x, max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """``input`` with nan -> ``nan``, +inf -> ``posinf`` and -inf -> ``neginf`` (by default the dtype's largest and
    lowest finite values), as PyTorch's; integer and bool tensors come back unchanged (a copy)."""
    checks.require_tensor("nan_to_num", input)
    if not is_floating(input.dtype):
        return input.clone()
    lowest, highest = value_range(input.dtype)
    given = {"nan": (nan, 0.0), "posinf": (posinf, highest), "neginf": (neginf, lowest)}
    return NanToNum(*(default if value is None else checks.real_number("nan_to_num", name, value)
                      for name, (value, default) in given.items()))(input)


def _within(bound, info):
    """An integer bound moved into the range of ``info``'s dtype: beyond the range it bounds nothing (and as a
    scalar of that dtype NumPy 2 would refuse it and NumPy 1 wrap it around)."""
    return None if bound is None else sorted((info.min, bound, info.max))[1]


def maximum(a, b):
    a, b = checks.as_operand_pair("maximum", a, b)
    checks.broadcast_shapes("maximum", a.shape, b.shape)
    return Maximum()(a, b)


def minimum(a, b):
    """min(a, b) = -max(-a, -b): the same tie rule as ``maximum``."""
    a, b = checks.as_operand_pair("minimum", a, b)
    return -maximum(-a, -b)


_ONE_ARGUMENT = object()


def where(condition, a=_ONE_ARGUMENT, b=_ONE_ARGUMENT):
    """Elementwise ``a if condition else b``; ``condition`` is a boolean tensor (no gradient). ``where(condition)``
    alone is ``nonzero(condition, as_tuple=True)``, as PyTorch's: one int64 index tensor per dim."""
    if a is _ONE_ARGUMENT and b is _ONE_ARGUMENT:
        from tinygen.ops.comparison import nonzero

        return nonzero(condition, as_tuple=True)
    if a is _ONE_ARGUMENT or b is _ONE_ARGUMENT:
        raise TypeError("where: give both values, where(condition, input, other), or neither (the indices of "
                        "condition's true entries)")
    if not isinstance(condition, Tensor) or condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a boolean tensor, got {getattr(condition, 'dtype', type(condition))}")
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = checks.as_operand_pair("where", a, b)
    else:
        raise TypeError("where: at least one of a and b must be a tensor")
    if condition.backend is not a.backend:
        raise checks.device_error("where", condition, a)
    shape = checks.broadcast_shapes("where", condition.shape, a.shape, b.shape)
    # A private copy: the backward reads the condition, and the caller may change its mask in place before then.
    condition_array = condition.array.copy()
    if condition_array.shape != shape:
        condition_array = a.backend.xp.broadcast_to(condition_array, shape)
    return Where(condition_array)(a, b)


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever ``mask`` (a bool tensor) is true, in x's dtype as PyTorch's: the value is cast
    (2.7 into an int64 tensor is 2). ``value``: a number or a 0-d tensor. dL/dx = g where mask is false, else 0;
    dL/dvalue = the sum of g where it is true (``where``'s backward)."""
    checks.require_tensor("masked_fill", x)
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
    if mask.backend is not x.backend:
        raise checks.device_error("masked_fill", x, mask)
    checks.broadcast_shapes("masked_fill", mask.shape, x.shape)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got a tensor of shape "
                             f"{value.shape}")
        value = value if value.dtype == x.dtype else value.to(dtype=x.dtype)
    elif isinstance(value, (bool, int, float)):
        value = {"b": bool, "i": int, "u": int}.get(x.dtype.kind, float)(value)
    filled = where(mask, value, x)
    return filled if filled.dtype == x.dtype else filled.to(dtype=x.dtype)
