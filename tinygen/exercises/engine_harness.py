"""The reverse-mode engine assembled from a student's two functions: the engine exercise.

tinygen's engine (``tinygen.autograd.engine``) backpropagates in two steps: ``topological_order(roots)`` orders
the nodes, then a walk visits them in that order, calls each node's ``backward`` once and routes the gradients
along its ``next_edges``, summing where edges meet. The exercise asks for both:

    topological_order(roots) -> [node, ...]               every node before the nodes it depends on
    backward_walk(order, grads, call_backward) -> None    grads: {node or leaf Tensor: gradient}, updated in place

``student_run_backward(topological_order, backward_walk)`` makes a function with the signature of
``engine.run_backward(outputs, output_grads, retain_graph, create_graph, targets=None)``; the exercise binds it
in place of ``tinygen.autograd.engine.run_backward`` (and so of ``tinygen.autograd.api.run_backward``), and the
student's ``topological_order`` in place of the engine's. Everything that is not the algorithm (the roots'
gradients, pruning for ``grad()``, retained gradients, anomaly mode, freeing the graph, shape checks,
accumulating into ``.grad``) is done here with the engine's own helpers (``engine._store_retained_grad``,
``_nodes_leading_to``, ``_edge_key``, ``_checked_backward``, ``_check_gradient``, ``_accumulate_into_leaves``),
so the student's engine behaves like tinygen's in every other respect. Mistakes of the student's walk that the
engine would never make are stopped with an ``EngineMistake`` that says what happened.
"""
from tinygen.autograd import engine
from tinygen.autograd.anomaly import _AnomalyMode
from tinygen.autograd.function import Function
from tinygen.autograd.grad_mode import set_grad_enabled


class EngineMistake(RuntimeError):
    """The student's order or walk did something the algorithm never does. ``kind``: "order" (a gradient arrived
    after the node's backward had run), "once" (a backward called twice or without a gradient) or "stranded"
    (gradients left at nodes whose backward never ran)."""

    def __init__(self, message, kind):
        super().__init__(message)
        self.kind = kind


class GradientTable(dict):
    """The walk's ``grads``: a dict that refuses a gradient for a node whose backward has already run."""

    def __init__(self, called, *args):
        super().__init__(*args)
        self.called = called

    def __setitem__(self, key, value):
        if key in self.called:
            raise EngineMistake(
                f"a gradient arrived at {key.name} after its backward had run: the order visits a node before all "
                "the nodes that consume its output (on a diamond x -> a, b -> c, x's node must come after both a "
                "and b), so the gradient it passed on was incomplete", "order")
        super().__setitem__(key, value)


class _Walk:
    """One backward pass: ``call_backward`` runs a node's backward with the engine's bookkeeping."""

    def __init__(self, order, targets, retain_graph):
        self.retain_graph = retain_graph
        self.called = set()
        self.captured = {}
        self.target_keys = None if targets is None else {engine._edge_key(t) for t in targets}
        self.useful = None if targets is None else engine._nodes_leading_to(order, self.target_keys)

    def call_backward(self, node, grad):
        if not isinstance(node, Function):
            raise EngineMistake(f"call_backward got {type(node).__name__}, not a node: call it for the nodes of the "
                                "order only (leaf Tensors have no backward)", "once")
        if node in self.called:
            raise EngineMistake(f"{node.name}'s backward was called a second time: each node's backward runs once, "
                                "with the sum of all the gradients of its output", "once")
        if grad is None:
            raise EngineMistake(f"call_backward got no gradient (None) for {node.name}: skip the nodes that no "
                                "gradient reaches", "once")
        self.called.add(node)
        engine._store_retained_grad(node, grad)
        recorded_needs = node.needs_input_grad
        if self.target_keys is not None:
            if node in self.target_keys:
                self.captured[node] = grad
            if node not in self.useful:
                return (None,) * len(node.next_edges)
            node.needs_input_grad = tuple(edge is not None and (edge in self.target_keys or edge in self.useful)
                                          for edge in node.next_edges)
        if node._freed:
            node._check_not_freed()
        try:
            input_grads = node.backward(grad) if not _AnomalyMode.enabled else engine._checked_backward(node, grad)
        finally:
            node.needs_input_grad = recorded_needs
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if not self.retain_graph:
            node.release()
        for edge, input_grad in zip(node.next_edges, input_grads):
            if edge is not None and input_grad is not None:
                engine._check_gradient(node, edge, input_grad)
        return tuple(input_grads)


def _seed(outputs, output_grads):
    """The roots (nodes of the outputs) and the table of their gradients (a leaf output keeps its own)."""
    roots, grads = [], {}
    for output, grad in zip(outputs, output_grads):
        key = engine._edge_key(output)
        if key in grads:
            grads[key] = grads[key] + grad
            continue
        grads[key] = grad
        if isinstance(key, Function):
            roots.append(key)
    return roots, grads


def student_run_backward(topological_order, backward_walk):
    """``engine.run_backward`` made of the student's ``topological_order`` and ``backward_walk``."""

    def run_backward(outputs, output_grads, retain_graph, create_graph, targets=None):
        roots, seeds = _seed(outputs, output_grads)
        order = topological_order(roots)
        if not isinstance(order, (list, tuple)):
            raise EngineMistake(f"topological_order returned {type(order).__name__}: a list of nodes", "order")
        walk = _Walk(order, targets, retain_graph)
        grads = GradientTable(walk.called, seeds)
        with set_grad_enabled(create_graph):  # record the backward pass itself only when asked to
            backward_walk(order, grads, walk.call_backward)
        stranded = [key.name for key in grads if isinstance(key, Function)]
        if stranded:
            raise EngineMistake(f"after the walk, gradients are still waiting at nodes whose backward never ran "
                                f"({', '.join(stranded[:4])}): the order left them out, or the walk skipped them "
                                "(pop each node's gradient when you use it)", "stranded")
        leaf_grads = {key: grad for key, grad in grads.items() if not isinstance(key, Function)}
        if targets is not None:
            return [walk.captured.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(t) for t in targets]
        engine._accumulate_into_leaves(leaf_grads, create_graph)
        return None

    return run_backward
