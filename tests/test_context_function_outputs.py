"""PyTorch-style custom Functions beyond one output and ``forward(ctx, ...)``: several outputs (probe: "forward must
return one Tensor (tinygen ops have one output), got tuple"), ``ctx.mark_non_differentiable`` and
``ctx.set_materialize_grads`` (probe: AttributeError), keyword arguments to ``apply`` (probe: "apply() got an
unexpected keyword argument"), PyTorch 2's ``setup_context`` (probe: "forward() takes 2 positional arguments but
3 were given"), ``@once_differentiable`` (probe: no such name) and ``ctx.mark_dirty`` (probe: AttributeError).
Gradients against finite differences (float64, random upstream gradient, a transposed input) and second
derivatives; what backward receives and what apply returns against PyTorch where it is installed."""
import numpy as np
import pytest

import tinygen
from tinygen.autograd import Function
from tinygen.autograd.function import once_differentiable
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


def transposed(seed):
    """A float64 (2, 3) leaf that is not contiguous."""
    return random_tensor((3, 2), seed=seed).detach().t().requires_grad_()


def torch_version(definition):
    """The same definition as a torch.autograd.Function (skips the test without PyTorch)."""
    torch = pytest.importorskip("torch")
    return type(definition.__name__, (torch.autograd.Function,), {
        name: value for name, value in vars(definition).items() if name in ("forward", "backward", "setup_context")})


def torch_leaf(tensor):
    torch = pytest.importorskip("torch")
    return torch.tensor(host(tensor), requires_grad=True)


class ExpAndSquares(Function):
    """(y, s) = (exp(x), x^2 summed over rows): dL/dx = gy * y + 2 x gs. Saves its input and an output, so the
    second derivative goes through both."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(x, y)
        return y, (x * x).sum(0)

    @staticmethod
    def backward(ctx, grad_y, grad_s):
        x, y = ctx.saved_tensors
        return grad_y * y + 2.0 * x * grad_s.unsqueeze(0)


def test_two_outputs_values_gradients_and_second_derivatives():
    x = transposed(1)
    y, s = ExpAndSquares.apply(x)
    assert np.allclose(host(y), np.exp(host(x))) and np.allclose(host(s), (host(x) ** 2).sum(0))
    assert y.requires_grad and s.requires_grad and y.grad_fn.name == "ExpAndSquares[0]"
    gradcheck(ExpAndSquares.apply, [x])
    gradgradcheck(ExpAndSquares.apply, [x])
    gradcheck(lambda x: ExpAndSquares.apply(x)[1], [x])  # one output unused: its gradient arrives as zeros


def test_a_second_backward_through_either_output_is_the_freed_graph_error():
    """Probe: the second output's backward read the released node and raised an AttributeError."""
    x = transposed(13)
    y, s = ExpAndSquares.apply(x)
    y.sum().backward()
    for output, name in ((y, r"ExpAndSquares\[0\]"), (s, "ExpAndSquares")):
        with pytest.raises(RuntimeError, match=f"^{name}: trying to backward through the graph a second time"):
            output.sum().backward()


def test_two_outputs_match_pytorch_to_the_second_order():
    x = transposed(2)
    theirs = torch_leaf(x)
    ours = [(out * weight).sum() for out, weight in zip(ExpAndSquares.apply(x), (0.3, -1.7))]
    reference = [(out * weight).sum() for out, weight in zip(torch_version(ExpAndSquares).apply(theirs), (0.3, -1.7))]
    (first,) = tinygen.grad(ours[0] + ours[1], [x], create_graph=True)
    (expected,) = __import__("torch").autograd.grad(reference[0] + reference[1], [theirs], create_graph=True)
    assert np.allclose(host(first), expected.detach().numpy(), rtol=1e-12)
    (first ** 2).sum().backward()
    (expected ** 2).sum().backward()
    assert np.allclose(host(x.grad), theirs.grad.numpy(), rtol=1e-12)


class Recorder(Function):
    """Five outputs: a float Tensor, a float Tensor marked non-differentiable, an integer Tensor, a number and a
    float Tensor; backward records what it received, as ``None`` or (shape, dtype name, values)."""

    received = []

    @staticmethod
    def forward(ctx, x, materialize):
        ctx.set_materialize_grads(materialize)
        ctx.save_for_backward(x)
        marked = x * 3.0
        ctx.mark_non_differentiable(marked)
        return x * 2.0, marked, x.argmax(), 7, x.sum()

    @staticmethod
    def backward(ctx, grad_double, grad_marked, grad_argmax, grad_number, grad_sum):
        Recorder.received.append([None if grad is None else (tuple(grad.shape), str(grad.dtype).split(".")[-1],
                                                              grad.detach().numpy().tolist())
                                  for grad in (grad_double, grad_marked, grad_argmax, grad_number, grad_sum)])
        (x,) = ctx.saved_tensors
        grad = x * 0.0
        if grad_double is not None:
            grad = grad + 2.0 * grad_double
        if grad_sum is not None:
            grad = grad + grad_sum
        return grad, None


def _outputs_and_received(apply, x, materialize):
    """Which outputs require grad, and what backward received: for a loss of the last output, then (the graph
    retained) of the first output alone."""
    Recorder.received = []
    outputs = apply(x, materialize)
    required = [getattr(output, "requires_grad", output) for output in outputs]
    outputs[4].backward(retain_graph=True)
    outputs[0].sum().backward()
    return required, Recorder.received


def test_what_backward_receives_for_unused_non_differentiable_and_integer_outputs_is_pytorchs():
    for materialize in (True, False):
        x = tinygen.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], dtype=tinygen.float64, requires_grad=True)
        theirs = torch_leaf(x)
        ours = _outputs_and_received(Recorder.apply, x, materialize)
        assert ours == _outputs_and_received(torch_version(Recorder).apply, theirs, materialize)
        assert ours[0] == [True, False, False, 7, True]
        assert np.allclose(host(x.grad), theirs.grad.numpy())


class HalfAndDouble(Function):
    """(2 x in x's dtype, 3 x in float32): outputs of two dtypes; each gradient arrives in its output's dtype."""

    @staticmethod
    def forward(ctx, x):
        return x * 2.0, x.float() * 3.0

    @staticmethod
    def backward(ctx, grad_double, grad_single):
        HalfAndDouble.dtypes = (str(grad_double.dtype).split(".")[-1], str(grad_single.dtype).split(".")[-1])
        return grad_double * 2.0 + grad_single.double() * 3.0


def test_outputs_of_different_dtypes_keep_their_dtypes_as_in_pytorch():
    x = transposed(3)
    double, single = HalfAndDouble.apply(x)
    assert (double.dtype, single.dtype) == (tinygen.float64, tinygen.float32)
    (double.sum() + (single * 0.5).sum()).backward()
    assert HalfAndDouble.dtypes == ("float64", "float32") and np.allclose(host(x.grad), 2.0 + 1.5)
    theirs = torch_leaf(x)
    double, single = torch_version(HalfAndDouble).apply(theirs)
    (double.sum() + (single * 0.5).sum()).backward()
    assert HalfAndDouble.dtypes == ("float64", "float32") and np.allclose(host(x.grad), theirs.grad.numpy())


class InputAndTwice(Function):
    """(x, 2 x): forward returns its input itself as an output."""

    @staticmethod
    def forward(ctx, x):
        return x, x * 2.0

    @staticmethod
    def backward(ctx, grad_same, grad_twice):
        return grad_same + 2.0 * grad_twice


def test_an_output_that_is_the_input_is_a_new_tensor_with_a_gradient():
    x = transposed(4)
    same, twice = InputAndTwice.apply(x)
    assert same is not x and same.requires_grad and np.array_equal(host(same), host(x))
    with tinygen.no_grad():
        same.mul_(10.0)  # the output does not alias the input
    assert not np.array_equal(host(same), host(x))
    gradcheck(InputAndTwice.apply, [x])
    gradgradcheck(InputAndTwice.apply, [x])


class AuxLoss(Function):
    """(x w, mean((x w)^2)): a layer's output and an auxiliary loss on it."""

    @staticmethod
    def forward(ctx, x, w):
        out = x @ w
        ctx.save_for_backward(x, w, out)
        return out, (out * out).mean()

    @staticmethod
    def backward(ctx, grad_out, grad_aux):
        x, w, out = ctx.saved_tensors
        grad = grad_out + grad_aux * 2.0 * out / out.numel()
        return grad @ w.t(), x.t() @ grad


def test_a_two_output_function_in_a_module_trains_with_an_optimizer():
    tinygen.manual_seed(0)

    class Layer(tinygen.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = tinygen.nn.Parameter(tinygen.randn(3, 2, dtype=tinygen.float64))

        def forward(self, x):
            return AuxLoss.apply(x, self.weight)

    layer, x = Layer(), tinygen.randn(16, 3, dtype=tinygen.float64)
    target = x @ tinygen.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]], dtype=tinygen.float64)
    optimizer = tinygen.optim.SGD(layer.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        out, aux = layer(x)
        loss = ((out - target) ** 2).mean() + 0.01 * aux
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    inputs = [x[:4].detach().requires_grad_(), random_tensor((2, 3), seed=5).t()]  # the weight not contiguous
    gradcheck(AuxLoss.apply, inputs)
    gradgradcheck(AuxLoss.apply, inputs)


class Dirty(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_mark_dirty_is_refused_by_name_with_what_to_do_instead():
    with pytest.raises(NotImplementedError, match=r"^Dirty: ctx.mark_dirty .* is not supported: return a new tensor"):
        Dirty.apply(transposed(6) * 1.0)


class Scaled(Function):
    """y = a b x: keyword arguments to apply are bound to forward's places, as PyTorch binds them."""

    @staticmethod
    def forward(ctx, x, a=1.0, b=2.0):
        ctx.scale, ctx.seen = a * b, ctx.needs_input_grad
        return x * (a * b)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.scale, None, None


def test_keyword_arguments_to_apply_are_bound_as_pytorch_binds_them():
    x = transposed(7)
    y = Scaled.apply(x, 3.0, b=0.5)
    assert np.allclose(host(y), 1.5 * host(x)) and y.grad_fn.ctx.seen == (True, False, False)
    assert Scaled.apply(x=x).grad_fn.ctx.seen == (True,)
    gradcheck(lambda x: Scaled.apply(x, a=-0.7, b=1.3), [x])
    theirs = torch_version(Scaled).apply(torch_leaf(x), 3.0, b=0.5)
    assert np.allclose(host(y), theirs.detach().numpy())
    with pytest.raises(TypeError, match=r"^Scaled.apply: b can be given by keyword only with every argument of "
                                        r"forward before it"):
        Scaled.apply(x, b=3.0)  # PyTorch: "forward() missing required argument: 'a' (position 1)"
    with pytest.raises(TypeError, match="^Scaled.apply: got an unexpected keyword argument 'c'"):
        Scaled.apply(x, c=3.0)


class SetupContextCube(Function):
    """PyTorch 2's style: y = k x^3 (k defaults to 1), forward without ctx, ``setup_context`` saving the input and
    the output; backward reads 3 k x^2 as 3 y / x."""

    @staticmethod
    def forward(x, k=1.0):
        return k * x * x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, k = inputs
        ctx.save_for_backward(x, output)
        ctx.seen = ctx.needs_input_grad

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        return 3.0 * grad_output * y / x, None


class SetupContextPair(Function):
    """(x + 1, x y) with ``setup_context`` receiving the tuple of outputs."""

    @staticmethod
    def forward(x, y):
        return x + 1.0, x * y

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.output_type = type(output).__name__

    @staticmethod
    def backward(ctx, grad_shifted, grad_product):
        x, y = ctx.saved_tensors
        return grad_shifted + grad_product * y, grad_product * x


def test_setup_context_style_values_gradients_and_second_derivatives():
    x, y = transposed(8), random_tensor((2, 3), seed=9)
    assert SetupContextCube.apply(x).grad_fn.ctx.seen == (True, False)  # the default k is an argument too
    gradcheck(SetupContextCube.apply, [x])
    gradgradcheck(SetupContextCube.apply, [x])
    gradcheck(lambda x: SetupContextCube.apply(x, k=-2.0), [x])
    assert SetupContextPair.apply(x, y)[0].grad_fn.node.ctx.output_type == "tuple"
    gradcheck(SetupContextPair.apply, [x, y])
    gradgradcheck(SetupContextPair.apply, [x, y])
    theirs = torch_leaf(x)
    reference = torch_version(SetupContextCube).apply(theirs, 0.5)
    assert np.allclose(host(SetupContextCube.apply(x, 0.5)), reference.detach().numpy())
    SetupContextCube.apply(x, 0.5).sum().backward()
    reference.sum().backward()
    assert np.allclose(host(x.grad), theirs.grad.numpy())


class OnceSquare(Function):
    """y = x^2 with a backward that cannot be differentiated again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2.0 * x * grad_output


def test_once_differentiable_gives_first_derivatives_and_refuses_second_ones_by_name():
    x = transposed(10)
    gradcheck(OnceSquare.apply, [x])
    y = OnceSquare.apply(x)
    (first,) = tinygen.grad((y * y).sum(), [x], create_graph=True)  # the upstream gradient 2 y requires grad
    assert np.allclose(host(first), 4.0 * host(x) ** 3) and first.requires_grad
    with pytest.raises(RuntimeError, match="^OnceSquare: trying to differentiate twice a function that was marked "
                                           "with @once_differentiable$"):
        first.sum().backward()
    (plain,) = tinygen.grad(OnceSquare.apply(x).sum(), [x], create_graph=True)  # nothing upstream to record
    assert not plain.requires_grad and np.allclose(host(plain), 2.0 * host(x))


class OnceTwoOutputs(Function):
    """(2 x, x^2) with gradients materialized only where used, and a backward that cannot be differentiated again."""

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        return x * 2.0, x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_double, grad_square):
        (x,) = ctx.saved_tensors
        return 2.0 * x * grad_square  # the first output is never used below: its gradient is None


def test_once_differentiable_with_an_unused_output_whose_gradient_is_none():
    x = transposed(11)
    square = OnceTwoOutputs.apply(x)[1]
    (first,) = tinygen.grad((square * square).sum(), [x], create_graph=True)
    assert np.allclose(host(first), 4.0 * host(x) ** 3)
    with pytest.raises(RuntimeError, match="^OnceTwoOutputs: trying to differentiate twice"):
        first.sum().backward()


class ArgMax(Function):
    @staticmethod
    def forward(ctx, x):
        return x.argmax()

    @staticmethod
    def backward(ctx, grad_output):
        return None


class MarkedDouble(Function):
    @staticmethod
    def forward(ctx, x):
        y = x * 2.0
        ctx.mark_non_differentiable(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2.0


def test_a_single_integer_or_marked_output_does_not_require_grad_as_in_pytorch():
    x = transposed(12)
    index, double = ArgMax.apply(x), MarkedDouble.apply(x)
    assert not index.requires_grad and index.grad_fn is None and host(index) == np.argmax(host(x))
    assert not double.requires_grad and np.allclose(host(double), 2.0 * host(x))
    theirs = torch_leaf(x)
    assert not torch_version(ArgMax).apply(theirs).requires_grad
    assert not torch_version(MarkedDouble).apply(theirs).requires_grad
