"""tinygen's dtype rules as one table: (op, inputs) -> the dtype of the result.

Inputs are tensors written ``f32[3]`` (dtype and shape; ``f32[]`` is 0-d), Python numbers and NumPy scalars. Each row
runs forward and, where the result is differentiable, backward: every gradient must have its input's dtype. Where
PyTorch is installed the same call on torch must give the same dtype (rows where PyTorch differs on purpose say why).

The rules are tinygen's, not NumPy's: NumPy 1.x casts by value (a 0-d float32 array times 0.5 is float64, a float16
array times 1e10 is float32), NumPy 2 follows NEP 50, and CI runs this table on both (the oldest supported NumPy and
the newest), so no row can quietly follow either.
"""
import math
import re

import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F

from helpers import host

DTYPE_NAMES = {"f16": "float16", "f32": "float32", "f64": "float64", "i32": "int32", "i64": "int64", "u8": "uint8",
               "bool": "bool"}
TENSOR_SPEC = re.compile(r"^(f16|f32|f64|i32|i64|u8|bool)\[([\d,]*)\]$")


class Row:
    """One rule: ``call(lib, *inputs)`` gives ``expected``. ``lib`` is tinygen's namespace or torch's (``lib.F`` for
    the functional API); ``torch_differs`` says why PyTorch is not compared, where it is not."""

    def __init__(self, label, call, inputs, expected, torch_differs=None):
        self.label, self.call, self.inputs, self.expected = label, call, inputs, DTYPE_NAMES[expected]
        self.torch_differs = torch_differs


def binary(symbol):
    return {"+": lambda lib, a, b: a + b, "-": lambda lib, a, b: a - b, "*": lambda lib, a, b: a * b,
            "/": lambda lib, a, b: a / b, "**": lambda lib, a, b: a ** b, "<": lambda lib, a, b: a < b,
            "==": lambda lib, a, b: a == b}[symbol]


def binary_rows(rows):
    """``(a, symbol, b, expected)`` -> Rows labelled ``a symbol b``."""
    return [Row(f"{a!r} {symbol} {b!r}".replace("'", ""), binary(symbol), (a, b), expected)
            for a, symbol, b, expected in rows]


def unary_rows(name, call, cases):
    """``(input, expected)`` pairs for one unary op -> Rows labelled ``name(input)``."""
    return [Row(f"{name}({spec})", call, (spec,), expected) for spec, expected in cases]


ROWS = binary_rows([
    # two tensors: the higher dtype of the same kind; across kinds the higher kind's dtype
    ("f32[3]", "+", "f64[3]", "f64"), ("i32[3]", "+", "i64[3]", "i64"), ("u8[3]", "*", "i32[3]", "i32"),
    ("i64[3]", "+", "f32[3]", "f32"), ("bool[3]", "+", "u8[3]", "u8"), ("bool[3]", "+", "bool[3]", "bool"),
    # a 0-d tensor does not upcast a dimensioned one of the same or a lower kind; of a higher kind it decides
    ("f32[3]", "+", "f64[]", "f32"), ("f16[3]", "*", "f32[]", "f16"), ("u8[3]", "+", "i64[]", "u8"),
    ("i64[3]", "+", "f64[]", "f64"), ("f32[]", "+", "f64[]", "f64"), ("f32[]", "*", "f32[]", "f32"),
    ("i64[3]", "*", "f32[]", "f32"),
    # Python numbers take the tensor's dtype, or the default float32 where a float meets an int or bool tensor
    ("f32[3]", "+", 2, "f32"), ("f32[3]", "*", 0.5, "f32"), ("f32[]", "*", 0.5, "f32"), ("f32[]", "-", 1, "f32"),
    (0.5, "-", "f32[]", "f32"), (2.0, "/", "f32[]", "f32"), ("f16[]", "*", 0.5, "f16"), ("f16[3]", "*", 1e10, "f16"),
    ("f64[]", "*", 0.5, "f64"), ("i64[3]", "*", 0.5, "f32"), ("i64[]", "*", 0.5, "f32"), ("i32[3]", "+", 2, "i32"),
    ("u8[3]", "+", 2, "u8"), ("u8[]", "*", 3, "u8"), ("bool[3]", "+", 2, "i64"), ("bool[3]", "*", 0.5, "f32"),
    ("bool[3]", "+", True, "bool"), ("f32[3]", "*", True, "f32"),
    # NumPy scalars are numbers like Python's: their own dtype does not count
    ("f32[3]", "*", np.float64(0.5), "f32"), ("f32[]", "*", np.float64(0.5), "f32"), (np.float32(0.5), "+", "f64[3]", "f64"),
    ("u8[3]", "*", np.int64(2), "u8"), ("i64[3]", "+", np.float32(0.5), "f32"), ("f16[]", "+", np.float64(2), "f16"),
    # true division of integers is float32; powers
    ("i64[3]", "/", 2, "f32"), ("i64[3]", "/", "i64[3]", "f32"), ("i64[]", "/", "i64[]", "f32"),
    ("f32[3]", "**", 2, "f32"), ("f32[]", "**", 2, "f32"), ("f32[]", "**", 3, "f32"), ("f32[]", "**", 0.5, "f32"),
    ("f32[]", "**", -0.5, "f32"), ("f16[]", "**", 1.5, "f16"), ("f64[]", "**", -0.5, "f64"), ("i64[3]", "**", 2, "i64"),
    ("i64[3]", "**", 2.0, "f32"), ("i64[]", "**", 0.5, "f32"), (2.0, "**", "f32[3]", "f32"), (2.0, "**", "f32[]", "f32"),
    ("f32[]", "**", "f32[]", "f32"), ("f32[3]", "**", "f64[]", "f32"),
    # comparisons are bool
    ("f32[]", "<", 0.5, "bool"), ("i64[3]", "==", 2.5, "bool"), ("f32[3]", "<", "f64[3]", "bool"),
])

ROWS += unary_rows("neg", lambda lib, x: -x, [("f32[]", "f32"), ("i64[3]", "i64"), ("f16[]", "f16")])
for op in ("exp", "log", "sqrt", "tanh", "sigmoid"):
    ROWS += unary_rows(op, lambda lib, x, op=op: getattr(lib, op)(x),
                       [("f16[]", "f16"), ("f32[]", "f32"), ("f32[3]", "f32"), ("f64[]", "f64"), ("i64[3]", "f32")])
for op in ("abs", "sign", "relu"):
    ROWS += unary_rows(op, lambda lib, x, op=op: getattr(lib, op)(x),
                       [("f16[]", "f16"), ("f32[]", "f32"), ("f64[]", "f64"), ("i64[3]", "i64"), ("u8[]", "u8")])
ROWS += unary_rows("leaky_relu", lambda lib, x: lib.F.leaky_relu(x, 0.2),
                   [("f16[]", "f16"), ("f32[]", "f32"), ("f32[3]", "f32"), ("f64[]", "f64")])
ROWS += unary_rows("leaky_relu_slope_2", lambda lib, x: lib.F.leaky_relu(x, 2.0), [("f32[]", "f32")])
ROWS += unary_rows("elu", lambda lib, x: lib.F.elu(x), [("f32[]", "f32"), ("f64[]", "f64")])
ROWS += unary_rows("softplus", lambda lib, x: lib.F.softplus(x), [("f32[]", "f32"), ("f64[]", "f64")])
ROWS += unary_rows("logsigmoid", lambda lib, x: lib.F.logsigmoid(x), [("f32[]", "f32"), ("f64[]", "f64")])
ROWS += unary_rows("softmax", lambda lib, x: lib.F.softmax(x, 0), [("f32[]", "f32"), ("f32[3]", "f32")])
ROWS += unary_rows("log_softmax", lambda lib, x: lib.F.log_softmax(x, 0), [("f32[]", "f32"), ("f64[3]", "f64")])
ROWS += unary_rows("dropout", lambda lib, x: lib.F.dropout(x, 0.5), [("f32[]", "f32"), ("f16[3]", "f16")])
ROWS += unary_rows("clamp(-1, 1)", lambda lib, x: x.clamp(-1, 1),
                   [("f16[]", "f16"), ("f32[]", "f32"), ("f64[3]", "f64"), ("i64[3]", "i64"), ("u8[]", "u8")])
ROWS += unary_rows("clamp(0.5)", lambda lib, x: x.clamp(0.5), [("f32[]", "f32"), ("i64[3]", "f32")])
ROWS += unary_rows("clamp(max=0.5)", lambda lib, x: x.clamp(max=0.5), [("f32[]", "f32"), ("f16[3]", "f16")])
ROWS += [
    Row("clamp(u8[3], -1, 300)", lambda lib, x: x.clamp(-1, 300), ("u8[3]",), "u8",
        torch_differs="PyTorch refuses 300 for uint8 and wraps -1 to 255; tinygen: out-of-range bounds bound nothing"),
    Row("maximum(f32[3], f64[3])", lambda lib, a, b: lib.maximum(a, b), ("f32[3]", "f64[3]"), "f64"),
    Row("maximum(f32[], f64[3])", lambda lib, a, b: lib.maximum(a, b), ("f32[]", "f64[3]"), "f64"),
    Row("minimum(f16[3], f32[])", lambda lib, a, b: lib.minimum(a, b), ("f16[3]", "f32[]"), "f16"),
    Row("where(f32[3], 0.5)", lambda lib, a: lib.where(a > 0.5, a, 0.5), ("f32[3]",), "f32"),
    Row("where(f32[], 0.5)", lambda lib, a: lib.where(a > 0.5, a, 0.5), ("f32[]",), "f32"),
    Row("where(i64[3], 0.5)", lambda lib, a: lib.where(a > 1, a, 0.5), ("i64[3]",), "f32"),
    Row("where(f32[3], f64[3])", lambda lib, a, b: lib.where(a > 0.5, a, b), ("f32[3]", "f64[3]"), "f64"),
]
for name, call in [("sum", lambda lib, x: x.sum()), ("sum(0)", lambda lib, x: x.sum(0)),
                   ("sum(0, keepdim)", lambda lib, x: x.sum(0, keepdim=True))]:
    ROWS += unary_rows(name, call, [("f16[3]", "f16"), ("f32[]", "f32"), ("f64[3]", "f64"), ("i32[3]", "i64"),
                                    ("u8[3]", "i64"), ("bool[3]", "i64")])
ROWS += unary_rows("mean", lambda lib, x: x.mean(), [("f16[3]", "f16"), ("f32[]", "f32"), ("f64[3]", "f64")])
ROWS += [Row("mean(i64[3])", lambda lib, x: x.mean(), ("i64[3]",), "f32",
             torch_differs="PyTorch refuses the mean of an integer tensor; tinygen computes it in float32")]
ROWS += unary_rows("var", lambda lib, x: x.var(), [("f32[3]", "f32"), ("f64[3]", "f64")])
ROWS += unary_rows("std(0)", lambda lib, x: x.std(0), [("f32[3]", "f32")])
ROWS += unary_rows("amax", lambda lib, x: x.amax(), [("f32[]", "f32"), ("f16[3]", "f16"), ("i64[3]", "i64"),
                                                      ("u8[3]", "u8")])
ROWS += unary_rows("max(0).values", lambda lib, x: x.max(0).values, [("f32[]", "f32"), ("f64[3]", "f64")])
ROWS += unary_rows("max(0).indices", lambda lib, x: x.max(0).indices, [("f32[]", "i64"), ("f64[3]", "i64")])
ROWS += unary_rows("argmax", lambda lib, x: lib.argmax(x), [("f32[3]", "i64"), ("u8[3]", "i64")])
ROWS += unary_rows("logsumexp(0)", lambda lib, x: lib.logsumexp(x, 0), [("f32[]", "f32"), ("f32[3]", "f32"),
                                                                        ("f64[]", "f64")])
ROWS += [
    Row("matmul(f32[3], f32[3])", lambda lib, a, b: a @ b, ("f32[3]", "f32[3]"), "f32"),
    Row("matmul(f64[2,3], f64[3,2])", lambda lib, a, b: a @ b, ("f64[2,3]", "f64[3,2]"), "f64"),
    Row("linear(f64[2,3], f64[4,3], f64[4])", lambda lib, x, w, b: lib.F.linear(x, w, b),
        ("f64[2,3]", "f64[4,3]", "f64[4]"), "f64"),
    Row("conv2d(f32[1,2,4,4], f32[3,2,3,3])", lambda lib, x, w: lib.F.conv2d(x, w, padding=1),
        ("f32[1,2,4,4]", "f32[3,2,3,3]"), "f32"),
    Row("conv_transpose2d(f64[1,2,3,3], f64[2,1,4,4])", lambda lib, x, w: lib.F.conv_transpose2d(x, w, stride=2),
        ("f64[1,2,3,3]", "f64[2,1,4,4]"), "f64"),
    Row("batch_norm(f64[2,3,2,2])", lambda lib, x: lib.F.batch_norm(x, None, None, training=True),
        ("f64[2,3,2,2]",), "f64"),
    Row("avg_pool2d(f32[1,1,4,4], 2)", lambda lib, x: lib.F.avg_pool2d(x, 2), ("f32[1,1,4,4]",), "f32"),
    Row("max_pool2d(f64[1,1,4,4], 2)", lambda lib, x: lib.F.max_pool2d(x, 2), ("f64[1,1,4,4]",), "f64"),
    Row("mse_loss(f32[], f32[])", lambda lib, a, b: lib.F.mse_loss(a, b), ("f32[]", "f32[]"), "f32"),
    Row("l1_loss(f32[3], f32[3])", lambda lib, a, b: lib.F.l1_loss(a, b), ("f32[3]", "f32[3]"), "f32"),
    Row("binary_cross_entropy(f32[], f32[])", lambda lib, p, t: lib.F.binary_cross_entropy(p, t), ("f32[]", "f32[]"),
        "f32"),
    Row("binary_cross_entropy(f64[3], f64[3])", lambda lib, p, t: lib.F.binary_cross_entropy(p, t),
        ("f64[3]", "f64[3]"), "f64"),
    Row("binary_cross_entropy_with_logits(f32[], f32[])",
        lambda lib, x, t: lib.F.binary_cross_entropy_with_logits(x, t), ("f32[]", "f32[]"), "f32"),
    Row("binary_cross_entropy_with_logits(f16[3], f16[3])",
        lambda lib, x, t: lib.F.binary_cross_entropy_with_logits(x, t), ("f16[3]", "f16[3]"), "f16"),
    Row("cross_entropy(f32[2,3], i64[2])", lambda lib, x, y: lib.F.cross_entropy(x, y), ("f32[2,3]", "i64[2]"), "f32"),
]


def host_values(spec):
    """The NumPy values of a tensor spec: floats in (0.2, 0.9) (inside every op's domain, off every kink),
    small positive ints (valid class indices), alternating bools."""
    dtype_code, dims = TENSOR_SPEC.match(spec).groups()
    shape = tuple(int(d) for d in dims.split(",")) if dims else ()
    count = math.prod(shape)
    if dtype_code == "bool":
        values = np.arange(count) % 2 == 0
    elif dtype_code[0] in "iu":
        values = np.arange(count) % 2 + 1
    else:
        values = np.linspace(0.2, 0.9, count) if count > 1 else np.full(count, 0.6)
    return values.reshape(shape).astype(DTYPE_NAMES[dtype_code])


def build_inputs(make_tensor, specs):
    """Tensors for the specs (floating ones require grad), numbers passed through."""
    inputs = []
    for spec in specs:
        if isinstance(spec, str):
            values = host_values(spec)
            inputs.append(make_tensor(values, values.dtype.kind == "f"))
        else:
            inputs.append(spec)
    return inputs


def tinygen_namespace():
    namespace = type("tinygen_lib", (), {})()
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "abs", "sign", "relu", "maximum", "minimum", "where",
                 "argmax", "logsumexp"):
        setattr(namespace, name, getattr(tinygen, name))
    namespace.F = F
    return namespace


@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_result_dtype(row):
    inputs = build_inputs(lambda values, grad: tinygen.tensor(values, requires_grad=grad), row.inputs)
    result = row.call(tinygen_namespace(), *inputs)
    assert str(result.dtype) == row.expected, f"{row.label}: dtype {result.dtype}, the rule says {row.expected}"
    assert isinstance(host(result), np.ndarray) and host(result).dtype == result.dtype
    if not result.requires_grad or result.dtype.kind != "f":
        return
    differentiable = [x for x in inputs if isinstance(x, tinygen.Tensor) and x.requires_grad]
    upstream = tinygen.tensor(np.linspace(-1.0, 1.5, result.numel()).reshape(result.shape), dtype=result.dtype)
    grads = tinygen.grad(result, differentiable, upstream, allow_unused=True)
    for x, grad in zip(differentiable, grads):
        assert grad is None or grad.dtype == x.dtype, f"{row.label}: gradient {grad.dtype} for an input of {x.dtype}"


@pytest.mark.torch
@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_pytorch_gives_the_same_dtype(row):
    torch = pytest.importorskip("torch")
    if row.torch_differs:
        pytest.skip(row.torch_differs)

    def make_tensor(values, grad):
        return torch.tensor(values, dtype=getattr(torch, str(values.dtype)), requires_grad=grad)

    namespace = type("torch_lib", (), {})()
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "abs", "sign", "relu", "maximum", "minimum", "where",
                 "argmax", "logsumexp"):
        setattr(namespace, name, getattr(torch, name))
    namespace.F = torch.nn.functional
    result = row.call(namespace, *build_inputs(make_tensor, row.inputs))
    assert str(result.dtype) == f"torch.{row.expected}", f"{row.label}: PyTorch gives {result.dtype}"


def test_the_table_covers_both_generations_cases():
    """The rows that NumPy 1.x's value-based casting gets wrong when computed naively are in the table."""
    labels = {row.label for row in ROWS}
    for label in ("f32[] * 0.5", "f16[3] * 10000000000.0", "relu(f32[])", "clamp(-1, 1)(f32[])", "f32[] ** -0.5",
                  "leaky_relu(f32[])", "binary_cross_entropy_with_logits(f32[], f32[])", "logsumexp(0)(f32[])"):
        assert label in labels, label


# --- numbers that do not fit an integer tensor ------------------------------------------------------------------

@pytest.mark.parametrize("call", [lambda x: x + 300, lambda x: x - (-1), lambda x: x * 256, lambda x: x == 300,
                                  lambda x: tinygen.maximum(x, -1), lambda x: x ** 256],
                         ids=["add", "sub", "mul", "eq", "maximum", "pow"])
def test_an_integer_beyond_an_integer_tensors_range_is_refused_with_the_op_named(call):
    x = tinygen.tensor([1, 2, 200], dtype=tinygen.uint8)
    with pytest.raises(OverflowError, match=r"does not fit the tensor's dtype uint8 \(0 to 255\)"):
        call(x)


def test_integers_that_fit_still_work_at_the_ends_of_the_range():
    x = tinygen.tensor([1, 2, 200], dtype=tinygen.uint8)
    assert host(x + 55).tolist() == [56, 57, 255] and (x + 55).dtype == tinygen.uint8
    assert host(x * 0).tolist() == [0, 0, 0] and host(x - 1).tolist() == [0, 1, 199]


def test_clamp_bounds_beyond_an_integer_dtypes_range_bound_nothing():
    x = tinygen.tensor([0, 2, 255], dtype=tinygen.uint8)
    for low, high, expected in [(-1, None, [0, 2, 255]), (None, 300, [0, 2, 255]), (1, 300, [1, 2, 255]),
                                (-5, 2, [0, 2, 2])]:
        y = tinygen.clamp(x, low, high)
        assert y.dtype == tinygen.uint8 and host(y).tolist() == expected, (low, high)
