"""Ops written as PyTorch writes them (static forward(ctx, ...) and backward(ctx, grad), called through apply):
values, gradients against finite differences (first and second order, a random upstream gradient, a non-contiguous
input), what forward saved coming back as the graph's tensors, and clear errors (probe: `MyReLU.apply(x)` raised
"type object 'MyReLU' has no attribute 'apply'")."""
import numpy as np
import pytest

import tinygen
from tinygen.autograd import Function
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor


class ScaledReLU(Function):
    """y = alpha max(x, 0): a Tensor and a number in, the number's gradient None."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return x.clamp(min=0) * alpha

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(grad_output.dtype) * ctx.alpha, None


class Cube(Function):
    """y = x^3, saving its input and its output: backward reads 3 y / x... written as 3 x^2 from both."""

    @staticmethod
    def forward(ctx, x):
        y = x * x * x
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        return 3.0 * grad_output * y / x


class Product(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.seen = ctx.needs_input_grad
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * a


def test_values_gradients_and_second_derivatives():
    x = random_tensor((6, 4), seed=1, low=0.5, high=2.0)[::2].detach().requires_grad_()  # not contiguous
    assert np.allclose(host(ScaledReLU.apply(x - 1.2, 2.0)), 2.0 * np.maximum(host(x) - 1.2, 0))
    gradcheck(lambda x: ScaledReLU.apply(x - 1.23, 0.5), [x])
    gradcheck(Cube.apply, [x])
    gradgradcheck(Cube.apply, [x])  # the saved x and y come back as the graph's input and output
    a, b = random_tensor((3,), seed=2), random_tensor((3,), seed=3)
    gradcheck(Product.apply, [a, b])
    gradgradcheck(Product.apply, [a, b])


def test_the_node_is_named_after_the_definition_and_needs_input_grad_is_per_argument():
    a, b = tinygen.ones(2, requires_grad=True), tinygen.ones(2)
    y = Product.apply(a, b)
    assert y.grad_fn.name == "Product" and "grad_fn=<Product>" in repr(y)
    assert y.grad_fn.ctx.seen == (True, False)
    y.sum().backward()
    assert "grad_fn=<Product>" in repr(y) and host(a.grad).tolist() == [1.0, 1.0] and b.grad is None
    assert ScaledReLU.apply(tinygen.tensor([1.0], requires_grad=True), 3.0).grad_fn.ctx.needs_input_grad == (True,
                                                                                                             False)


def test_a_saved_input_changed_in_place_is_caught():
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = ScaledReLU.apply(h, 2.0)
    with tinygen.no_grad():
        h.mul_(3.0)
    with pytest.raises(RuntimeError, match="ScaledReLU"):
        y.sum().backward()


class ReturnsANumber(Function):
    @staticmethod
    def forward(ctx, x):
        return 2.0

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class TooFew(Function):
    @staticmethod
    def forward(ctx, x, scale):
        return x * scale

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class GradientForANumber(TooFew):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


def test_mistakes_are_clear_errors():
    x = tinygen.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="ReturnsANumber.forward must return a Tensor or a tuple, got float"):
        ReturnsANumber.apply(x)
    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients for the 2 arguments of forward"):
        TooFew.apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="returned a gradient for the argument 2.0, which is not a Tensor"):
        GradientForANumber.apply(x, 2.0).sum().backward()
    with pytest.raises(TypeError, match="ScaledReLU.apply: expected at least one Tensor argument, got float, float"):
        ScaledReLU.apply(1.0, 2.0)
    with pytest.raises(TypeError, match=r"Mul.apply is for ops written as PyTorch writes them"):
        tinygen.ops.arithmetic.Mul.apply(x, x)


def test_the_same_definition_gives_pytorchs_gradients():
    torch = pytest.importorskip("torch")

    class TorchCube(torch.autograd.Function):
        forward, backward = Cube.forward, Cube.backward

    values = np.array([0.5, -1.5, 2.0])
    ours = tinygen.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    (first,) = tinygen.grad(Cube.apply(ours).sum(), [ours], create_graph=True)
    (reference,) = torch.autograd.grad(TorchCube.apply(theirs).sum(), [theirs], create_graph=True)
    assert np.allclose(host(first), reference.detach().numpy(), rtol=1e-12)
    first.sum().backward()
    reference.sum().backward()
    assert np.allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-12)



def test_gradcheck_is_where_pytorch_has_it():
    """Probe: `from torch.autograd import gradcheck` raised ImportError."""
    from tinygen.autograd import gradcheck as imported

    assert imported is gradcheck and tinygen.autograd.gradgradcheck is gradgradcheck


class LinearFunction(Function):
    """PyTorch's documentation example: an optional bias, and backward returns a (None) gradient for it even when
    apply left it out."""

    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input @ weight.t()
        return output if bias is None else output + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_bias = grad_output.sum(0) if bias is not None and ctx.needs_input_grad[2] else None
        return grad_output @ weight, grad_output.t() @ input, grad_bias


def test_pytorchs_linear_function_example_with_and_without_its_bias():
    x, w, b = random_tensor((4, 3), seed=7), random_tensor((2, 3), seed=8), random_tensor((2,), seed=9)
    gradcheck(LinearFunction.apply, [x, w])
    gradcheck(LinearFunction.apply, [x, w, b])
    gradgradcheck(LinearFunction.apply, [x, w, b])


class DoubleWithVjp(Function):
    """y = 2 x, its backward written under PyTorch's other name, vjp."""

    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def vjp(ctx, grad_output):
        return grad_output * 2.0


class NoBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0


def test_vjp_is_backward_and_a_missing_backward_is_one_clear_line():
    """Probe: a definition with vjp instead of backward, or with neither, raised a NotImplementedError without a
    message."""
    x = random_tensor((3, 2), seed=10).detach().t().requires_grad_()
    gradcheck(DoubleWithVjp.apply, [x])
    gradgradcheck(DoubleWithVjp.apply, [x])
    with pytest.raises(NotImplementedError, match=r"^NoBackward has no backward: write @staticmethod backward"):
        NoBackward.apply(x).sum().backward()


def test_function_ctx_is_importable_where_pytorch_has_it():
    """Probe: `from torch.autograd.function import FunctionCtx` (for `ctx: FunctionCtx` hints) raised ImportError."""
    from tinygen.autograd.function import FunctionCtx

    x = tinygen.ones(2, requires_grad=True)
    assert isinstance(Product.apply(x, x).grad_fn.ctx, FunctionCtx)
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchName'"):
        tinygen.autograd.function.NoSuchName  # noqa: B018

