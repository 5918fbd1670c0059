"""Random computation graphs with shared nodes (hypothesis stateful testing).

A state machine keeps a pool of float64 tensors: leaves that require grad and the results of unary, binary,
reduction and shape ops applied to pool members, often the same member twice (``a * a``), so nodes are reused
in diamonds and chains. Every op is also written down, so the graph can be rebuilt from its leaves. At random
points the machine backpropagates a random weighting of the pool and checks:

* each leaf's gradient has the leaf's shape, and non-leaves keep no ``.grad``;
* a second ``backward()`` through the freed graph raises;
* the gradients equal those of a rebuilt graph, which pass ``gradcheck`` (finite differences), sometimes
  ``gradgradcheck`` too, and equal PyTorch's on the same program where PyTorch is installed.

Run more examples with ``TINYGEN_HYPOTHESIS_PROFILE=heavy``.
"""
import importlib.util

import numpy as np
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import tinygen
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host

HAS_TORCH = importlib.util.find_spec("torch") is not None
LEAF_SHAPES = [(), (3,), (1, 3), (2, 1), (2, 3)]
MAX_LEAVES = 4
LARGEST_VALUE = 1e6  # results beyond this are not kept: finite differences lose their precision


class TinygenOps:
    """The few ops whose spelling differs between tinygen and PyTorch (the program's ops use only these and the
    methods the two share)."""

    cat = staticmethod(tinygen.cat)
    softplus = staticmethod(tinygen.softplus)

    @staticmethod
    def flip_last(x):
        return x[..., ::-1]


def torch_ops():
    import torch

    class TorchOps:
        cat = staticmethod(torch.cat)
        softplus = staticmethod(torch.nn.functional.softplus)

        @staticmethod
        def flip_last(x):
            return torch.flip(x, (-1,))

    return TorchOps


# op name -> (number of inputs, function(ops, options, *tensors)); every op is smooth, so finite differences apply
UNARY = {
    "tanh": lambda ops, o, x: x.tanh(),
    "sigmoid": lambda ops, o, x: x.sigmoid(),
    "softplus": lambda ops, o, x: ops.softplus(x),
    "exp_of_tanh": lambda ops, o, x: x.tanh().exp(),
    "log_of_1_plus_square": lambda ops, o, x: (x * x + 1.0).log(),
    "sqrt_of_1_plus_square": lambda ops, o, x: (x * x + 1.0).sqrt(),
    "affine": lambda ops, o, x: x * 1.5 - 0.25,
    "neg": lambda ops, o, x: -x,
    "cube": lambda ops, o, x: x ** 3,
    "reciprocal_of_square_plus_half": lambda ops, o, x: 1.0 / (x * x + 0.5),
}
BINARY = {
    "add": lambda ops, o, a, b: a + b,
    "sub": lambda ops, o, a, b: a - b,
    "mul": lambda ops, o, a, b: a * b,
    "div": lambda ops, o, a, b: a / (b * b + 0.5),
}
REDUCTIONS = {
    "sum": lambda ops, o, x: x.sum(o["dim"], keepdim=o["keepdim"]),
    "mean": lambda ops, o, x: x.mean(o["dim"], keepdim=o["keepdim"]),
    "var": lambda ops, o, x: x.var(o["dim"], correction=0, keepdim=o["keepdim"]),
    "logsumexp": lambda ops, o, x: x.logsumexp(o["dim"], keepdim=o["keepdim"]),
    "softmax": lambda ops, o, x: x.softmax(o["dim"]),
}
SHAPE_OPS = {
    "transpose": lambda ops, o, x: x.transpose(0, -1),
    "flatten": lambda ops, o, x: x.reshape(-1),
    "unsqueeze": lambda ops, o, x: x.unsqueeze(0),
    "flip_last": lambda ops, o, x: ops.flip_last(x),
    "repeated_index": lambda ops, o, x: x[..., [0, 0, -1]],
    "expand": lambda ops, o, x: x.expand(2, *x.shape),
    "cat_with_itself": lambda ops, o, x: ops.cat([x, x * 0.5], 0),
}
OPS = {**UNARY, **BINARY, **REDUCTIONS, **SHAPE_OPS}


def replay(program, leaves, ops):
    """Rebuild the pool from ``leaves`` by running ``program``: [(op name, input positions, options)]."""
    pool, leaf_values = [], iter(leaves)
    for name, positions, options in program:
        pool.append(next(leaf_values) if name == "leaf" else OPS[name](ops, options, *[pool[p] for p in positions]))
    return pool


def weighted_total(pool, positions, weights):
    """sum_p <pool[p], weights[p]>: a scalar that reaches every chosen node with a random upstream gradient."""
    total = None
    for position in positions:
        term = (pool[position] * weights[position]).sum()
        total = term if total is None else total + term
    return total


class RandomGraphs(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.program, self.pool, self.leaf_positions = [], [], []
        self.unchecked = False  # whether ops were added since the last check

    # --- building ------------------------------------------------------------------------------------------
    def _keep(self, name, positions, options, result):
        if not np.all(np.abs(host(result)) < LARGEST_VALUE):
            return
        self.program.append((name, positions, options))
        self.pool.append(result)
        self.unchecked = self.unchecked or name != "leaf"

    def _member(self, data, min_dims=0):
        candidates = [p for p, t in enumerate(self.pool) if t.ndim >= min_dims]
        return data.draw(st.sampled_from(candidates)) if candidates else None

    @initialize(data=st.data())
    def first_leaf(self, data):
        self.add_leaf(data)

    @precondition(lambda self: len(self.leaf_positions) < MAX_LEAVES)
    @rule(data=st.data())
    def add_leaf(self, data):
        shape = data.draw(st.sampled_from(LEAF_SHAPES))
        seed = data.draw(st.integers(0, 2**16))
        values = np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)
        self.leaf_positions.append(len(self.pool))
        self._keep("leaf", (), {}, tinygen.tensor(values, dtype=tinygen.float64, requires_grad=True))

    @rule(data=st.data(), name=st.sampled_from(sorted(UNARY)))
    def apply_unary(self, data, name):
        position = self._member(data)
        self._keep(name, (position,), {}, OPS[name](TinygenOps, {}, self.pool[position]))

    @rule(data=st.data(), name=st.sampled_from(sorted(BINARY)))
    def apply_binary(self, data, name):
        first = self._member(data)
        second = first if data.draw(st.booleans()) else self._member(data)  # the same node twice, often
        a, b = self.pool[first], self.pool[second]
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            return
        self._keep(name, (first, second), {}, OPS[name](TinygenOps, {}, a, b))

    @rule(data=st.data(), name=st.sampled_from(sorted(REDUCTIONS)))
    def apply_reduction(self, data, name):
        position = self._member(data, min_dims=1)
        if position is None:
            return
        x = self.pool[position]
        options = dict(dim=data.draw(st.integers(-x.ndim, x.ndim - 1)), keepdim=data.draw(st.booleans()))
        self._keep(name, (position,), options, OPS[name](TinygenOps, options, x))

    @rule(data=st.data(), name=st.sampled_from(sorted(SHAPE_OPS)))
    def apply_shape_op(self, data, name):
        position = self._member(data, min_dims=1)
        if position is None or self.pool[position].ndim > 3:
            return
        self._keep(name, (position,), {}, OPS[name](TinygenOps, {}, self.pool[position]))

    # --- checking ------------------------------------------------------------------------------------------
    @invariant()
    def leaves_are_leaves_and_results_are_nodes(self):
        leaves = {id(self.pool[p]) for p in self.leaf_positions}
        for tensor in self.pool:  # (a shape op may return its input itself, e.g. a 1-D transpose)
            assert tensor.requires_grad
            assert tensor.is_leaf == (id(tensor) in leaves)

    @precondition(lambda self: len(self.pool) > len(self.leaf_positions))
    @rule(data=st.data())
    def backpropagate_and_check(self, data):
        chosen = data.draw(st.lists(st.sampled_from(range(len(self.pool))), min_size=1, max_size=4, unique=True))
        self._check(chosen, seed=data.draw(st.integers(0, 2**16)), second_order=data.draw(st.booleans()))

    def teardown(self):
        """Every run ends with a check of the whole graph, if it grew since the last one."""
        if self.unchecked:
            self._check(range(len(self.pool)), seed=len(self.pool), second_order=False)

    def _check(self, chosen, seed, second_order):
        event(f"backpropagated through {len(self.pool)} tensors")
        self.unchecked = False  # (also when this check fails: teardown must not walk the freed graph again)
        rng = np.random.default_rng(seed)
        weights = {p: tinygen.tensor(rng.standard_normal(self.pool[p].shape)) for p in chosen}
        leaves = [self.pool[p] for p in self.leaf_positions]

        loss = weighted_total(self.pool, chosen, weights)
        loss.backward()
        for position, tensor in enumerate(self.pool):
            if tensor.is_leaf:
                assert tensor.grad is None or tensor.grad.shape == tensor.shape
            else:
                assert tensor.grad is None, f"non-leaf {self.program[position][0]} kept a .grad"
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()

        def rebuilt(*leaf_tensors):
            return weighted_total(replay(self.program, leaf_tensors, TinygenOps), chosen, weights)

        expected = tinygen.grad(rebuilt(*leaves), leaves, allow_unused=True)
        for leaf, gradient in zip(leaves, expected):
            got = np.zeros(leaf.shape) if leaf.grad is None else host(leaf.grad)
            want = np.zeros(leaf.shape) if gradient is None else host(gradient)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        gradcheck(rebuilt, leaves)
        if second_order:
            gradgradcheck(rebuilt, leaves)
        if HAS_TORCH:
            self._compare_with_torch(chosen, weights, leaves)

        for leaf in leaves:
            leaf.grad = None
        self.pool = replay(self.program, leaves, TinygenOps)  # a fresh graph: the old one was freed

    def _compare_with_torch(self, chosen, weights, leaves):
        import torch

        torch_leaves = [torch.tensor(host(leaf), requires_grad=True) for leaf in leaves]
        torch_pool = replay(self.program, torch_leaves, torch_ops())
        torch_weights = {p: torch.tensor(host(w)) for p, w in weights.items()}
        total = weighted_total(torch_pool, chosen, torch_weights)
        if not total.requires_grad:
            return
        total.backward()
        for leaf, torch_leaf in zip(leaves, torch_leaves):
            want = np.zeros(leaf.shape) if torch_leaf.grad is None else torch_leaf.grad.numpy()
            got = np.zeros(leaf.shape) if leaf.grad is None else host(leaf.grad)
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


RandomGraphs.TestCase.settings = settings(settings.default, stateful_step_count=12)
test_random_graphs_with_shared_nodes = RandomGraphs.TestCase
