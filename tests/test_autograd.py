"""The engine: accumulation, graph freeing, grad(), create_graph, no_grad, detach, deep graphs, version
counters, Function subclasses written by users, anomaly mode, and the errors of each."""
import sys

import numpy as np
import pytest

import tinygen
from tinygen.autograd import AnomalyError, Function
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor


def test_gradients_accumulate_across_backward_calls():
    x = random_tensor((3,), seed=1)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert_close(x.grad, 4 * host(x))


def test_a_node_used_twice_gets_the_sum_of_both_gradients():
    x = random_tensor((3,), seed=2)
    (x * x + x).sum().backward()
    assert_close(x.grad, 2 * host(x) + 1)


def test_shared_subgraphs_are_visited_once():
    """A chain of diamonds doubles the number of paths at each level; the engine must still visit each node once."""
    calls = []

    class Counted(Function):
        def forward(self, x):
            calls.append(1)
            return x

        def backward(self, g):
            calls.append(1)
            return g

    x = tinygen.ones(2, requires_grad=True)
    y = Counted()(x)
    for _ in range(40):  # 2**40 paths
        y = y * 0.5 + y * 0.5
    calls.clear()
    y.sum().backward()
    assert len(calls) == 1
    assert_close(x.grad, [1.0, 1.0])


def test_ten_thousand_op_chain_backpropagates_without_recursion():
    x = tinygen.ones(1, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    assert 10_000 > sys.getrecursionlimit()  # so a recursive walk would fail here
    y.sum().backward()
    assert host(x.grad).tolist() == [1.0]


def test_graph_is_freed_after_backward_and_a_second_backward_is_a_clear_error():
    x = random_tensor((3,), seed=3)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates_exactly_twice():
    x = random_tensor((3,), seed=4)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    once = host(x.grad).copy()
    y.backward()
    assert_close(x.grad, 2 * once)


def test_non_scalar_backward_needs_a_gradient():
    x = random_tensor((3,), seed=5)
    with pytest.raises(RuntimeError, match=r"output 0 has shape \(3,\); a gradient can be implied only for a one-element"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"gradient 0 has shape \(2,\) but the output has shape \(3,\)"):
        (x * 2).backward(tinygen.ones(2, dtype=tinygen.float64))


def test_backward_of_a_tensor_that_does_not_require_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad and has no grad_fn"):
        tinygen.ones(2).sum().backward()


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x, w = random_tensor((2, 3), seed=6), random_tensor((3,), seed=7)
    y = (x * w).sum()
    gx, gw = tinygen.grad(y, [x, w])
    assert_close(gx, np.broadcast_to(host(w), (2, 3)))
    assert_close(gw, host(x).sum(0))
    assert x.grad is None and w.grad is None


def test_grad_of_an_intermediate_tensor_and_unused_inputs():
    x = random_tensor((3,), seed=8)
    h = x * 3
    unused = random_tensor((2,), seed=9)
    (gh,) = tinygen.grad((h * h).sum(), [h], retain_graph=True)
    assert_close(gh, 2 * host(h))
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        tinygen.grad((h * h).sum(), [x, unused], retain_graph=True)
    gx, gu = tinygen.grad((h * h).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx is not None


def test_create_graph_gives_differentiable_gradients():
    x = random_tensor((3,), seed=10)
    (g,) = tinygen.grad((x ** 3).sum(), [x], create_graph=True)
    assert g.requires_grad
    (gg,) = tinygen.grad(g.sum(), [x])
    assert_close(gg, 6 * host(x))


def test_gradient_penalty_style_double_backward_reaches_the_weights():
    x = random_tensor((4, 3), seed=11)
    w = random_tensor((3, 2), seed=12)
    critic = (x @ w).tanh().sum()
    (gx,) = tinygen.grad(critic, [x], create_graph=True)
    penalty = ((gx * gx).sum(1).sqrt() - 1).pow(2).mean()
    penalty.backward()
    assert w.grad is not None and np.abs(host(w.grad)).sum() > 0

    def penalty_of(w):
        (gx,) = tinygen.grad((x @ w).tanh().sum(), [x], create_graph=True)
        return ((gx * gx).sum(1).sqrt() - 1).pow(2).mean()

    gradcheck(penalty_of, [w])


def test_no_grad_records_nothing_and_detach_cuts_the_graph():
    x = random_tensor((3,), seed=13)
    with tinygen.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    z = x.detach() * 2
    assert not z.requires_grad
    with tinygen.no_grad():
        with tinygen.enable_grad():
            assert (x * 2).requires_grad


def test_non_leaf_tensors_keep_no_grad_unless_retained():
    x = random_tensor((3,), seed=14)
    h = x * 2
    kept = x * 3
    kept.retain_grad()
    (h.sum() + kept.sum()).backward()
    assert h.grad is None
    assert_close(kept.grad, np.ones(3))


def test_leaf_gradients_never_share_memory():
    a, b = random_tensor((3,), seed=15), random_tensor((3,), seed=16)
    (a + b).sum().backward()
    a.grad.zero_()
    assert host(b.grad).tolist() == [1.0, 1.0, 1.0]


def test_in_place_change_of_a_saved_tensor_is_caught():
    x = random_tensor((3,), seed=17)
    w = tinygen.ones(3, dtype=tinygen.float64)
    y = (x * w).sum()
    w.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"Mul: input 1 \(shape \(3,\)\), saved for backward, was modified in place"):
        y.backward()


def test_in_place_change_of_a_saved_output_is_caught():
    x = random_tensor((3,), seed=18)
    y = x.exp()
    z = y.detach()
    z.add_(1.0)  # detach shares memory and the version counter with y
    with pytest.raises(RuntimeError, match="Exp: its output .* was modified in place"):
        y.sum().backward()


def test_parameter_update_under_no_grad_between_steps_is_fine():
    """Two steps of w -= 0.1 dL/dw for L = |w|^2 (dL/dw = 2w): w shrinks by 0.8 each step and stays a leaf."""
    w = random_tensor((3,), seed=19)
    start = host(w).copy()
    for _ in range(2):
        loss = (w * w).sum()
        loss.backward()
        with tinygen.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    assert_close(w, 0.8**2 * start)
    assert w.requires_grad and w.grad_fn is None


def test_user_defined_function_with_gradcheck():
    class Cube(Function):
        """y = x^3.  dL/dx = 3 x^2 g."""

        save_inputs = True

        def forward(self, x):
            return x * x * x

        def backward(self, g):
            (x,) = self.saved_inputs
            return 3.0 * x * x * g

    x = random_tensor((2, 3), seed=20)
    gradcheck(lambda x: Cube()(x), [x])
    gradgradcheck(lambda x: Cube()(x), [x])


def test_a_backward_returning_the_wrong_shape_is_reported():
    class Broken(Function):
        def forward(self, x):
            return x.sum(axis=0)

        def backward(self, g):
            return g

    x = random_tensor((2, 3), seed=21)
    with pytest.raises(RuntimeError, match=r"Broken.backward returned a gradient of shape \(3,\) .* for an input of shape \(2, 3\)"):
        Broken()(x).sum().backward()


def test_anomaly_mode_names_the_op_and_the_line():
    x = tinygen.tensor([1.0, 0.0], requires_grad=True)
    with tinygen.detect_anomaly():
        with np.errstate(divide="ignore"):
            with pytest.raises(AnomalyError, match=r"Log produced Inf in its forward .*test_autograd.py:\d+"):
                tinygen.log(x)
            y = tinygen.sqrt(x)  # finite forward, infinite derivative at 0
            with pytest.raises(AnomalyError, match=r"Sqrt produced Inf in its backward .*test_autograd.py:\d+"):
                y.sum().backward()


def test_devices_must_match():
    a = tinygen.ones(2, device="cpu")
    b = tinygen.ones(2, device="strict")
    with pytest.raises(tinygen.autograd.DeviceMismatchError, match="'cpu' and 'strict'.*move one"):
        a + b


def test_a_pruned_grad_call_does_not_hide_gradients_from_a_later_backward():
    """grad(y, [x]) skips the bias's gradient in its own walk; the double backward after it must still reach
    the bias (a gradient penalty trains every critic parameter)."""
    x, w, b = random_tensor((3, 2), seed=22), random_tensor((2, 2), seed=23), random_tensor((2,), seed=24)
    (gx,) = tinygen.grad((x @ w + b).tanh().sum(), [x], create_graph=True)
    (gx * gx).sum().backward()
    # by hand: y = tanh(x w + b), s = 1 - y^2, gx = s w^T, L = |gx|^2; dL/ds = 2 gx w, dL/dz = dL/ds * (-2 y s)
    y = np.tanh(host(x) @ host(w) + host(b))
    s = 1 - y**2
    grad_gx = 2 * s @ host(w).T
    grad_z = (grad_gx @ host(w)) * (-2 * y * s)
    assert_close(b.grad, grad_z.sum(axis=0))
    assert_close(w.grad, host(x).T @ grad_z + grad_gx.T @ s)


def test_retain_graph_then_full_backward_after_a_pruned_grad():
    x, b = random_tensor((3,), seed=25), random_tensor((3,), seed=26)
    y = ((x + b) ** 2).sum()
    tinygen.grad(y, [x], retain_graph=True)
    y.backward()
    assert_close(b.grad, 2 * (host(x) + host(b)))


def test_forward_sees_needs_input_grad_as_pytorch_ctx_does():
    """Per input, whether it requires grad, whatever the grad mode (PyTorch's ``ctx.needs_input_grad``); ReLU
    keeps its mask only when its input requires grad (every activation under ``no_grad()`` does not)."""
    from tinygen.autograd.function import Function
    from tinygen.ops.elementwise import ReLU

    seen = []

    class Product(Function):
        def forward(self, x, y):
            seen.append(self.needs_input_grad)
            return x * y

    x, y = tinygen.ones(2, requires_grad=True), tinygen.ones(2)
    Product()(x, y)
    with tinygen.no_grad():
        Product()(x, y)
    Product()(y, y)
    assert seen == [(True, False), (True, False), (False, False)]
    recorded, unrecorded = ReLU(), ReLU()
    recorded(x)
    with tinygen.no_grad():
        unrecorded(x.detach() * 2)
    assert hasattr(recorded, "positive") and not hasattr(unrecorded, "positive")


def _doubling_that_counts_its_backward_calls(calls):
    """A Function node computing 2x whose backward appends to ``calls`` each time it runs."""

    class Twice(tinygen.autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            calls.append(1)
            return g * 2

    return Twice()


def test_grad_of_a_non_leaf_target_runs_no_backward_beyond_it():
    """grad(y, [h]) takes h's gradient as the walk passes h's node; the node's own backward (towards x) is not
    needed and is not run (it was, and its result was thrown away)."""
    calls = []
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    h = _doubling_that_counts_its_backward_calls(calls)(x)
    (gh,) = tinygen.grad((h * h).sum(), [h])
    assert gh.tolist() == [4.0, 8.0] and calls == []
    (gx,) = tinygen.grad((h * h).sum(), [x])
    assert gx.tolist() == [8.0, 16.0] and calls == [1]


# --- backward(inputs=...) ---------------------------------------------------------------------------------------

def test_backward_into_given_inputs_only_accumulates_their_grad():
    """``backward(inputs=[x])`` accumulates dL/dx into ``x.grad`` (again on a second call) and leaves every other
    tensor's ``.grad`` alone; the values are ``grad()``'s. ``inputs`` may be one Tensor."""
    x, w, b = random_tensor((3, 2), seed=40), random_tensor((2, 2), seed=41), random_tensor((2,), seed=42)
    upstream = random_tensor((3, 2), seed=43, requires_grad=False)
    y = (x @ w + b).tanh()
    expected = tinygen.grad(y, [x, w], upstream, retain_graph=True)
    y.backward(upstream, retain_graph=True, inputs=[x, w])
    assert_close(x.grad, host(expected[0]))
    assert_close(w.grad, host(expected[1]))
    assert b.grad is None
    tinygen.autograd.backward([y], [upstream], inputs=x)
    assert_close(x.grad, 2 * host(expected[0]))
    assert_close(w.grad, host(expected[1])) and b.grad is None


def test_backward_into_inputs_runs_only_the_nodes_that_lead_to_them():
    """A node from which no input can be reached does not run its backward: the work is only what the inputs'
    gradients need (a WGAN-GP critic step need not differentiate the penalty's interpolated images)."""
    calls = []
    x, w = tinygen.tensor([1.0, 2.0], requires_grad=True), tinygen.tensor([3.0, 4.0], requires_grad=True)
    loss = (_doubling_that_counts_its_backward_calls(calls)(x) * w).sum()
    loss.backward(inputs=[w], retain_graph=True)
    assert w.grad.tolist() == [2.0, 4.0] and x.grad is None and calls == []
    loss.backward()
    assert x.grad.tolist() == [6.0, 8.0] and w.grad.tolist() == [4.0, 8.0] and calls == [1]


def test_backward_into_a_non_leaf_or_an_unused_input():
    """A non-leaf input gets its ``.grad`` (and the leaves behind it do not); an input the output does not depend
    on keeps its ``.grad``, as in PyTorch."""
    x, unused = random_tensor((3,), seed=44), random_tensor((3,), seed=45)
    h = x * 3.0
    (h * h).sum().backward(inputs=[h, unused])
    assert_close(h.grad, 2 * 3.0 * host(x))
    assert x.grad is None and unused.grad is None


def test_backward_into_inputs_with_create_graph_can_be_differentiated_again():
    a = random_tensor((4,), seed=46)
    (a ** 3).sum().backward(inputs=[a], create_graph=True)
    assert a.grad.requires_grad
    assert_close(a.grad, 3 * host(a) ** 2)
    (second,) = tinygen.grad(a.grad.sum(), [a])
    assert_close(second, 6 * host(a))


@pytest.mark.parametrize("inputs, error, message", [
    ([], RuntimeError, r"^backward: inputs is empty; name the tensors whose \.grad to accumulate into"),
    ([(1.0,)], TypeError, r"^backward: expected Tensors, got tuple$"),
    (["x"], TypeError, r"^backward: expected Tensors, got str$"),
    ("x", TypeError, r"^backward: expected a Tensor or a sequence of Tensors, got str$"),
    (3, TypeError, r"^backward: expected a Tensor or a sequence of Tensors, got int$"),
    ("constant", RuntimeError, r"^backward: input 0 \(shape \(3,\)\) does not require grad$"),
])
def test_bad_backward_inputs_are_one_line_errors(inputs, error, message):
    x = random_tensor((3,), seed=47)
    if inputs == "constant":
        inputs = [tinygen.ones(3)]
    with pytest.raises(error, match=message):
        (x * 2).sum().backward(inputs=inputs)
    assert x.grad is None


def test_backward_into_inputs_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch_oracle import to_torch

    x, w, b = random_tensor((4, 3), seed=48), random_tensor((3, 2), seed=49), random_tensor((2,), seed=50)
    h = x @ w
    ((h + b).sigmoid() ** 2).sum().backward(inputs=[w, h])
    tx, tw, tb = (to_torch(t, requires_grad=True) for t in (x, w, b))
    th = tx @ tw
    ((th + tb).sigmoid() ** 2).sum().backward(inputs=[tw, th])
    assert_close(w.grad, tw.grad.numpy())
    assert_close(h.grad, th.grad.numpy())
    assert x.grad is None and b.grad is None and tx.grad is None and tb.grad is None


def test_inputs_may_be_any_iterable_of_tensors_as_model_parameters_are():
    """PyTorch scripts pass ``model.parameters()``, a generator, to ``grad`` and to ``backward(inputs=...)``."""
    layer = tinygen.nn.Linear(2, 1, dtype=tinygen.float64)
    x = random_tensor((3, 2), seed=51, requires_grad=False)
    expected = tinygen.grad(layer(x).sum(), list(layer.parameters()))
    got = tinygen.grad(layer(x).sum(), layer.parameters())
    layer(x).sum().backward(inputs=layer.parameters())
    for want, gradient, parameter in zip(expected, got, layer.parameters()):
        assert_close(gradient, host(want))
        assert_close(parameter.grad, host(want))
