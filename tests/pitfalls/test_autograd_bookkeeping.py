"""Autograd bookkeeping pitfalls: accumulation, zeroing, shared nodes, deep graphs, constants, broadcasting,
in-place changes and views."""
import numpy as np
import pytest

import tinygen

from helpers import host, random_tensor


# --- accumulation and zeroing ----------------------------------------------------------------------------

def test_backward_twice_with_retain_graph_accumulates_exactly_twice():
    """Engines in the micrograd style keep each intermediate node's gradient in the node (``h.grad += ...``) and
    never clear it: a second backward re-sends the first call's intermediate gradients too, so the leaves get 3x
    (or more) instead of 2x. tinygen keeps intermediate gradients in a dict local to one backward call."""
    x = random_tensor((3,), seed=1)
    h = x.exp()
    y = (h * h + h).sum()           # h used twice, so a stale h.grad would be re-sent
    y.backward(retain_graph=True)
    once = host(x.grad).copy()
    np.testing.assert_allclose(once, 2 * np.exp(2 * host(x)) + np.exp(host(x)))
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(host(x.grad), 2 * once)
    y.backward()
    np.testing.assert_array_equal(host(x.grad), 3 * once)


class _Net(tinygen.nn.Module):
    """Parameters at several depths: a nested Sequential with batch norm, a ModuleList, and one shared layer."""

    def __init__(self):
        super().__init__()
        nn = tinygen.nn
        self.shared = nn.Linear(3, 3)
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.Linear(4, 3)))
        self.heads = nn.ModuleList([self.shared, nn.Linear(3, 1)])

    def forward(self, x):
        return self.heads[1](self.heads[0](self.body(self.shared(x))))


def _backward(net):
    net(tinygen.randn(5, 3)).sum().backward()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_on_the_module_and_on_the_optimizer_clears_every_parameter(set_to_none):
    """Forgetting a parameter (one in a nested container, a layer shared by two branches, a second parameter
    group) lets its gradient grow across steps. Both zero_grads walk every parameter; the next backward then
    gives exactly one step's gradient."""
    tinygen.manual_seed(0)
    net = _Net()
    parameters = list(net.parameters())
    assert len(parameters) == 10
    half = len(parameters) // 2
    optimizer = tinygen.optim.SGD([{"params": parameters[:half]}, {"params": parameters[half:], "lr": 0.5}], lr=0.1)
    for clear in (net.zero_grad, optimizer.zero_grad):
        tinygen.manual_seed(1)
        _backward(net)
        one_step = [host(p.grad).copy() for p in parameters]
        _backward(net)
        clear(set_to_none=set_to_none)
        for parameter in parameters:
            if set_to_none:
                assert parameter.grad is None
            else:
                assert not host(parameter.grad).any()
        tinygen.manual_seed(1)
        _backward(net)
        for parameter, expected in zip(parameters, one_step):
            np.testing.assert_array_equal(host(parameter.grad), expected)
        net.zero_grad()


def test_zeroing_a_gradient_kept_for_a_penalty_does_not_change_the_penalty():
    """With create_graph=True a parameter's .grad is part of a graph, and a gradient penalty may hold it. Zeroing
    it in place (``optimizer.zero_grad(set_to_none=False)`` wrote zeros into the array) silently zeroed the
    penalty's saved values too. Both zero_grads now put fresh zeros in .grad."""
    w = random_tensor((3,), seed=2)
    optimizer = tinygen.optim.SGD([w], lr=0.1)
    (w ** 3).sum().backward(create_graph=True)
    gradient = w.grad                   # 3 w^2, recorded
    penalty = (gradient * gradient).sum()
    optimizer.zero_grad(set_to_none=False)
    assert not host(w.grad).any()
    (dpenalty,) = tinygen.grad(penalty, [w])
    np.testing.assert_allclose(host(dpenalty), 36 * host(w) ** 3)   # d/dw sum 9 w^4


def test_intermediate_tensors_keep_no_stale_gradient_between_iterations():
    """A non-leaf tensor gets no .grad (unless retain_grad()), and a retained one holds this iteration's gradient,
    not the sum over iterations. An intermediate reused from an earlier iteration cannot hand back a stale
    gradient: its graph was freed, and backward says so."""
    w = random_tensor((3,), seed=3)
    for step in range(3):
        hidden = w * float(step + 1)
        kept = hidden.tanh()
        kept.retain_grad()
        (kept * kept).sum().backward()
        assert hidden.grad is None
        np.testing.assert_allclose(host(kept.grad), 2 * np.tanh(host(w) * (step + 1)))
        w.grad = None
    stale = w * 2.0
    stale.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        stale.sum().backward()


# --- graph structure ---------------------------------------------------------------------------------------

def test_a_node_used_several_times_gets_the_sum_of_its_gradients():
    """y = x * x + x sends x three gradients; an engine that stores instead of adding (``x.grad = g``) keeps one."""
    x = random_tensor((3,), seed=6)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * host(x) + 1)
    a = random_tensor((2, 2), seed=7)
    left, right = a.exp(), a.tanh()         # a feeds two branches that meet again
    (left * right).sum().backward()
    expected = np.exp(host(a)) * np.tanh(host(a)) + np.exp(host(a)) / np.cosh(host(a)) ** 2
    np.testing.assert_allclose(host(a.grad), expected)


def test_each_node_backpropagates_once_however_many_paths_reach_it(monkeypatch):
    """A recursive engine that backpropagates along every path (``for parent: parent.backward(g)``) walks a chain of
    diamonds once per path: 2**40 walks here, effectively forever, and it sends partial gradients through shared
    nodes before they are complete. tinygen orders the nodes topologically and calls each backward exactly once,
    with its summed gradient."""
    from tinygen.ops.arithmetic import Add, Mul, MulConstant

    calls = {}
    for op in (Add, Mul, MulConstant):
        original = op.backward

        def counted(node, g, original=original):
            calls[node] = calls.get(node, 0) + 1
            return original(node, g)

        monkeypatch.setattr(op, "backward", counted)
    x = tinygen.ones(2, dtype=tinygen.float64, requires_grad=True)
    y, nodes = x, []
    for _ in range(40):
        left, right = y * 0.25, y * 0.75
        y = left + right
        nodes += [left.grad_fn, right.grad_fn, y.grad_fn]
    y.sum().backward()
    assert set(calls) == set(nodes) and set(calls.values()) == {1}
    np.testing.assert_allclose(host(x.grad), [1.0, 1.0])


def test_graphs_deeper_than_the_recursion_limit_run_forward_and_backward():
    """Recursive topological sorts and recursive backward walks die with RecursionError (or crash the interpreter)
    past about a thousand ops: an RNN unrolled over a long sequence is enough. tinygen's walk is iterative, for
    the first derivative, for a recorded backward (create_graph), and when the graph is freed."""
    import sys

    depth = max(10_000, 3 * sys.getrecursionlimit())
    x = random_tensor((2,), seed=8)
    y = x
    for step in range(depth):
        y = y * 1.0001 if step % 2 else y + 0.001
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.0001 ** (depth // 2)] * 2)
    x.grad = None

    y = x
    for _ in range(depth // 2):
        y = y * 1.0
    (gradient,) = tinygen.grad((y * y).sum(), [x], create_graph=True)
    gradient.sum().backward()          # d/dx sum 2x = 2
    np.testing.assert_allclose(host(x.grad), [2.0, 2.0])
    del y, gradient                    # freeing a deep graph must not recurse either


def test_two_equal_constants_are_two_nodes():
    """An engine that interns constants by value, or keys its gradient table by value (``__eq__``/``__hash__`` on
    the numbers), merges two tensors that merely hold the same number, and each gets both gradients. tinygen
    tensors hash by identity: equal values stay separate nodes with separate gradients."""
    a = tinygen.tensor(3.0, dtype=tinygen.float64, requires_grad=True)
    b = tinygen.tensor(3.0, dtype=tinygen.float64, requires_grad=True)
    (a * b * 2.0 + a * 2.0).backward()
    assert a.grad.item() == 2 * 3.0 + 2.0 and b.grad.item() == 2 * 3.0
    assert len({a, b}) == 2
    first, second = tinygen.nn.Linear(2, 1), tinygen.nn.Linear(2, 1)
    for layer in (first, second):
        tinygen.nn.init.zeros_(layer.weight)   # equal weights: a by-value table would merge them
    (first(tinygen.ones(1, 2)) + 3 * second(tinygen.ones(1, 2))).sum().backward()
    assert host(first.weight.grad).tolist() == [[1.0, 1.0]] and host(second.weight.grad).tolist() == [[3.0, 3.0]]


# --- broadcasting --------------------------------------------------------------------------------------------

def _sum_to(array, shape):
    """NumPy reference: add up ``array`` over the dimensions that broadcasting added or stretched from 1."""
    lead = array.ndim - len(shape)
    array = array.sum(axis=tuple(range(lead))) if lead else array
    stretched = tuple(axis for axis, extent in enumerate(shape) if extent == 1 and array.shape[axis] != 1)
    return array.sum(axis=stretched, keepdims=True) if stretched else array


BINARY = {  # op, and (dz/da, dz/db) in NumPy
    "add": (lambda a, b: a + b, lambda a, b: (np.ones_like(a + b), np.ones_like(a + b))),
    "sub": (lambda a, b: a - b, lambda a, b: (np.ones_like(a + b), -np.ones_like(a + b))),
    "mul": (lambda a, b: a * b, lambda a, b: (b + 0 * a, a + 0 * b)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b + 0 * a, -a / b**2)),
    "maximum": (lambda a, b: tinygen.maximum(a, b) if isinstance(a, tinygen.Tensor) else np.maximum(a, b),
                lambda a, b: ((a > b) + 0.0 * b, (a < b) + 0.0 * a)),
}
SHAPE_PAIRS = [((3, 1), (1, 4)), ((1, 4), (3, 1)), ((4,), (2, 3, 4)), ((2, 3, 4), (4,)), ((), (2, 3)),
               ((2, 1, 3), (5, 1)), ((0,), (1,)), ((1,), (0,)), ((2, 0), (2, 1)), ((0, 3), (3,)), ((), (0,))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=lambda pair: f"{pair[0]}-{pair[1]}")
def test_broadcast_gradients_have_each_inputs_shape_and_the_summed_values(name, shapes):
    """When an input was broadcast, each of its entries fed several outputs and its gradient is the sum over
    them. Engines get this wrong in several ways: the gradient keeps the broadcast shape (and an optimizer step
    broadcasts the parameter to a bigger shape), only the left operand is reduced, size-1 dims are reduced but
    missing leading dims are not, or a size-0 dim crashes the reduction. Here both directions, size-1 and size-0
    dims, against NumPy."""
    op, derivatives = BINARY[name]
    rng = np.random.default_rng(9)
    a_values = rng.uniform(0.5, 2.0, shapes[0]) * rng.choice([-1, 1], shapes[0])
    b_values = rng.uniform(0.5, 2.0, shapes[1]) * rng.choice([-1, 1], shapes[1])
    a = tinygen.tensor(a_values, dtype=tinygen.float64, requires_grad=True)
    b = tinygen.tensor(b_values, dtype=tinygen.float64, requires_grad=True)
    out = op(a, b)
    upstream = rng.standard_normal(out.shape)
    out.backward(tinygen.tensor(upstream, dtype=tinygen.float64))
    np.testing.assert_allclose(host(out), op(a_values, b_values))
    da, db = derivatives(a_values, b_values)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    np.testing.assert_allclose(host(a.grad), _sum_to(upstream * da, shapes[0]), atol=1e-12)
    np.testing.assert_allclose(host(b.grad), _sum_to(upstream * db, shapes[1]), atol=1e-12)


@pytest.mark.parametrize("reduce", [
    lambda x: x.sum(1), lambda x: x.mean(1), lambda x: x.amax(1), lambda x: x.amin(1), lambda x: x.logsumexp(1),
    lambda x: x.softmax(1).sum(1), lambda x: x.max(1).values, lambda x: x @ tinygen.ones(3, 2, dtype=tinygen.float64),
], ids=["sum", "mean", "amax", "amin", "logsumexp", "softmax", "max", "matmul"])
def test_an_empty_batch_flows_through_reductions_over_other_dims(reduce):
    """A batch of zero samples (the last, empty chunk of a split; a mask that selects nothing) has shape (0, 3):
    reducing over the 3 is well defined and gives shape (0,). amax/amin refused any tensor with no elements."""
    x = tinygen.zeros(0, 3, dtype=tinygen.float64, requires_grad=True)
    out = reduce(x)
    assert out.shape[0] == 0
    out.sum().backward()
    assert x.grad.shape == (0, 3)


# --- in-place changes of what the backward reads ---------------------------------------------------------

def _clean_and_mutated_gradients(forward, make_constant, mutate):
    """x.grad for ``forward(x, constant)``, once untouched and once with ``mutate(constant)`` run between the
    forward and the backward. The mutated run may raise instead (that is the other correct outcome)."""
    grads = []
    for change in (False, True):
        x = random_tensor((4,), seed=3)
        constant = make_constant()
        y = forward(x, constant)
        if change:
            mutate(constant)
        y.backward(tinygen.tensor([1.0, 2.0, 3.0, 4.0], dtype=tinygen.float64)[:y.shape[0]])
        grads.append(host(x.grad))
    return grads


def _mask():
    return tinygen.tensor([True, False, True, False])


def _index():
    return tinygen.tensor([0, 1, 2, 3])


@pytest.mark.parametrize("forward, make_constant, mutate", [
    (lambda x, mask: tinygen.where(mask, x, 0.0), _mask, lambda mask: mask.fill_(False)),
    (lambda x, mask: x.masked_fill(mask, 0.0), _mask, lambda mask: mask.fill_(False)),
    (lambda x, index: x.gather(0, index), _index, lambda index: index.fill_(0)),
    (lambda x, index: x[index], _index, lambda index: index.fill_(0)),
], ids=["where-condition", "masked_fill-mask", "gather-index", "advanced-index"])
def test_changing_a_mask_or_index_in_place_after_the_forward_cannot_corrupt_the_gradient(forward, make_constant,
                                                                                          mutate):
    """An engine that keeps a reference to the caller's mask or index array (not a copy, and no version check)
    routes the gradient by whatever the array holds at backward time: reuse the mask buffer for the next batch
    and the gradient silently goes to the wrong entries. tinygen's where, masked_fill, gather and advanced
    indexing keep private copies, so the gradient is the one of the forward that ran."""
    clean, mutated = _clean_and_mutated_gradients(forward, make_constant, mutate)
    np.testing.assert_array_equal(mutated, clean)


# --- views -----------------------------------------------------------------------------------------------

VIEWS = {  # the ops docs/tensors.md lists as returning views
    "reshape": lambda base: base.reshape(3, 2),
    "view": lambda base: base.view(6),
    "transpose": lambda base: base.transpose(0, 1),
    "permute": lambda base: base.permute(1, 0),
    "T": lambda base: base.T,
    "squeeze": lambda base: base[None].squeeze(0),
    "unsqueeze": lambda base: base.unsqueeze(1),
    "flatten": lambda base: base.flatten(),
    "detach": lambda base: base.detach(),
    "basic-indexing": lambda base: base[1:, 0],
}
COPIES = {
    "advanced-indexing": lambda base: base[[0, 1]],
    "mask-indexing": lambda base: base[base > 2],
    "clone": lambda base: base.clone(),
    "reshape-after-transpose": lambda base: base.T.reshape(6),
    "contiguous-after-transpose": lambda base: base.T.contiguous(),
    "arithmetic": lambda base: base * 1.0,
    "cat-of-one": lambda base: tinygen.cat([base]),
    "stack-of-one": lambda base: tinygen.stack([base]),
}


@pytest.mark.parametrize("make", VIEWS.values(), ids=VIEWS.keys())
def test_views_share_memory_and_the_version_counter_as_documented(make):
    """A view and its base are one memory: writing through the view changes the base, and the base's version
    moves with it, so an op that saved the base notices. docs/tensors.md lists these ops; this keeps it true."""
    base = tinygen.arange(6.0).reshape(2, 3)
    view = make(base)
    view.fill_(-1.0)
    assert (host(base) == -1.0).any()
    assert base._version[0] == 1


@pytest.mark.parametrize("make", COPIES.values(), ids=COPIES.keys())
def test_copies_have_their_own_memory_and_version_counter(make):
    """The other half of the docs' promise: these make new memory. A reshape that has to copy (after a transpose)
    used to share the input's version counter anyway, so writing into the copy made a later backward through the
    untouched input fail with a false 'modified in place' error; cat and stack of a single tensor returned the
    tensor itself (or a view of it), so writing into the 'new' batch changed the original."""
    base = tinygen.arange(6.0).reshape(2, 3)
    copy = make(base)
    copy.fill_(-1.0)
    assert not (host(base) == -1.0).any()
    assert base._version[0] == 0

    x = random_tensor((2, 3), seed=4)
    h = x.exp()                 # Exp saves its output h
    y = h.T.reshape(6)          # a copy of h
    y.detach().fill_(0.0)
    (h.sum() + y.sum()).backward()  # h is intact: no error, and the right gradient
    np.testing.assert_allclose(host(x.grad), 2 * np.exp(host(x)))


def test_changing_a_saved_tensor_through_a_view_raises_instead_of_a_wrong_gradient():
    """Writing through a view changes the base in memory; an engine that tracks versions per tensor object (not
    per memory) misses it and backpropagates with the new values."""
    weight = tinygen.ones(2, 3, dtype=tinygen.float64)
    x = random_tensor((2, 3), seed=5)
    y = (x * weight).sum()
    weight.T[0].fill_(5.0)
    with pytest.raises(RuntimeError, match=r"Mul: input 1 .* modified in place"):
        y.backward()


def test_changing_a_saved_tensor_through_data_is_unseen_as_in_pytorch_and_detach_is_the_safe_spelling():
    """``.data`` is PyTorch's escape hatch: a tensor with a version counter of its own, so a change through it
    is not caught and the backward reads the new values (what PyTorch does; scripts clip weights with it).
    ``detach()`` shares the counter, so the same change through it raises."""
    weight = tinygen.ones(3, dtype=tinygen.float64)
    x = random_tensor((3,), seed=6)
    y = (x * weight).sum()
    weight.data.fill_(5.0)
    y.backward()
    np.testing.assert_allclose(host(x.grad), [5.0, 5.0, 5.0])  # the new weight, silently
    y = (x * weight).sum()
    weight.detach().fill_(1.0)
    with pytest.raises(RuntimeError, match=r"Mul: input 1 .* modified in place"):
        y.backward()


@pytest.mark.parametrize("write", [
    lambda view: view.fill_(1.0), lambda view: view.add_(1.0), lambda view: view.__setitem__(0, 1.0),
], ids=["fill_", "add_", "setitem"])
def test_writing_into_a_broadcast_view_is_a_clear_error_on_every_device(write):
    """expand/broadcast_to repeat one memory location along a dimension. NumPy marks such arrays read-only, CuPy
    does not: an engine passing the write through adds 1 to the base once per repeat on the GPU and raises a bare
    NumPy 'read-only' error on the CPU. tinygen refuses on every device and says to clone()."""
    base = tinygen.zeros(1, 3)
    with pytest.raises(RuntimeError, match=r"broadcast view .* clone\(\) it first"):
        write(base.expand(4, 3))
    assert host(base).tolist() == [[0.0, 0.0, 0.0]]
    expanded = base.expand(4, 3).clone()
    expanded.add_(1.0)
    assert host(expanded).sum() == 12.0


F = tinygen.nn.functional
SAVING_OPS = {  # ops whose backward reads their input or their output
    "mul": lambda h: h * h, "div": lambda h: 1.0 / h, "pow": lambda h: h ** 3, "exp": lambda h: h.exp(),
    "log": lambda h: h.abs().log(), "sqrt": lambda h: h.abs().sqrt(), "tanh": lambda h: h.tanh(),
    "sigmoid": lambda h: h.sigmoid(), "relu": lambda h: h.relu(), "leaky_relu": lambda h: F.leaky_relu(h, 0.2),
    "elu": lambda h: F.elu(h), "softplus": lambda h: F.softplus(h), "abs": lambda h: h.abs(),
    "clamp": lambda h: h.clamp(-0.5, 0.5), "maximum": lambda h: tinygen.maximum(h, h * 0.5),
    "softmax": lambda h: h.softmax(1), "log_softmax": lambda h: h.log_softmax(1), "logsigmoid": F.logsigmoid,
    "logsumexp": lambda h: h.logsumexp(1), "amax": lambda h: h.amax(1), "var": lambda h: h.var(1),
    "matmul": lambda h: h @ h.T, "linear": lambda h: F.linear(h, h), "batch_norm": lambda h: F.batch_norm(
        h, None, None, training=True), "conv2d": lambda h: F.conv2d(h.reshape(1, 1, 3, 3), h.reshape(1, 1, 3, 3)),
    "bce_with_logits": lambda h: F.binary_cross_entropy_with_logits(h, h.sigmoid().detach(), reduction="none"),
}


def _run_with_change(op, change):
    """dL/dx for L = <r, op(x * 1)>, where ``change`` may edit the non-leaf input or the output in place
    (through .detach(), which shares memory and the version counter) between the forward and the backward."""
    x = random_tensor((3, 3), seed=10)
    hidden = x * 1.0
    out = op(hidden)
    if change == "input":
        hidden.detach().add_(0.5)
    elif change == "output":
        out.detach().mul_(2.0)
    out.backward(tinygen.tensor(np.random.default_rng(11).standard_normal(out.shape), dtype=tinygen.float64))
    return host(x.grad)


@pytest.mark.parametrize("change", ["input", "output"])
@pytest.mark.parametrize("op", SAVING_OPS.values(), ids=SAVING_OPS.keys())
def test_changing_a_saved_input_or_output_in_place_raises_or_leaves_the_gradient_right(op, change):
    """Ops that keep a reference to an input or output for their backward compute a wrong gradient if it changes
    in place in between (``h += 1`` after ``y = h.exp()``), with no error: the classic silent bug of engines
    without a version counter. In tinygen every op either catches the change (a clear RuntimeError) or does not
    read the changed values (the gradient is the untouched one)."""
    clean = _run_with_change(op, None)
    try:
        changed = _run_with_change(op, change)
    except RuntimeError as error:
        assert "modified in place" in str(error)
        return
    np.testing.assert_allclose(changed, clean)
