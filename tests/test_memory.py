"""Memory: a training loop runs in constant memory, because each step's graph is released.

* Over many training steps of every model family (after a warm-up that creates the optimizer state), the NumPy
  memory that is alive between steps (tracemalloc's NumPy domain) does not change by a byte, and no graph node
  or extra tensor survives a step.
* After ``backward()``, the tensors and arrays a graph saved are freed at once (by reference counting, with the
  garbage collector off), even while ``loss`` itself is kept; with ``retain_graph=True`` they stay; dropping the
  last reference to an output frees its whole graph, backward or not; a gradient penalty's double-backward graph
  goes too.
"""
import contextlib
import gc
import tracemalloc
import weakref

import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen import nn
from tinygen.autograd import Function
from tinygen.training import TrainConfig, build_recipe

NUMPY_DOMAIN = 389047  # tracemalloc domain of NumPy's array buffers (numpy/_core/include/numpy/ndarraytypes.h)


def numpy_bytes():
    """Bytes of NumPy array buffers allocated since tracemalloc started and still alive."""
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, NUMPY_DOMAIN)])
    return sum(trace.size for trace in snapshot.traces)


def live_objects():
    """(graph nodes, tensors) the garbage collector can see."""
    objects = gc.get_objects()
    return sum(isinstance(o, Function) for o in objects), sum(isinstance(o, tinygen.Tensor) for o in objects)


@contextlib.contextmanager
def tracing():
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


# (model, batch size, steps measured): training loops under tracemalloc, 3-30 s each, so end-to-end and slow; the
# graph-lifetime tests below stay in the quick run
LOOPS = [
    pytest.param("gan", 8, 50, marks=pytest.mark.slow),
    pytest.param("wgan-gp", 2, 30, marks=pytest.mark.slow),  # a double backward (the gradient penalty) every step
    pytest.param("dcgan", 2, 20, marks=pytest.mark.slow),
    pytest.param("vae", 16, 60, marks=pytest.mark.slow),
    pytest.param("toy", 64, 100, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("model, batch, steps", LOOPS)
def test_a_long_training_loop_runs_in_constant_memory(model, batch, steps):
    tinygen.manual_seed(0)
    recipe = build_recipe(TrainConfig(model=model, progress=False))
    real = tinygen.rand(*((batch, 2) if model == "toy" else (batch, 1, 28, 28)))
    recipe.prepare(real)  # the DCGAN's clusters
    with tracing():
        for _ in range(10):  # warm-up, traced: every array alive between steps is replaced at least once
            recipe.train_step(real)
        gc.collect()  # count what is alive, not what waits for the collector (its timing varies between runs)
        baseline, objects = numpy_bytes(), live_objects()
        for _ in range(steps):
            recipe.train_step(real)
        gc.collect()
        growth = numpy_bytes() - baseline
    assert objects[0] == 0, "graph nodes outlived their step"
    assert growth == 0, f"{growth} bytes of NumPy arrays accumulated over {steps} steps"
    assert live_objects() == objects


# --- what a graph keeps, and for how long -------------------------------------------------------------------------

@pytest.fixture
def no_garbage_collector():
    """Refcounting alone must free graphs: a cycle would keep activations until the collector runs."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def small_graph():
    """loss = sum(tanh(x @ w) * (x @ w)), and weak references to its intermediate tensors and arrays, all of which
    the graph holds until backward (Mul saves both its inputs, Tanh its output)."""
    x = tinygen.randn(8, 4, requires_grad=True)
    w = tinygen.randn(4, 16, requires_grad=True)
    before = x @ w
    hidden = before.tanh()
    loss = (hidden * before).sum()
    intermediates = [weakref.ref(t) for t in (before, hidden)] + [weakref.ref(t.array) for t in (before, hidden)]
    nodes = [weakref.ref(t.grad_fn) for t in (before, hidden, loss)]
    return (x, w), loss, intermediates, nodes


def alive(references):
    return [reference() is not None for reference in references]


def test_backward_frees_what_the_graph_saved_even_while_loss_is_kept(no_garbage_collector):
    _, loss, intermediates, nodes = small_graph()
    assert all(alive(intermediates)), "before backward the graph holds its saved tensors"
    loss.backward()
    assert not any(alive(intermediates)), "after backward nothing saved may stay alive"
    for reference in nodes:  # the nodes themselves stay while loss does (as in PyTorch), emptied
        node = reference()
        assert node is not None and node._freed and node._saved is None and node._output is None
        assert not node.__dict__


def test_retain_graph_keeps_the_saved_tensors_until_the_last_backward(no_garbage_collector):
    (x, _), loss, intermediates, _ = small_graph()
    loss.backward(retain_graph=True)
    assert all(alive(intermediates)), "retain_graph must keep what the graph saved"
    loss.backward()
    assert not any(alive(intermediates))


def test_dropping_the_output_frees_the_whole_graph_without_backward(no_garbage_collector):
    leaves, loss, intermediates, nodes = small_graph()
    del loss
    assert not any(alive(intermediates)) and not any(alive(nodes))
    assert all(leaf.grad is None for leaf in leaves)


def graph_nodes(output):
    """Weak references to every node of ``output``'s graph (for a penalty, the recorded first backward too)."""
    nodes, stack, seen = [], [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            nodes.append(weakref.ref(node))
            stack.extend(edge for edge in node.next_edges if isinstance(edge, Function))
    return nodes


def test_a_gradient_penalty_releases_its_double_backward_graph(no_garbage_collector):
    critic = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    real, fake = tinygen.randn(6, 4), tinygen.randn(6, 4)
    penalty = F.gradient_penalty(critic, real, fake)
    nodes = graph_nodes(penalty)
    assert len(nodes) >= 10
    penalty.backward()
    del penalty
    assert not any(alive(nodes)), f"{sum(alive(nodes))} of {len(nodes)} nodes survived the penalty's backward"
    assert critic[0].weight.grad is not None and critic[2].weight.grad is not None


def test_a_training_step_leaves_only_parameters_gradients_and_optimizer_state(no_garbage_collector):
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = tinygen.optim.Adam(model.parameters(), lr=1e-3)
    x = tinygen.randn(16, 4)

    def step():
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return weakref.ref(loss.grad_fn)

    step()
    before = live_objects()
    node = step()
    assert node() is None, "the step's graph outlived the step"
    assert live_objects() == before
