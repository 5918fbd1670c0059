"""Tracing a backward pass (tinygen/autograd/trace.py): the order is topological, the recorded gradients are the
ones the engine computed, tracing changes no result, an inactive trace costs nothing, and the edge cases
(no pass, two passes, a walk that fails, nested traces) behave and say so clearly."""
import sys

import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.autograd import trace
from tinygen.autograd import trace as trace_function
from tinygen.autograd.function import Function
from tinygen.autograd.trace import _Tracing
from tinygen.viz import save_trace_page

from helpers import assert_close, host, random_tensor

TRACE_FILE = sys.modules["tinygen.autograd.trace"].__file__


def small_model_loss(seed=0):
    """A 2-layer MLP with batch norm on a fixed batch: a graph with reuse, broadcasting and several leaves."""
    tinygen.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2)).double()
    x = random_tensor((4, 3), seed=seed + 1, requires_grad=False)
    out = model(x)
    return model, (out * out).mean() + out.sum() * 0.1


def assert_topological(visits):
    """Each node is visited once, and after every node that consumes its output."""
    position = {visit.node: index for index, visit in enumerate(visits)}
    assert len(position) == len(visits), "a node was visited twice"
    for index, visit in enumerate(visits):
        for edge in visit.inputs:
            if isinstance(edge, Function) and edge in position:
                assert position[edge] > index, f"{edge.name} was visited before its consumer {visit.name}"


def test_visits_follow_a_topological_order_and_end_in_the_leaves():
    model, loss = small_model_loss()
    with trace() as t:
        loss.backward()
    assert_topological(t.visits)
    assert t.visits[0].node is loss.grad_fn
    assert len(t.passes) == 1 and t.passes[0].complete and t.passes[0].kind == "backward"
    assert {id(leaf) for leaf, _, _ in t.leaves} == {id(p) for p in model.parameters()}
    assert all(visit.seconds >= 0 for visit in t.visits)


def test_recorded_gradients_are_the_engines():
    """Leaves: the recorded gradient is .grad. Nodes: the gradient a node gets is the sum of what its consumers
    sent it (accumulation at a reused node), and the seed is 1."""
    model, loss = small_model_loss()
    with trace() as t:
        loss.backward()
    for leaf, summary, onto_existing in t.leaves:
        assert not onto_existing
        assert_close(summary.tensor, leaf.grad)
        assert summary.norm == pytest.approx(float(np.linalg.norm(host(leaf.grad))))
        assert summary.min == pytest.approx(float(host(leaf.grad).min()))
        assert summary.finite
    assert t.passes[0].seeds[0].values == [1.0]
    sent = {}
    for visit in t.visits:
        for edge, summary in zip(visit.inputs, visit.grads_out):
            if summary is not None:
                sent.setdefault(edge, []).append(host(summary.tensor))
    reused = 0
    for visit in t.visits[1:]:
        contributions = sent[visit.node]
        reused += len(contributions) > 1
        assert_close(visit.grad_in.tensor, sum(contributions))
    assert reused, "the test graph should have a node used twice"


def test_tracing_changes_no_result():
    model, loss = small_model_loss()
    loss.backward()
    expected = [host(p.grad) for p in model.parameters()]
    model, loss = small_model_loss()
    with trace():
        loss.backward()
    for parameter, value in zip(model.parameters(), expected):
        assert np.array_equal(host(parameter.grad), value)


def test_grad_with_create_graph_is_traced_and_the_double_backward_visits_the_backwards_own_ops():
    x = random_tensor((3,), seed=3)
    with trace() as t:
        (first,) = tinygen.grad((x ** 3).sum(), [x], create_graph=True)   # 3 x^2
        first.sum().backward()                                            # 6 x
    assert len(t.passes) == 2
    gradient_pass, double_pass = t.passes
    assert (gradient_pass.kind, gradient_pass.create_graph) == ("grad", True)
    assert (double_pass.kind, double_pass.create_graph) == ("backward", False)
    assert_close(gradient_pass.leaves[0][1].tensor, 3 * host(x) ** 2)
    assert_close(double_pass.leaves[0][1].tensor, 6 * host(x))
    first_nodes = {visit.node for visit in gradient_pass.visits}
    made_by_the_backward = [visit.node for visit in double_pass.visits if visit.node not in first_nodes]
    assert made_by_the_backward, "the double backward walks ops that the first backward recorded"


def test_an_inactive_trace_costs_no_call_and_no_clock(monkeypatch):
    """With no trace active the engine calls nothing in trace.py and reads no clock; active, it does both
    (so this test can fail)."""
    calls = []

    def profile(frame, event, argument):
        if event == "call" and frame.f_code.co_filename == TRACE_FILE:
            calls.append(frame.f_code.co_name)

    clock_reads = []
    real_clock = sys.modules["tinygen.autograd.trace"].time.perf_counter
    monkeypatch.setattr(sys.modules["tinygen.autograd.trace"].time, "perf_counter",
                        lambda: clock_reads.append(1) or real_clock())

    def profiled(walk):
        sys.setprofile(profile)
        try:
            walk()
        finally:
            sys.setprofile(None)

    def run_backward_and_grad():
        _, loss = small_model_loss()
        profiled(loss.backward)
        model, loss = small_model_loss()
        profiled(lambda: tinygen.grad(loss, list(model.parameters()), create_graph=True))

    assert _Tracing.active is None
    run_backward_and_grad()
    assert calls == [] and clock_reads == []
    with trace():
        run_backward_and_grad()
    assert "visited" in calls and "begin_pass" in calls and clock_reads


def test_a_trace_left_open_over_two_backward_calls_holds_two_passes():
    x = random_tensor((3,), seed=4)
    with trace() as t:
        (x * x).sum().backward()
        (x * x).sum().backward()
    assert len(t.passes) == 2 and all(walk.complete for walk in t.passes)
    assert [onto for _, _, onto in t.passes[0].leaves] == [False]
    assert [onto for _, _, onto in t.passes[1].leaves] == [True]   # the second adds onto .grad
    assert_close(x.grad, 4 * host(x))
    with pytest.raises(RuntimeError, match=r"2 backward passes were recorded .* t.passes\[0\].visits"):
        t.visits


def test_a_trace_with_no_backward_says_so():
    with trace() as t:
        pass
    with pytest.raises(RuntimeError, match="no backward pass was recorded: call loss.backward()"):
        t.visits
    with pytest.raises(RuntimeError, match="save_trace_page: the trace recorded no backward pass"):
        save_trace_page(t, "never-written.html")


def test_a_walk_that_fails_is_kept_and_marked_and_the_trace_closes():
    x = random_tensor((3,), seed=5)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        with trace() as t:
            loss.backward()   # the graph was freed by the first backward
    assert _Tracing.active is None
    (walk,) = t.passes
    assert not walk.complete and "backward through the graph a second time" in walk.error
    assert "stopped" in repr(walk)


def test_traces_do_not_nest():
    with trace() as outer:
        with pytest.raises(RuntimeError, match="a trace is already recording"):
            with trace():
                pass
        assert _Tracing.active is outer
    assert _Tracing.active is None


def test_keep_gradients_false_keeps_only_the_numbers():
    x = random_tensor((3,), seed=6)
    with trace(keep_gradients=False) as t:
        (x * 2).sum().backward()
    assert t.visits[0].grad_in.tensor is None and t.leaves[0][1].tensor is None
    assert t.leaves[0][1].values == [2.0, 2.0, 2.0]


def test_a_gradient_that_is_not_finite_is_flagged():
    x = tinygen.tensor([0.0, 4.0], dtype=tinygen.float64, requires_grad=True)
    with np.errstate(divide="ignore"), trace() as t:
        x.sqrt().sum().backward()
    summary = t.leaves[0][1]
    assert not summary.finite and summary.norm == float("inf")
    assert "not finite" in repr(summary)


def test_unreached_inputs_and_inputs_without_grad_record_no_gradient():
    a = random_tensor((2,), seed=7)
    b = random_tensor((2,), seed=8, requires_grad=False)
    c = random_tensor((2,), seed=9)
    with trace() as t:
        tinygen.grad((a * b + c * a).sum(), [c])
    names = [visit.name for visit in t.visits]
    assert names[0] == "Sum" and "Mul" in names
    mul_of_a_and_b = [visit for visit in t.visits if visit.name == "Mul" and visit.inputs[1] is None]
    assert mul_of_a_and_b == [], "a node that leads to no target is not visited by grad()"
    (mul_of_c_and_a,) = [visit for visit in t.visits if visit.name == "Mul"]
    assert mul_of_c_and_a.inputs == (c, a) and mul_of_c_and_a.grads_out[1] is None  # a's gradient: not needed
    assert {id(leaf) for leaf, _, _ in t.passes[0].leaves} == {id(c)}


def test_trace_is_the_function_exported_by_tinygen_autograd():
    assert trace_function is tinygen.autograd.trace and callable(trace_function)
    assert repr(trace()) == "Trace(0 backward passes)"


def test_a_walk_whose_error_is_caught_inside_the_block_keeps_its_error():
    """Probe: a backward error caught inside the `with trace()` block left the pass saying "it did not finish"."""
    x = random_tensor((3,), seed=5)
    loss = (x * x).sum()
    loss.backward()
    with trace() as t:
        with pytest.raises(RuntimeError, match="second time"):
            loss.backward()
        (x * 3.0).sum().backward()  # a later walk in the same block is recorded as usual
    first, second = t.passes
    assert not first.complete and "RuntimeError" in first.error and "second time" in first.error
    assert second.complete and second.error is None


def test_the_leaves_of_a_pass_are_where_its_gradients_went():
    """Probes: after grad(y, [h]) with h = x * 2 a non-leaf, the trace listed x as 'returned by grad()' (with the
    gradient of the wasted MulConstant backward) and not h; a leaf that stopped requiring grad after the forward
    was listed as added to its .grad, which the engine skips."""
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    with trace() as t:
        (gh,) = tinygen.grad(y, [h])
    (walk,) = t.passes
    assert [(leaf, summary.values) for leaf, summary, _ in walk.leaves] == [(h, [4.0, 8.0])]
    assert host(gh).tolist() == [4.0, 8.0]
    assert [visit.name for visit in walk.visits] == ["Sum", "Mul"]  # not h's own MulConstant: nothing needs it
    w = tinygen.tensor([3.0, 4.0], requires_grad=True)
    z = (x * w).sum()
    w.requires_grad_(False)
    with trace() as t:
        z.backward()
    assert [leaf for leaf, _, _ in t.leaves] == [x] and w.grad is None


def test_a_backward_into_given_inputs_is_a_backward_pass_that_lands_only_in_them():
    """``backward(inputs=[w])`` is traced as a "backward" pass (it adds to ``.grad``) whose leaves are its inputs,
    marked as added onto an existing ``.grad`` on the second call; only the nodes leading to them are visited."""
    x, w = tinygen.tensor([1.0, 2.0], requires_grad=True), tinygen.tensor([3.0, 4.0], requires_grad=True)
    loss = ((x * 2) * w).sum()
    with trace() as t:
        loss.backward(inputs=[w], retain_graph=True)
        loss.backward(inputs=[w])
    first, second = t.passes
    assert (first.kind, second.kind) == ("backward", "backward")
    assert [(leaf, summary.values, onto) for leaf, summary, onto in first.leaves] == [(w, [2.0, 4.0], False)]
    assert [(leaf, onto) for leaf, _, onto in second.leaves] == [(w, True)]
    assert [visit.name for visit in first.visits] == ["Sum", "Mul"] and x.grad is None
