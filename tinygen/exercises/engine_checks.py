"""The checks of the engine exercise: the student's ``topological_order`` on graphs the grader builds, then
tinygen's own autograd checks (the cases of tests/test_autograd.py that produce values) run on the student's
engine and compared with tinygen's engine on the same graphs.
"""
import collections
import sys

import tinygen
from tinygen.autograd.function import Function
from tinygen.exercises.engine_harness import EngineMistake
from tinygen.exercises.grading import ExerciseFailure, Hints, attempting, compare, random_tensor, reference_mode

ORDER_ANSWER = ("a depth-first search with your own stack of (node, inputs_done) pairs that appends a node to a "
                "list only after all its inputs (post-order), each node once (a visited set); then reverse the list")
WALK_ANSWER = ("for node in order: skip it if node not in grads; input_grads = call_backward(node, "
               "grads.pop(node)); for each (edge, g) in zip(node.next_edges, input_grads) that are not None: "
               "grads[edge] = grads[edge] + g if edge in grads else g")
ORDER = Hints(
    what="your order visits a node before all the nodes that consume its output, so its backward would run "
         "before its gradient is complete (a plain depth-first visit does this on a diamond)",
    direction="a node may come only after every node that uses its output: think of the order in which a node's "
              "inputs can be finished, then turn it around",
    step="a depth-first search that appends a node only after all of its inputs have been appended (post-order) "
         "lists every input before its consumers; reversed, every consumer comes before its inputs",
    answer=ORDER_ANSWER,
)
COMPLETE = Hints(
    what="your order does not hold every node reachable from the roots exactly once (and nothing else)",
    direction="follow node.next_edges from every root; an entry is a node only if it is a Function (leaf Tensors "
              "and None are not nodes)",
    step="keep a set of visited nodes, so that a node reached along several paths is listed once",
    answer=ORDER_ANSWER,
)
DEEP = Hints(
    what="your topological_order recurses, and Python stops at about 1,000 nested calls: a chain of 10,000 ops "
         "is deeper",
    direction="replace the recursion by a loop over your own stack (a list you push to and pop from)",
    step="push (node, False) to visit a node; when it is popped, push (node, True) and then its inputs; when "
         "(node, True) is popped, all its inputs are done: append the node",
    answer=ORDER_ANSWER,
)
SUM = Hints(
    what="a tensor used several times gets the gradient of only some of its uses: where edges meet, the "
         "gradients must add up",
    direction="when a gradient arrives for a node or leaf that already has one in grads, combine the two",
    step="grads[edge] = grads[edge] + g if edge in grads else g",
    answer=WALK_ANSWER,
)
WALK = Hints(
    what="the gradients your engine computes on this graph differ from tinygen's",
    direction="for each node of the order that has a gradient: take its gradient out of grads, call its backward "
              "once, and send each returned gradient along the matching entry of node.next_edges",
    step="zip(node.next_edges, call_backward(node, grads.pop(node))) pairs each input's edge with its gradient; "
         "skip the pairs where either is None",
    answer=WALK_ANSWER,
)
ONCE = Hints(
    what="your walk calls a node's backward more than once (or without a gradient)",
    direction="each node's backward runs once, with the sum of the gradients of all its consumers, which the order "
              "guarantees have all arrived when the node's turn comes",
    step="take the node's gradient out of grads (grads.pop(node)) and call call_backward with it, once",
    answer=WALK_ANSWER,
)
STRANDED = Hints(
    what="after your walk, gradients are left at nodes whose backward never ran",
    direction="each node's gradient is used up by its backward: take it out of grads when you pass it on",
    step="call_backward(node, grads.pop(node)) removes it and hands it over in one go",
    answer=WALK_ANSWER,
)
MISTAKE_HINTS = {"order": ORDER, "once": ONCE, "stranded": STRANDED}


def _leaf(shape, seed):
    return random_tensor(shape, seed)


def _reachable(roots):
    seen, stack = set(), list(roots)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack += [edge for edge in node.next_edges if isinstance(edge, Function)]
    return seen


def _validate(order, roots, labels, graph):
    name = lambda node: labels.get(node, f"{node.name} with output {tuple(node.output_shape)}")  # noqa: E731
    case = f"topological_order on {graph}"
    if not isinstance(order, (list, tuple)):
        raise ExerciseFailure(f"{case}: it returned {type(order).__name__}, not a list of nodes", COMPLETE, "order")
    for item in order:
        if not isinstance(item, Function):
            raise ExerciseFailure(f"{case}: the order holds a {type(item).__name__}; only nodes (Function objects) "
                                  "belong in it, not leaf Tensors", COMPLETE, "order")
    nodes, counts = _reachable(roots), collections.Counter(order)
    for node in nodes:
        count = counts[node]
        if count != 1:
            raise ExerciseFailure(f"{case}: {name(node)} appears {count} times; every reachable node appears once",
                                  COMPLETE, "order")
    if len(order) != len(nodes):
        raise ExerciseFailure(f"{case}: it holds {len(order)} nodes, but {len(nodes)} are reachable from the roots",
                              COMPLETE, "order")
    position = {node: index for index, node in enumerate(order)}
    for node in order:
        for edge in node.next_edges:
            if isinstance(edge, Function) and position[edge] < position[node]:
                raise ExerciseFailure(
                    f"{case}: it puts {name(edge)} before {name(node)}, which consumes its output. A node must come "
                    f"after every node that uses its output, or its backward runs before its gradient is complete "
                    f"(here {name(edge)} would pass on only part of its gradient)", ORDER, "order")


def check_order(topological_order):
    """The student's order on a diamond, on two roots sharing a subgraph, and on a chain of 10,000 ops."""
    x = _leaf((2,), 1)
    y = x * 2.0
    a, b = y.exp(), y * 3.0
    c = a + b
    labels = {y.grad_fn: "y = x * 2", a.grad_fn: "a = exp(y)", b.grad_fn: "b = y * 3", c.grad_fn: "c = a + b"}
    graph = "a diamond graph (y = x * 2 feeds both a = exp(y) and b = y * 3, which meet in c = a + b)"
    with attempting(f"topological_order on {graph}", ORDER, "order"):
        order = topological_order([c.grad_fn])
    _validate(order, [c.grad_fn], labels, graph)

    w = _leaf((2,), 2)
    shared = x * w
    first, second = shared.tanh(), (shared * shared).sum()
    labels = {shared.grad_fn: "s = x * w", first.grad_fn: "tanh(s)", second.grad_fn: "sum(s * s)"}
    graph = "two roots, tanh(s) and sum(s * s), that share s = x * w"
    with attempting(f"topological_order on {graph}", ORDER, "order"):
        order = topological_order([first.grad_fn, second.grad_fn])
    _validate(order, [first.grad_fn, second.grad_fn], labels, graph)

    chain = x
    for _ in range(10_000):
        chain = chain * 1.0
    graph = "a chain of 10,000 ops (deeper than Python's recursion limit)"
    limit = sys.getrecursionlimit()
    try:
        with attempting(f"topological_order on {graph}", DEEP, "deep"):
            order = topological_order([chain.grad_fn])
    except ExerciseFailure as failure:
        if isinstance(failure.__cause__, RecursionError):
            raise ExerciseFailure(f"topological_order on {graph}: RecursionError (Python allows about {limit} nested "
                                  "calls)", DEEP, "deep") from failure.__cause__
        raise
    _validate(order, [chain.grad_fn], {}, graph)


# --- tinygen's autograd checks, on the student's engine --------------------------------------------------------

CHECKS = []


def _check(description, hints):
    def register(function):
        CHECKS.append((description, hints, function))
        return function

    return register


@_check("y = x * x + x, which uses x three times", SUM)
def _used_several_times():
    x = _leaf((3,), 3)
    (x * x + x).sum().backward()
    return {"x.grad": x.grad}


@_check("a diamond: y = x * 2 feeds exp(y) and y * 3", ORDER)
def _diamond():
    x = _leaf((2, 3), 4)
    y = x * 2.0
    (y.exp() + y * 3.0).sum().backward()
    return {"x.grad": x.grad}


@_check("a chain of 40 diamonds (2^40 paths to x: each node's backward runs once)", ONCE)
def _diamond_chain():
    x = _leaf((2,), 5)
    y = x
    for _ in range(40):
        y = y * 0.5 + y * 0.5
    y.sum().backward()
    return {"x.grad": x.grad}


@_check("a chain of 10,000 ops", DEEP)
def _long_chain():
    x = _leaf((1,), 6)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    y.sum().backward()
    return {"x.grad": x.grad}


@_check("two backward calls accumulate into .grad", WALK)
def _accumulation():
    x = _leaf((3,), 7)
    (x * x).sum().backward()
    (x.tanh() * x).sum().backward()
    return {"x.grad": x.grad}


@_check("tinygen.grad of an intermediate tensor and an unused input", WALK)
def _grad_of_intermediate():
    x, unused = _leaf((3,), 8), _leaf((2,), 9)
    y = x * 3.0
    z = (y * y).sum() + x.sum()
    grad_y, grad_x, grad_unused = tinygen.grad(z, [y, x, unused], allow_unused=True)
    return {"dz/dy": grad_y, "dz/dx": grad_x, "dz/dunused": grad_unused}


@_check("create_graph: the double backward of a gradient penalty", WALK)
def _double_backward():
    x, w = _leaf((4, 3), 10), _leaf((3, 2), 11)
    (gx,) = tinygen.grad((x @ w).tanh().sum(), [x], create_graph=True)
    (((gx * gx).sum(dim=1).sqrt() - 1.0) ** 2).mean().backward()
    return {"w.grad": w.grad, "x.grad": x.grad}


@_check("retain_graph: a second backward through the same graph", WALK)
def _retain_graph():
    x = _leaf((3,), 12)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return {"x.grad": x.grad}


@_check("retain_grad on an intermediate tensor", WALK)
def _retained():
    x = _leaf((2, 2), 13)
    h = x.tanh()
    h.retain_grad()
    (h * h).sum().backward()
    return {"h.grad": h.grad, "x.grad": x.grad}


@_check("two outputs backpropagated together, each with its own upstream gradient", WALK)
def _two_outputs():
    x = _leaf((3,), 14)
    first, second = x * x, x.exp()
    tinygen.autograd.backward([first, second], [random_tensor((3,), 15, requires_grad=False),
                                                random_tensor((3,), 16, requires_grad=False)])
    return {"x.grad": x.grad}


@_check("a small network: linear, relu, linear, cross-entropy", WALK)
def _network():
    x = random_tensor((5, 4), 17, requires_grad=False)
    w1, b1, w2 = _leaf((4, 6), 18), _leaf((6,), 19), _leaf((6, 3), 20)
    logits = (x @ w1 + b1).relu() @ w2
    target = tinygen.tensor([0, 2, 1, 1, 0])
    tinygen.nn.functional.cross_entropy(logits, target).backward()
    return {"w1.grad": w1.grad, "b1.grad": b1.grad, "w2.grad": w2.grad}


def check_engine():
    """Run every check on the student's engine (plugged in by the grader) and on tinygen's: the same values."""
    for description, hints, function in CHECKS:
        with reference_mode():
            expected = function()
        case = f"{description}, on your engine"
        try:
            with attempting(case, hints, f"engine: {description}"):
                got = function()
        except ExerciseFailure as failure:
            mistake = failure.__cause__
            if isinstance(mistake, EngineMistake):
                raise ExerciseFailure(f"{case}: {mistake}", MISTAKE_HINTS[mistake.kind],
                                      f"engine: {mistake.kind}") from mistake
            raise
        for label, value in expected.items():
            mine = got[label]
            if (mine is None) != (value is None):
                raise ExerciseFailure(f"{case}: {label} is {'None' if mine is None else 'a Tensor'}, expected "
                                      f"{'None' if value is None else 'a Tensor'}", hints, f"engine: {description}")
            if value is not None:
                compare(case, mine, value, label, hints, f"engine: {description}")
