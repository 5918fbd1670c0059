"""Reverse mode: walk the graph from the outputs back to the leaves, calling each node's ``backward`` once.

The graph is a DAG of ``Function`` nodes. Each node's ``next_edges`` names, per input, where that
input's gradient goes: the input's own ``grad_fn`` node, the input itself if it is a leaf that
requires grad, or ``None``. ``run_backward`` is the algorithm, on one screen:

1. seed: dL/d(output) for each output, kept in ``grads`` under the node that made it;
2. order the nodes so that every node comes before the nodes it feeds from (``topological_order``: an iterative
   DFS, no recursion, so 10,000-op chains work);
3. visit them in that order: a node's gradient is now complete (all its consumers have sent theirs), so call
   ``backward`` once and send each input's gradient along its edge, summing where edges meet.

Leaves receive their summed gradient in ``.grad`` (``backward``) or in the returned list (``grad``). Everything
else is a named helper the loop calls, defined below it in the order it is called: ``grad()``'s pruning to its
targets (``_GradTargets``), ``autograd.trace()`` (``_begin_trace``; the tracer's lines are skippable),
``retain_grad()`` (``_hand_out``), freed graphs and anomaly mode (``_call_backward``), the checks of what a backward
returned (``_check_input_grads``: the count, type and device (messages in tinygen/autograd/checks.py), shape, dtype,
anomaly mode's finiteness; per-node checks and observers are called right after it, one line each),
``release``, which frees what the forward saved, and ``_deliver``, which hands the gradients to ``.grad`` or to
``grad()``. docs/reverse-mode.md walks through the loop.
Tests: tests/test_autograd.py (tests/test_custom_function_errors.py for the checks, tests/test_trace.py for the
trace).
"""
from tinygen.autograd.anomaly import _AnomalyMode, check_finite, running_backward_of, site_of
from tinygen.autograd.checks import gradient_count_error, wrong_gradient_error
from tinygen.autograd.function import Function, freed_graph_error
from tinygen.autograd.grad_mode import set_grad_enabled
from tinygen.autograd.trace import _Tracing
from tinygen.tensor import Tensor


def run_backward(outputs, output_grads, retain_graph, create_graph, targets=None, accumulate=False):
    """Backpropagate ``output_grads`` from ``outputs``.

    With ``targets`` (a list of Tensors), only the nodes that lead to a target run, and the targets' gradients are
    returned as a list (``None`` where unreachable), every ``.grad`` left alone; with ``accumulate`` too, they are
    accumulated into the targets' own ``.grad`` instead (``backward(inputs=...)``). Without ``targets``, into the
    ``.grad`` of every leaf that requires grad.
    """
    grads = _seed(outputs, output_grads)  # dL/d(a node's output) or dL/d(a leaf), summed as contributions arrive
    order = topological_order([root for root in grads if isinstance(root, Function)])
    wanted = None if targets is None else _GradTargets(targets, order)
    tracer = _begin_trace(outputs, output_grads, create_graph, targets, accumulate)  # None unless in autograd.trace()
    with set_grad_enabled(create_graph):  # the backward pass is itself recorded only when asked to
        for node in order:
            grad = grads.pop(node, None)
            if grad is None:  # no gradient reached this node
                continue
            _hand_out(node, grad, wanted)  # to a tensor that called retain_grad(), to grad() for its targets
            if wanted is not None and node not in wanted.useful:
                continue
            input_grads = _call_backward(node, grad, wanted)
            _check_input_grads(node, input_grads)  # checks and observers of a node's backward: one call each
            if not retain_graph:
                node.release()
            for edge, input_grad in zip(node.next_edges, input_grads):
                if edge is not None and input_grad is not None:
                    grads[edge] = grads[edge] + input_grad if edge in grads else input_grad
            if tracer is not None:  # the trace records what the node got and what it sent on
                tracer.visited(node, grad, input_grads)
    if tracer is not None:
        tracer.end_pass(grads, wanted)
    return _deliver(grads, wanted, accumulate, create_graph)  # what is left in grads: the leaves' gradients


def topological_order(roots):
    """Nodes reachable from ``roots``, each before every node it depends on (reverse DFS post-order)."""
    post_order = []
    visited = set()
    stack = [(root, False) for root in roots]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            post_order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for edge in node.next_edges:
            if isinstance(edge, Function) and edge not in visited:
                stack.append((edge, False))
    post_order.reverse()
    return post_order


# --- the helpers the loop calls, in the order it calls them -------------------------------------------------

def _seed(outputs, output_grads):
    """``{node or leaf: dL/d(output)}``: each output's gradient under its ``grad_fn`` (or itself, for a leaf)."""
    grads = {}
    for output, grad in zip(outputs, output_grads):
        key = _edge_key(output)
        grads[key] = grads[key] + grad if key in grads else grad
    return grads


def _edge_key(tensor):
    """Where a tensor's gradient is collected: at the node that made it, or, for a leaf, at the tensor itself."""
    return tensor.grad_fn if tensor.grad_fn is not None else tensor


class _GradTargets:
    """What ``grad(outputs, targets)`` changes in the walk: only the nodes from which a target can be reached run
    their backward, asked only for the gradients that lead to a target; the targets' gradients are returned
    (a non-leaf target's taken at its node as the walk passes it) and no ``.grad`` is touched."""

    def __init__(self, targets, order):
        self.targets = targets
        self.keys = {_edge_key(target) for target in targets}
        self.useful = _nodes_leading_to(order, self.keys)
        self.captured = {}

    def needed_inputs(self, node):
        """``node.needs_input_grad`` for this walk: only edges that lead to a target (a later walk may need others)."""
        return tuple(edge is not None and (edge in self.keys or edge in self.useful) for edge in node.next_edges)

    def gradients(self, grads):
        """The targets' gradients (``grads`` holds the leaves'), ``None`` where none reached a target."""
        return [self.captured.get(target.grad_fn) if target.grad_fn is not None else grads.get(target)
                for target in self.targets]


def _nodes_leading_to(order, targets):
    """The nodes from which some target (a leaf Tensor or a node) can be reached through an input: only these need
    backward. A target's own node is not one of them unless another target lies behind it: its gradient is taken
    as the walk passes it (``_hand_out``)."""
    useful = set()
    for node in reversed(order):  # dependencies first
        if any(edge is not None and (edge in targets or edge in useful) for edge in node.next_edges):
            useful.add(node)
    return useful


def _begin_trace(outputs, output_grads, create_graph, targets, accumulate):
    """The trace recording this walk (``autograd.trace()``, tinygen/autograd/trace.py), told that it begins and of
    which kind it is ("backward": into ``.grad``; "grad": returned); ``None`` when no trace is active, and then the
    walk does nothing else for tracing (one ``is not None`` per node)."""
    tracer = _Tracing.active
    if tracer is not None:
        kind = "grad" if targets is not None and not accumulate else "backward"
        tracer.begin_pass(outputs, output_grads, create_graph, kind)
    return tracer


def _hand_out(node, grad, wanted):
    """Give a node's complete gradient to whoever asked for it: the output tensor that called ``retain_grad()``
    (accumulated into its ``.grad``), and ``grad()`` when the node's output is one of its targets."""
    if node.retained_output is not None:
        tensor = node.retained_output()  # a weak reference: a retained tensor that is gone needs nothing
        if tensor is not None:
            tensor.grad = grad.detach() if tensor.grad is None else tensor.grad + grad.detach()
    if wanted is not None and node in wanted.keys:
        wanted.captured[node] = grad


def _call_backward(node, grad, wanted=None):
    """``node.backward(grad)`` as a tuple, one entry per input (``None`` where an input gets no gradient).

    For ``grad()``, the node's ``needs_input_grad`` is narrowed to its targets during the call. A node released by
    an earlier backward is an error; in anomaly mode, the backward runs as in ``_backward_in_anomaly_mode``.
    """
    if wanted is not None:
        recorded, node.needs_input_grad = node.needs_input_grad, wanted.needed_inputs(node)
        try:
            return _call_backward(node, grad)
        finally:
            node.needs_input_grad = recorded
    if node._freed:
        raise freed_graph_error(node)
    input_grads = node.backward(grad) if not _AnomalyMode.enabled else _backward_in_anomaly_mode(node, grad)
    return input_grads if type(input_grads) is tuple else (input_grads,)


def _backward_in_anomaly_mode(node, grad):
    """Run a node's backward without checking its inner ops as forward ops, so that a NaN/Inf is reported once,
    by ``_check_input_grads``, against the node and the line that created it."""
    with running_backward_of(node):
        return node.backward(grad)


def _check_input_grads(node, input_grads):
    """A backward returned one gradient per input (the routing ``zip`` would drop extra ones silently), each a Tensor
    on the op's device (a raw array arrives here as the 1-tuple ``_call_backward`` made of it) with its input's
    shape and dtype (else the op's backward is wrong) and, in anomaly mode, finite. The comparisons run for every
    node, so they are written out here; the messages of the first two are in tinygen/autograd/checks.py."""
    edges = node.next_edges
    if len(input_grads) != len(edges):
        raise gradient_count_error(node, input_grads)
    for edge, grad in zip(edges, input_grads):
        if edge is None or grad is None:
            continue
        if type(grad) is not Tensor or grad._backend is not node.backend:
            raise wrong_gradient_error(node, edge, grad)
        node_edge = isinstance(edge, Function)
        shape, dtype = (edge.output_shape, edge.output_dtype) if node_edge else (edge.shape, edge.dtype)
        array = grad.array
        if array.shape != shape or (array.dtype is not dtype and array.dtype != dtype):  # `is`: the quick common case
            raise RuntimeError(
                f"{node.name}.backward returned a gradient of shape {tuple(grad.shape)} and dtype {grad.dtype} "
                f"for an input of shape {tuple(shape)} and dtype {dtype}: the op's backward is wrong"
            )
        if _AnomalyMode.enabled:
            check_finite(node.backend.xp, grad.array, node.name, "backward", site_of(node))


def _deliver(leaf_grads, wanted, accumulate, create_graph):
    """Where the walk's gradients go: into every leaf's ``.grad`` (``backward()``), returned for ``grad()``'s targets,
    or into those targets' own ``.grad`` (``backward(inputs=...)``, ``accumulate``). Returns ``grad()``'s list."""
    if wanted is None:
        _accumulate_into_leaves(leaf_grads, create_graph)
        return None
    gradients = wanted.gradients(leaf_grads)
    if not accumulate:
        return gradients
    landed = {target: grad for target, grad in zip(wanted.targets, gradients) if grad is not None}
    _accumulate_into_leaves(landed, create_graph)
    return None


def _accumulate_into_leaves(leaf_grads, create_graph):
    """``leaf.grad += g`` (for ``backward(inputs=...)``, a non-leaf input's ``.grad`` too). A fresh ``.grad`` never
    shares memory with another tensor (so in-place edits are safe)."""
    seen = set()
    for leaf, grad in leaf_grads.items():
        if not leaf.requires_grad:
            continue
        if not create_graph:
            array = grad.array
            if array.base is not None or id(array) in seen:
                array = array.copy()
            seen.add(id(array))
            grad = leaf._wrap_like(array)
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
