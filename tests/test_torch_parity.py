"""Random compositions of ops against torch.autograd: values and gradients must agree (skipped without PyTorch)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygen

from helpers import host

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

# name -> (arity, tinygen op, torch op); unary ops that need positive input get it through softplus
OPS = {
    "add": (2, lambda a, b: a + b, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    "maximum": (2, tinygen.maximum, torch.maximum),
    "exp": (1, lambda a: (a * 0.3).exp(), lambda a: (a * 0.3).exp()),
    "log_softplus": (1, lambda a: a.softplus().log(), lambda a: torch.nn.functional.softplus(a).log()),
    "sqrt": (1, lambda a: (a * a + 0.5).sqrt(), lambda a: (a * a + 0.5).sqrt()),
    "tanh": (1, tinygen.tanh, torch.tanh),
    "sigmoid": (1, tinygen.sigmoid, torch.sigmoid),
    "relu": (1, tinygen.relu, torch.relu),
    "leaky_relu": (1, lambda a: tinygen.leaky_relu(a, 0.2), lambda a: torch.nn.functional.leaky_relu(a, 0.2)),
    "abs": (1, tinygen.abs, torch.abs),
    "pow": (1, lambda a: a ** 2, lambda a: a ** 2),
    "clamp": (1, lambda a: a.clamp(-1.0, 1.0), lambda a: a.clamp(-1.0, 1.0)),
    "transpose_matmul": (2, lambda a, b: a @ b.T / 4.0 @ b, lambda a, b: a @ b.T / 4.0 @ b),
    "mean_keep": (1, lambda a: a - a.mean(1, keepdim=True), lambda a: a - a.mean(1, keepdim=True)),
    "logsumexp": (1, lambda a: a - a.logsumexp(1, keepdim=True), lambda a: a - a.logsumexp(1, keepdim=True)),
    "var": (1, lambda a: a / (a.var(0) + 1.0), lambda a: a / (a.var(0) + 1.0)),
    "amax": (1, lambda a: a - a.amax(0), lambda a: a - a.amax(0)),
    "flip_rows": (1, lambda a: a[[2, 1, 0]], lambda a: a[[2, 1, 0]]),
    "cat_slice": (1, lambda a: tinygen.cat([a[:, 2:], a[:, :2]], dim=1), lambda a: torch.cat([a[:, 2:], a[:, :2]], dim=1)),
}


@st.composite
def programs(draw):
    steps = []
    pool_size = 3
    for _ in range(draw(st.integers(2, 8))):
        name = draw(st.sampled_from(sorted(OPS)))
        arity = OPS[name][0]
        operands = [draw(st.integers(0, pool_size - 1)) for _ in range(arity)]
        steps.append((name, operands))
        pool_size += 1
    return steps


def run(program, inputs, library):
    pool = list(inputs)
    for name, operands in program:
        _, tinygen_op, torch_op = OPS[name]
        op = tinygen_op if library == "tinygen" else torch_op
        pool.append(op(*[pool[i] for i in operands]))
    return pool[-1]


@given(program=programs(), seed=st.integers(0, 2**16))
def test_random_compositions_match_pytorch(program, seed):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=(3, 4)) for _ in range(3)]
    weights = rng.normal(size=(3, 4))
    ours = [tinygen.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    our_out, their_out = run(program, ours, "tinygen"), run(program, theirs, "torch")
    np.testing.assert_allclose(host(our_out), their_out.detach().numpy(), rtol=1e-9, atol=1e-12)
    (our_out * tinygen.tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, theirs):
        if reference.grad is None:
            assert mine.grad is None or not np.any(host(mine.grad))
            continue
        np.testing.assert_allclose(host(mine.grad), reference.grad.numpy(), rtol=1e-8, atol=1e-10)


@given(program=programs(), seed=st.integers(0, 2**16))
def test_second_derivatives_match_pytorch(program, seed):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=(3, 4)) for _ in range(3)]
    ours = [tinygen.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    our_grads = tinygen.grad(run(program, ours, "tinygen").sum(), ours, create_graph=True, allow_unused=True)
    their_grads = torch.autograd.grad(run(program, theirs, "torch").sum(), theirs, create_graph=True, allow_unused=True)
    our_total = sum((g * g).sum() for g in our_grads if g is not None and g.requires_grad)
    their_total = sum((g * g).sum() for g in their_grads if g is not None and g.requires_grad)
    if not isinstance(their_total, torch.Tensor) or not their_total.requires_grad:
        return  # the program is linear in its inputs: no second derivative to compare
    their_second = torch.autograd.grad(their_total, theirs, allow_unused=True)
    if not isinstance(our_total, tinygen.Tensor) or not our_total.requires_grad:
        # our first derivative is piecewise constant (relu, abs, clamp masks): the second derivative is zero
        assert all(r is None or not r.abs().max() > 0 for r in their_second)
        return
    our_second = tinygen.grad(our_total, ours, allow_unused=True)
    for mine, reference in zip(our_second, their_second):
        if reference is None:
            assert mine is None or not np.any(host(mine))
            continue
        expected = reference.numpy(force=True)  # force: PyTorch may answer with a ZeroTensor
        np.testing.assert_allclose(host(mine) if mine is not None else np.zeros_like(expected), expected,
                                   rtol=1e-7, atol=1e-9)


def test_dtype_promotion_matches_pytorch():
    cases = [
        (np.float32, (3,), np.float64, (3,)),
        (np.float32, (3,), np.float64, ()),
        (np.int64, (3,), np.float32, (3,)),
        (np.int64, (3,), np.float64, ()),
        (np.int32, (3,), np.int64, (3,)),
    ]
    for a_dtype, a_shape, b_dtype, b_shape in cases:
        a, b = np.ones(a_shape, a_dtype), np.ones(b_shape, b_dtype)
        ours = (tinygen.tensor(a) + tinygen.tensor(b)).dtype
        theirs = (torch.tensor(a) + torch.tensor(b)).dtype
        assert str(theirs) == f"torch.{ours}", (a_dtype, a_shape, b_dtype, b_shape)
