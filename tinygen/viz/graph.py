"""Drawing the graph that backward() walks: op nodes, the leaves they read, the outputs they make.

    dot = draw_graph(loss, params=dict(model.named_parameters()))   # DOT; shows itself as SVG in a notebook
    render_graph(loss, "graph.svg", params=dict(model.named_parameters()))

Nodes: each ``Function`` of the graph by its name (with its output's shape and dtype), each leaf that requires
grad (by its parameter name where ``params`` gives one), each output, and on request what each op saved for its
backward. Edges point the way data flows (input -> op -> output); gradients travel them backwards.

The drawing is a ``graphviz.Digraph`` when the ``graphviz`` package is installed (``pip install "tinygen[viz]"``),
else a ``DotGraph``: the DOT text itself. Files are laid out by Graphviz's ``dot`` program where it is installed
(Debian: ``apt-get install graphviz``); without it an SVG gets tinygen's own layout (``graph_layout.py``) and
other formats a ``.dot`` file and a one-line note saying how to render it.
"""
import os
import shutil
import subprocess

from tinygen.autograd.engine import topological_order
from tinygen.autograd.function import Function
from tinygen.files import atomic_write
from tinygen.tensor import Tensor

#: more nodes than this are refused unless ``max_nodes`` says otherwise: unreadable, and slow to lay out
MAX_NODES = 1000
#: seconds Graphviz may take to lay out one graph
DOT_TIMEOUT = 120
#: how long layout='auto' waits for dot on an SVG before drawing it with tinygen's layout (a parameter reused by
#: 300 ops, an RNN's weight, keeps dot busy for minutes)
AUTO_DOT_TIMEOUT = 20
FORMATS = ("svg", "png", "pdf", "dot")

#: how each kind of node looks, in DOT and in tinygen's SVG: (fill colour, border colour, DOT shape, DOT style)
NODE_STYLES = {
    "op": ("#dbe7f6", "#4a6fa5", "box", "rounded,filled"),
    "leaf": ("#d9f0d3", "#3d8b37", "box", "filled"),
    "output": ("#fde2b8", "#c07a12", "box", "rounded,filled,bold"),
    "saved": ("#f4f4f4", "#8c8c8c", "box", "filled,dashed"),
}


class GraphNode:
    """A node of the drawing: ``kind`` is 'op', 'leaf', 'output' or 'saved'; ``lines`` its label."""

    __slots__ = ("id", "kind", "lines", "freed")

    def __init__(self, node_id, kind, lines, freed=False):
        self.id, self.kind, self.lines, self.freed = node_id, kind, lines, freed

    def __repr__(self):
        return f"GraphNode({self.id}, {self.kind}, {' | '.join(self.lines)!r})"


class GraphEdge:
    """``source`` -> ``target`` (node ids), into the target's input ``slot``; ``kind``: 'data' or 'saved'."""

    __slots__ = ("id", "source", "target", "slot", "kind")

    def __init__(self, edge_id, source, target, slot, kind="data"):
        self.id, self.source, self.target, self.slot, self.kind = edge_id, source, target, slot, kind

    def __repr__(self):
        return f"GraphEdge({self.source} -> {self.target} [{self.slot}], {self.kind})"


class Graph:
    """The drawing's content, independent of any layout: nodes, edges, and a caption (or ``None``).

    ``id_of(obj)`` is the node id of a ``Function`` or a leaf ``Tensor`` of the graph; ``edge_id(source,
    target, slot)`` the id of the edge that carries input ``slot`` of ``target``.
    """

    def __init__(self):
        self.nodes, self.edges, self.caption = [], [], None
        self._ids = {}    # id(obj) -> node id, for the Functions and leaves (kept alive in _objects)
        self._objects = []
        self._edge_ids = {}

    def add_node(self, kind, lines, obj=None, freed=False):
        node = GraphNode(f"n{len(self.nodes)}", kind, lines, freed)
        self.nodes.append(node)
        if obj is not None:
            self._ids[id(obj)] = node.id
            self._objects.append(obj)
        return node.id

    def add_edge(self, source, target, slot, kind="data"):
        edge = GraphEdge(f"e{len(self.edges)}", source, target, slot, kind)
        self.edges.append(edge)
        self._edge_ids[(source, target, slot)] = edge.id

    def id_of(self, obj):
        return self._ids.get(id(obj))

    def edge_id(self, source, target, slot):
        return self._edge_ids.get((source, target, slot))

    def to_dot(self):
        """The graph in Graphviz's DOT language."""
        return "digraph tinygen {\n" + "".join(f"\t{line}\n" for line in self.dot_statements()) + "}\n"

    def dot_statements(self):
        graph_attributes = 'rankdir=TB nodesep=0.25 ranksep=0.35 fontname="Helvetica" fontsize=11'
        if self.caption:
            graph_attributes += f" labelloc=b label={_dot_string(self.caption)}"
        statements = [f"graph [{graph_attributes}]", 'node [fontname="Helvetica" fontsize=11 margin="0.12,0.04"]',
                      "edge [arrowsize=0.7 color=\"#555555\"]"]
        for node in self.nodes:
            fill, border, shape, style = NODE_STYLES[node.kind]
            if node.freed and "dashed" not in style:
                style += ",dashed"
            label = _dot_string("\n".join(node.lines))
            statements.append(f'{node.id} [label={label} shape={shape} style="{style}" fillcolor="{fill}" '
                              f'color="{border}"]')
        for edge in self.edges:
            style = ' [style=dashed color="#8c8c8c" arrowhead=none]' if edge.kind == "saved" else ""
            statements.append(f"{edge.source} -> {edge.target}{style}")
        return statements


def _dot_string(text):
    """A DOT quoted string: backslashes and quotes escaped, line breaks as DOT's \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def describe(shape, dtype):
    """``(64, 1) float32``."""
    return f"{tuple(shape)} {dtype}"


def _check_outputs(caller, outputs):
    if not outputs:
        raise ValueError(f"{caller}: give at least one tensor to draw, e.g. {caller}(loss)")
    for position, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            hint = "; pass the tensors one by one: draw_graph(a, b)" if caller == "draw_graph" and isinstance(
                output, (list, tuple)) else ""
            raise TypeError(f"{caller}: output {position} must be a Tensor, got {type(output).__name__}{hint}")
        if not output.requires_grad:
            raise ValueError(
                f"{caller}: output {position} (shape {tuple(output.shape)}) has no graph: it does not require grad "
                "(it was computed under no_grad(), from tensors that do not require grad, or detached)"
            )


def _names(caller, params):
    """``{id(tensor): name}`` from ``params`` (``{name: tensor}``, e.g. ``dict(model.named_parameters())``)."""
    if params is None:
        return {}
    if not hasattr(params, "items"):
        raise TypeError(f"{caller}: params must be a dict of name -> Tensor, got {type(params).__name__}")
    names = {}
    for name, tensor in params.items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{caller}: params[{name!r}] must be a Tensor, got {type(tensor).__name__}")
        names.setdefault(id(tensor), str(name))
    return names


def build_graph(outputs, params=None, show_shapes=True, show_saved=False, max_nodes=MAX_NODES, caller="draw_graph"):
    """The ``Graph`` of everything ``outputs`` were computed from (see the module's docstring)."""
    _check_outputs(caller, outputs)
    outputs = list(dict.fromkeys(outputs))  # the same tensor twice is one output
    names = _names(caller, params)
    order = topological_order(dict.fromkeys(output.grad_fn for output in outputs if output.grad_fn is not None))
    leaves = list(dict.fromkeys(
        edge for node in order for edge in node.next_edges if edge is not None and not isinstance(edge, Function)
    ))
    size = len(order) + len(leaves) + len(outputs)
    if max_nodes is not None and size > max_nodes:
        raise ValueError(
            f"{caller}: the graph has {size:,} nodes ({len(order):,} ops), more than max_nodes={max_nodes:,}: "
            "a drawing that size is unreadable and slow to lay out. Draw a smaller part (e.g. one block's output), "
            "or pass max_nodes=None to draw it anyway"
        )

    def detail(shape, dtype):
        return [describe(shape, dtype)] if show_shapes else []

    graph = Graph()
    for node in order:  # a freed node is marked only where its saved values are asked for
        graph.add_node("op", [node.name] + detail(node.output_shape, node.output_dtype), node,
                       freed=show_saved and node._freed)
    output_ids = {id(output) for output in outputs}
    for leaf in leaves:
        if id(leaf) not in output_ids:
            graph.add_node("leaf", [names.get(id(leaf), "leaf")] + detail(leaf.shape, leaf.dtype), leaf)
    for position, output in enumerate(outputs):
        default = "output" if len(outputs) == 1 else f"output {position}"
        kind = "output" if output.grad_fn is not None else "leaf"
        output_id = graph.add_node(kind, [names.get(id(output), default)] + detail(output.shape, output.dtype), output)
        if output.grad_fn is not None:
            graph.add_edge(graph.id_of(output.grad_fn), output_id, 0)
    for node in order:
        for slot, edge in enumerate(node.next_edges):
            if edge is not None:
                graph.add_edge(graph.id_of(edge), graph.id_of(node), slot)
    if show_saved:
        _add_saved(graph, order, show_shapes)
    return graph


def _add_saved(graph, order, show_shapes):
    """A dashed node per value an op kept for its backward: saved inputs, its saved output, arrays it stored."""
    freed = 0
    for node in order:
        if node._freed:
            freed += 1
            continue
        saved = []
        if node.save_inputs:
            saved += [(f"saved input {i}", tensor.shape, tensor.dtype) for i, tensor in enumerate(node._saved)]
        if node.save_output:
            data = node._output[0]
            saved.append(("saved output", data.shape, data.dtype))
        for key, value in vars(node).items():
            if hasattr(value, "shape") and hasattr(value, "dtype"):
                saved.append((f"saved {key}", value.shape, value.dtype))
        target = graph.id_of(node)
        for slot, (title, shape, dtype) in enumerate(saved, start=len(node.next_edges)):
            source = graph.add_node("saved", [title] + ([describe(shape, dtype)] if show_shapes else []))
            graph.add_edge(source, target, slot, kind="saved")
    if freed:
        graph.caption = (f"{freed} of {len(order)} ops freed their saved values in backward() (dashed borders): "
                         "draw before backward(), or pass retain_graph=True, to see them")


class DotGraph(str):
    """DOT text (a ``str``) that also knows its ``Graph``: ``.source`` as in ``graphviz``, SVG in a notebook."""

    def __new__(cls, graph):
        text = super().__new__(cls, graph.to_dot())
        text.graph = graph
        return text

    @property
    def source(self):
        return str(self)

    def _repr_svg_(self):
        """Notebooks show this: Graphviz's layout where ``dot`` is installed, tinygen's own otherwise."""
        program = find_dot()
        return _run_dot(program, str(self), "svg").decode() if program else _own_svg(self.graph)


def find_dot():
    """The path of Graphviz's ``dot`` program, or ``None`` where Graphviz is not installed."""
    return shutil.which("dot")


def graphviz_package():
    """The ``graphviz`` Python package, or ``None`` where it is not installed."""
    try:
        import graphviz
    except ImportError:
        return None
    return graphviz


def draw_graph(*outputs, params=None, show_shapes=True, show_saved=False, max_nodes=MAX_NODES):
    """The graph behind ``outputs`` in DOT: a ``graphviz.Digraph`` if that package is installed, else a ``DotGraph``.

    ``params``: ``{name: tensor}`` naming leaves (and outputs); ``show_shapes``: each tensor's shape and dtype;
    ``show_saved``: what each op saved for its backward; more than ``max_nodes`` nodes is an error.
    """
    graph = build_graph(outputs, params, show_shapes, show_saved, max_nodes)
    graphviz = graphviz_package()
    if graphviz is None:
        return DotGraph(graph)
    return graphviz.Digraph("tinygen", body=[f"\t{line}\n" for line in graph.dot_statements()])


def render_graph(outputs, path, params=None, show_shapes=True, show_saved=False, max_nodes=MAX_NODES,
                 layout="auto", log=print):
    """Write the graph of ``outputs`` (a Tensor or a list of them) to ``path`` (.svg, .png, .pdf or .dot).

    ``layout``: 'dot' (Graphviz), 'tinygen' (tinygen's own, SVG only, needs nothing installed), or 'auto': dot
    where it is installed, else tinygen's for an SVG; for PNG/PDF without dot it writes a ``.dot`` file beside
    ``path`` and ``log`` says in one line how to render it. Returns the path of the file written.
    """
    if not isinstance(outputs, (Tensor, list, tuple)):
        raise TypeError(f"render_graph: outputs must be a Tensor or a list of Tensors, got {type(outputs).__name__}")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    path = os.fspath(path)
    file_format = os.path.splitext(path)[1].lstrip(".").lower()
    if file_format not in FORMATS:
        raise ValueError(f"render_graph: cannot write {path!r}: the name must end in one of .{', .'.join(FORMATS)}")
    if layout not in ("auto", "dot", "tinygen"):
        raise ValueError(f"render_graph: layout must be 'auto', 'dot' or 'tinygen', got {layout!r}")
    if layout == "tinygen" and file_format != "svg":
        raise ValueError(f"render_graph: tinygen's own layout writes SVG only, not {file_format} ({path!r})")
    graph = build_graph(outputs, params, show_shapes, show_saved, max_nodes, caller="render_graph")
    if file_format == "dot":
        _write_text(path, graph.to_dot())
        return path
    program = find_dot() if layout != "tinygen" else None
    if program is not None:
        fallback = layout == "auto" and file_format == "svg"  # tinygen's layout can stand in for a slow dot
        drawn = _run_dot(program, graph.to_dot(), file_format, AUTO_DOT_TIMEOUT if fallback else DOT_TIMEOUT)
        if drawn is not None:
            atomic_write(path, lambda file: file.write(drawn))
            return path
        _write_text(path, _own_svg(graph))
        log(f"Graphviz's dot took more than {AUTO_DOT_TIMEOUT} s on this graph: wrote {path} with tinygen's "
            "simpler layout (layout='dot' waits longer)")
        return path
    if layout == "dot":
        raise RuntimeError("render_graph: layout='dot' needs Graphviz's dot program, which is not installed "
                           "(Debian/Ubuntu: apt-get install graphviz); layout='tinygen' needs nothing")
    if layout == "tinygen":
        _write_text(path, _own_svg(graph))
        return path
    dot_path = os.path.splitext(path)[0] + ".dot"
    _write_text(dot_path, graph.to_dot())
    how = f"dot -T{file_format} {dot_path} -o {path} (install Graphviz first: apt-get install graphviz)"
    if file_format == "svg":
        _write_text(path, _own_svg(graph))
        log(f"Graphviz's dot is not installed: wrote {path} with tinygen's simpler layout, and {dot_path}; for "
            f"Graphviz's layout: {how}")
        return path
    log(f"Graphviz's dot is not installed: wrote {dot_path}; render it with: {how}")
    return dot_path


def _run_dot(program, source, file_format, timeout=None):
    """dot's drawing; ``None`` if it takes more than ``timeout`` seconds (when one is given, the caller draws it
    otherwise), an error past ``DOT_TIMEOUT``."""
    try:
        result = subprocess.run([program, f"-T{file_format}"], input=source.encode(), capture_output=True,
                                timeout=timeout or DOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        if timeout is not None and timeout < DOT_TIMEOUT:
            return None
        raise RuntimeError(f"Graphviz's dot took more than {DOT_TIMEOUT} s to lay out the graph; draw a smaller "
                           "part of it, or use layout='tinygen'") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"Graphviz's dot failed (exit {result.returncode}): {message[0] if message else ''}")
    return result.stdout


def _own_svg(graph):
    from tinygen.viz.graph_svg import graph_svg

    return graph_svg(graph)


def _write_text(path, text):
    atomic_write(path, lambda file: file.write(text), binary=False)
