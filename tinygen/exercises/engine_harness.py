"""The reverse-mode engine assembled from a student's two functions: the engine exercise.

tinygen's engine (``tinygen.autograd.engine``) backpropagates in two steps: ``topological_order(roots)`` orders
the nodes, then a walk visits them in that order, calls each node's ``backward`` once and routes the gradients
along its ``next_edges``, summing where edges meet. The exercise asks for both:

    topological_order(roots) -> [node, ...]               every node before the nodes it depends on
    backward_walk(order, grads, call_backward) -> None    grads: {node or leaf Tensor: gradient}, updated in place

``student_run_backward(topological_order, backward_walk)`` makes a function with the signature of
``engine.run_backward(outputs, output_grads, retain_graph, create_graph, targets=None, accumulate=False)``; the
exercise binds it in place of ``tinygen.autograd.engine.run_backward`` (and so of
``tinygen.autograd.api.run_backward``), and the student's ``topological_order`` in place of the engine's. Everything
that is not the algorithm is done here with the engine's own named helpers, called as ``run_backward`` calls them:
the roots' gradients (``_seed``), pruning for ``grad()`` (``_GradTargets``), ``autograd.trace()``
(``_begin_trace``), retained gradients and ``grad()``'s targets (``_hand_out``), freed graphs and anomaly mode
(``_call_backward``), the checks of what a backward returned (``_check_input_grads``), freeing the graph
(``release``) and handing the gradients to ``.grad`` or to ``grad()`` (``_deliver``), so the student's engine
behaves like tinygen's in every other respect. Mistakes of the student's walk that the engine would never make are
stopped with an ``EngineMistake`` that says what happened.
"""
from tinygen.autograd import engine
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
    """One backward pass: ``call_backward`` runs a node's backward with the engine's bookkeeping, the body of
    ``engine.run_backward``'s loop between taking a node's gradient and routing what its backward returned."""

    def __init__(self, wanted, retain_graph, tracer):
        self.wanted, self.retain_graph, self.tracer = wanted, retain_graph, tracer
        self.called = set()

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
        engine._hand_out(node, grad, self.wanted)
        if self.wanted is not None and node not in self.wanted.useful:
            return (None,) * len(node.next_edges)
        input_grads = engine._call_backward(node, grad, self.wanted)
        engine._check_input_grads(node, input_grads)
        if not self.retain_graph:
            node.release()
        if self.tracer is not None:
            self.tracer.visited(node, grad, input_grads)
        return input_grads


def student_run_backward(topological_order, backward_walk):
    """``engine.run_backward`` made of the student's ``topological_order`` and ``backward_walk``."""

    def run_backward(outputs, output_grads, retain_graph, create_graph, targets=None, accumulate=False):
        seeds = engine._seed(outputs, output_grads)
        order = topological_order([root for root in seeds if isinstance(root, Function)])
        if not isinstance(order, (list, tuple)):
            raise EngineMistake(f"topological_order returned {type(order).__name__}: a list of nodes", "order")
        wanted = None if targets is None else engine._GradTargets(targets, order)
        tracer = engine._begin_trace(outputs, output_grads, create_graph, targets, accumulate)
        walk = _Walk(wanted, retain_graph, tracer)
        grads = GradientTable(walk.called, seeds)
        with set_grad_enabled(create_graph):  # record the backward pass itself only when asked to
            backward_walk(order, grads, walk.call_backward)
        stranded = [key.name for key in grads if isinstance(key, Function)]
        if stranded:
            raise EngineMistake(f"after the walk, gradients are still waiting at nodes whose backward never ran "
                                f"({', '.join(stranded[:4])}): the order left them out, or the walk skipped them "
                                "(pop each node's gradient when you use it)", "stranded")
        leaf_grads = dict(grads)
        if walk.tracer is not None:
            walk.tracer.end_pass(leaf_grads, wanted)
        return engine._deliver(leaf_grads, wanted, accumulate, create_graph)

    return run_backward
