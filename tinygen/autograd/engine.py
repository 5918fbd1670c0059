"""Reverse mode: walk the graph from the output back to the leaves, applying each node's ``backward``.

The graph is a DAG of ``Function`` nodes. Each node's ``next_edges`` names, per input, where that
input's gradient goes: the input's own ``grad_fn`` node, the input itself if it is a leaf that
requires grad, or ``None``. The walk is:

1. order the nodes so that every node comes before the nodes it feeds from (iterative DFS, no recursion,
   so 10,000-op chains work);
2. visit them in that order: the node's gradient is now complete (all its consumers have sent theirs),
   so call ``backward`` once and send each input gradient along its edge, summing where edges meet.

Leaves receive their summed gradient in ``.grad`` (``backward``) or in the returned tuple (``grad``).
"""
from tinygen.autograd.anomaly import _AnomalyMode, check_finite, running_backward_of, site_of
from tinygen.autograd.function import Function
from tinygen.autograd.grad_mode import _mode


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


def _nodes_leading_to(order, targets):
    """The nodes from which some target (a leaf Tensor or a node) can be reached: only these need backward."""
    useful = set()
    for node in reversed(order):  # dependencies first
        if node in targets or any(edge is not None and (edge in targets or edge in useful) for edge in node.next_edges):
            useful.add(node)
    return useful


def run_backward(outputs, output_grads, retain_graph, create_graph, targets=None):
    """Backpropagate ``output_grads`` from ``outputs``.

    With ``targets`` (a list of Tensors), return their gradients as a list (``None`` where unreachable) and
    leave every ``.grad`` alone. Without, accumulate into the ``.grad`` of every leaf that requires grad.
    """
    roots, grads = [], {}
    leaf_grads = {}
    for output, grad in zip(outputs, output_grads):
        if output.grad_fn is None:  # the output is itself a leaf
            leaf_grads[output] = grad if output not in leaf_grads else leaf_grads[output] + grad
            continue
        node = output.grad_fn
        if node in grads:
            grads[node] = grads[node] + grad
        else:
            roots.append(node)
            grads[node] = grad

    order = topological_order(roots)
    target_keys = None
    if targets is not None:
        target_keys = {_edge_key(t) for t in targets}
        useful = _nodes_leading_to(order, target_keys)
    captured = {}

    previous_mode = _mode.enabled
    _mode.enabled = create_graph  # record the backward pass itself only when asked to
    try:
        for node in order:
            grad = grads.pop(node, None)
            if grad is None:
                continue
            _store_retained_grad(node, grad)
            recorded_needs = node.needs_input_grad
            if target_keys is not None:
                if node in target_keys:
                    captured[node] = grad
                if node not in useful:
                    continue
                # Only edges that lead to a target need a gradient in this walk (a later walk may need others).
                node.needs_input_grad = tuple(
                    edge is not None and (edge in target_keys or edge in useful) for edge in node.next_edges
                )
            if node._freed:
                node._check_not_freed()
            try:
                input_grads = node.backward(grad) if not _AnomalyMode.enabled else _checked_backward(node, grad)
            finally:
                node.needs_input_grad = recorded_needs
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if not retain_graph:
                node.release()
            for edge, input_grad in zip(node.next_edges, input_grads):
                if edge is None or input_grad is None:
                    continue
                _check_gradient(node, edge, input_grad)
                if isinstance(edge, Function):
                    previous = grads.get(edge)
                    grads[edge] = input_grad if previous is None else previous + input_grad
                else:
                    previous = leaf_grads.get(edge)
                    leaf_grads[edge] = input_grad if previous is None else previous + input_grad
    finally:
        _mode.enabled = previous_mode

    if targets is not None:
        return [captured.get(_edge_key(t)) if t.grad_fn is not None else leaf_grads.get(t) for t in targets]
    _accumulate_into_leaves(leaf_grads, create_graph)
    return None


def _store_retained_grad(node, grad):
    """For a tensor that called ``retain_grad()``: accumulate its gradient into its ``.grad``."""
    reference = node.__dict__.get("retained_output")
    tensor = reference() if reference is not None else None
    if tensor is not None:
        grad = grad.detach()
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad


def _checked_backward(node, grad):
    """In anomaly mode: run a node's backward without checking its inner ops as forward ops, so that a NaN/Inf
    is reported once, by ``_check_gradient``, against the node and the line that created it."""
    with running_backward_of(node):
        return node.backward(grad)


def _edge_key(tensor):
    return tensor.grad_fn if tensor.grad_fn is not None else tensor


def _check_gradient(node, edge, grad):
    shape, dtype = (edge.output_shape, edge.output_dtype) if isinstance(edge, Function) else (edge.shape, edge.dtype)
    if grad.shape != shape or grad.dtype != dtype:
        raise RuntimeError(
            f"{node.name}.backward returned a gradient of shape {tuple(grad.shape)} and dtype {grad.dtype} "
            f"for an input of shape {tuple(shape)} and dtype {dtype}: the op's backward is wrong"
        )
    if _AnomalyMode.enabled:
        check_finite(node.backend.xp, grad.data, node.name, "backward", site_of(node))


def _accumulate_into_leaves(leaf_grads, create_graph):
    """``leaf.grad += g``. A fresh ``.grad`` never shares memory with another tensor (so in-place edits are safe)."""
    seen = set()
    for leaf, grad in leaf_grads.items():
        if not leaf.requires_grad:
            continue
        if not create_graph:
            data = grad.data
            if data.base is not None or id(data) in seen:
                data = data.copy()
            seen.add(id(data))
            grad = leaf._wrap_like(data)
        leaf.grad = grad if leaf.grad is None else leaf.grad + grad
