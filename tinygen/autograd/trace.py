"""Tracing a backward pass: what the engine did at each node, in the order it did it.

    with tinygen.autograd.trace() as t:
        loss.backward()                    # or tinygen.grad(...), with create_graph=True too
    for visit in t.visits:                 # one Visit per node, in the engine's (topological) order
        print(visit.name, visit.grad_in.norm, [g and g.norm for g in visit.grads_out], visit.seconds)
    tinygen.viz.save_trace_page(t, "backward.html")   # a page that steps through it (tinygen/viz/trace_page.py)

For every node the engine visits, a trace records the gradient flowing in (dL/d(node's output)), the
gradient it sends to each input, and the time the engine spent on it; for the whole walk, the seed
gradients at the outputs and the gradients that land in the leaves. A gradient is recorded by its shape,
dtype, 2-norm, min, max and whether every value is finite (``GradientSummary``), and, unless
``keep_gradients=False``, by the gradient itself (sharing memory, without a graph).

Every backward walk inside the block is one ``BackwardPass`` in ``t.passes``: a trace left open over two
``backward()`` calls holds two passes (a training step has several: D's, G's, a gradient penalty's).

Pictures of a trace are drawn in ``tinygen.viz`` (``save_trace_page`` for the whole trace, ``save_trace_svg`` for
one pass): autograd records, viz draws, as the layering in docs/architecture.md has it.

Cost: the engine reads ``_Tracing.active`` once per walk and, when it is ``None``, does nothing else for
tracing (one ``is not None`` test per node). Only an active trace computes summaries and reads the clock.
"""
import time

#: a gradient with at most this many values is also shown by its values, not only by its summary
SMALL_GRADIENT = 8


class _Tracing:
    #: the Trace recording now, or None (the engine's only look at tracing when no trace is active)
    active = None


class GradientSummary:
    """What one gradient looks like: shape, dtype, 2-norm, min, max, whether all values are finite.

    ``tensor`` is the gradient itself (detached; ``None`` with ``keep_gradients=False``), ``values`` its values
    as a flat list when it has at most ``SMALL_GRADIENT`` of them.
    """

    __slots__ = ("shape", "dtype", "norm", "min", "max", "finite", "values", "tensor")

    def __init__(self, gradient, keep):
        xp, array = gradient.backend.xp, gradient.array
        self.shape, self.dtype = tuple(array.shape), str(array.dtype)
        self.finite = bool(xp.isfinite(array).all())
        wide = array.astype(xp.float64)  # the norm of a float16/float32 gradient without overflow
        self.norm = float(xp.sqrt((wide * wide).sum()))
        self.min = float(array.min()) if array.size else None
        self.max = float(array.max()) if array.size else None
        small = array.size <= SMALL_GRADIENT
        self.values = [float(value) for value in gradient.backend.to_numpy(wide).ravel()] if small else None
        self.tensor = gradient.detach() if keep else None

    def __repr__(self):
        finite = "" if self.finite else ", not finite"
        return f"GradientSummary(shape={self.shape}, dtype={self.dtype}, norm={self.norm:.4g}{finite})"


class Visit:
    """One node of the walk: ``node`` (a Function) got ``grad_in`` and sent ``grads_out[i]`` to input i.

    ``inputs[i]`` is where input i's gradient went (``node.next_edges[i]``: a Function, a leaf Tensor, or
    ``None``); ``grads_out[i]`` is ``None`` where no gradient went. ``seconds``: the engine's time on the node
    (its backward and sending the results on), not counting the trace's own work.
    """

    __slots__ = ("node", "name", "grad_in", "inputs", "grads_out", "seconds")

    def __init__(self, node, grad_in, input_grads, seconds, keep):
        self.node, self.name, self.seconds = node, node.name, seconds
        self.grad_in = GradientSummary(grad_in, keep)
        self.inputs = tuple(node.next_edges)
        self.grads_out = tuple(
            None if edge is None or grad is None else GradientSummary(grad, keep)
            for edge, grad in zip(node.next_edges, input_grads)
        )

    def __repr__(self):
        return f"Visit({self.name}, grad_in norm {self.grad_in.norm:.4g}, {self.seconds * 1e6:.0f} us)"


class BackwardPass:
    """One walk of the engine: a ``backward()`` (gradients land in ``.grad``) or a ``grad()`` call.

    ``outputs`` and ``seeds``: where the walk started and the gradient it started with (1 for a scalar loss);
    ``visits``: the nodes in the order visited; ``leaves``: ``(leaf, summary, onto_existing)`` for each leaf
    whose ``.grad`` took a gradient (``backward()``, ``onto_existing`` telling that it was added to a ``.grad``
    already there) or each target whose gradient ``grad()`` returned. ``complete`` is False if the walk stopped
    with an error (then ``error`` says which).
    """

    def __init__(self, outputs, seeds, create_graph, kind, keep):
        self.outputs = list(outputs)
        self.seeds = [GradientSummary(seed, keep) for seed in seeds]
        self.create_graph, self.kind = create_graph, kind
        self.visits, self.leaves = [], []
        self.complete, self.error = False, None
        self._keep = keep
        self._clock = time.perf_counter()

    def visited(self, node, grad_in, input_grads):
        seconds = time.perf_counter() - self._clock
        self.visits.append(Visit(node, grad_in, input_grads, seconds, self._keep))
        self._clock = time.perf_counter()  # the next node's time starts after this record was made

    def finished(self, leaf_grads, wanted=None):
        """Record where the walk's gradients went: for ``backward()``, each leaf whose ``.grad`` takes one (a leaf
        that stopped requiring grad is skipped, as the engine skips it); for ``grad()`` and ``backward(inputs=...)``,
        each target and the gradient it gets (a non-leaf target's too)."""
        if wanted is not None:
            landed = [(target, grad) for target, grad in zip(wanted.targets, wanted.gradients(leaf_grads))
                      if grad is not None]
        else:
            landed = [(leaf, grad) for leaf, grad in leaf_grads.items() if leaf.requires_grad]
        for leaf, grad in landed:
            onto_existing = self.kind == "backward" and leaf.grad is not None
            self.leaves.append((leaf, GradientSummary(grad, self._keep), onto_existing))
        self.complete = True

    def failed(self, error):
        self.error = f"{type(error).__name__}: {error}"

    @property
    def seconds(self):
        return sum(visit.seconds for visit in self.visits)

    def __repr__(self):
        state = "" if self.complete else f", stopped: {self.error}"
        return f"BackwardPass({self.kind}, {len(self.visits)} nodes visited, {len(self.leaves)} leaves{state})"


class Trace:
    """Records every backward walk while its ``with`` block runs (made by ``trace()``)."""

    def __init__(self, keep_gradients=True):
        self.keep_gradients = keep_gradients
        self.passes = []
        self._open = []  # walks begun and not yet finished, innermost last (a backward may run inside one)

    # --- the engine's hooks (called only while this trace is active) --------------------------------
    def begin_pass(self, outputs, seeds, create_graph, kind):
        walk = BackwardPass(outputs, seeds, create_graph, kind, self.keep_gradients)
        self.passes.append(walk)
        self._open.append(walk)

    def visited(self, node, grad_in, input_grads):
        self._open[-1].visited(node, grad_in, input_grads)

    def end_pass(self, leaf_grads, wanted=None):
        self._open.pop().finished(leaf_grads, wanted)

    def open_passes(self):
        return len(self._open)

    def abort_passes(self, depth, error):
        """The walks begun after ``depth`` were open raised ``error`` (which the caller may catch inside the block)."""
        while len(self._open) > depth:
            self._open.pop().failed(error)

    # --- the block ------------------------------------------------------------------------------
    def __enter__(self):
        if _Tracing.active is not None:
            raise RuntimeError(
                "trace(): a trace is already recording; one trace records every backward pass in its block, "
                "so use that one (its passes are in .passes)"
            )
        _Tracing.active = self
        return self

    def __exit__(self, error_type, error, traceback):
        _Tracing.active = None
        for walk in self._open:  # a walk that never reached end_pass nor abort_pass
            walk.error = f"{error_type.__name__}: {error}" if error is not None else "an unknown error"
        self._open.clear()
        return False

    # --- reading it -----------------------------------------------------------------------------
    @property
    def visits(self):
        """The visits of the one backward pass recorded (with several passes, read ``passes[i].visits``)."""
        return self._only_pass().visits

    @property
    def leaves(self):
        """The leaves' gradients of the one backward pass recorded."""
        return self._only_pass().leaves

    def _only_pass(self):
        if len(self.passes) != 1:
            raise RuntimeError(
                "trace: no backward pass was recorded: call loss.backward() or tinygen.grad(...) inside the "
                "`with tinygen.autograd.trace() as t:` block" if not self.passes else
                f"trace: {len(self.passes)} backward passes were recorded (one per backward() or grad() call "
                "in the block); read them one at a time: t.passes[0].visits ... "
                f"t.passes[{len(self.passes) - 1}].visits"
            )
        return self.passes[0]

    def __repr__(self):
        return f"Trace({len(self.passes)} backward passes)"


def trace(keep_gradients=True):
    """``with trace() as t:`` records every backward walk in the block (``backward()``, ``grad()``).

    ``keep_gradients=False`` records only the summaries (shape, dtype, norm, min, max, finite), not the
    gradients themselves: a trace keeps every intermediate gradient alive otherwise.
    """
    return Trace(keep_gradients)
