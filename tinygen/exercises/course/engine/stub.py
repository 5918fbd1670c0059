"""Exercise engine: reverse mode itself, the order of the nodes and the backward walk.
Read: docs/reverse-mode.md"""
from tinygen.autograd.function import Function


def topological_order(roots):
    """The nodes reachable from ``roots``, each exactly once, every node BEFORE all the nodes it depends on.

    roots: a list of nodes (``Function`` objects: the ``grad_fn`` of the tensors being differentiated). A node's
    ``next_edges`` has one entry per input of its op: the input's own node (a ``Function``), a leaf Tensor that
    requires grad, or None. Only the ``Function`` entries are nodes to order (leaves are not in the order).

      - The walk (below) calls a node's backward when the node's turn comes; its gradient is complete only once
        every node that consumes its output has sent its share. So each node must come after ALL its consumers:
        on a diamond x -> y -> (a, b) -> c, y's node comes after both a's and b's. A plain depth-first visit
        (a node as soon as it is reached) gets this wrong.
      - Graphs can be 10,000 nodes deep: no recursion (Python's limit is 1,000); keep your own stack.
      - Each node once, even when many paths reach it (a chain of 40 diamonds has 2^40 paths).
    """
    raise NotImplementedError("topological_order: not written yet (read its docstring)")


def backward_walk(order, grads, call_backward):
    """Backpropagate along ``order`` (from ``topological_order``), sending gradients along the graph's edges.

    grads: a dict {node or leaf Tensor: dL/d(its output)}. On entry it holds the gradients of the roots; update
        it in place. When the walk is done it must hold the gradient of every leaf Tensor reached, and no node
        may be left in it (each node's gradient is used by its backward).
    call_backward(node, g): runs ``node``'s backward for its complete gradient ``g``, with the engine's
        bookkeeping, and returns a tuple with one gradient (or None) per entry of ``node.next_edges``. Call it
        exactly once for each node that has a gradient.

      - A node of the order that no gradient reaches (not in ``grads``) is skipped.
      - An edge may be None (an input that needs no gradient), and a returned gradient may be None: skip both.
      - Where several edges lead to the same node or leaf (x used twice), their gradients ADD UP.
    """
    raise NotImplementedError("backward_walk: not written yet (read its docstring)")
