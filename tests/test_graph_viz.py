"""Drawing the graph (tinygen/viz/graph.py, graph_layout.py, graph_svg.py): the DOT of known expressions has the
expected nodes, labels and edges; files are rendered by Graphviz where it is installed and by tinygen's own
layout (or a .dot file and a one-line note) where it is not; bad input is refused with a clear message."""
import os
import random
import re
import shutil
import stat
import xml.etree.ElementTree as ElementTree

import pytest

import tinygen
from tinygen import nn
from tinygen.viz import draw_graph, render_graph, save_trace_page
from tinygen.viz import graph as graph_module
from tinygen.viz.graph import DotGraph, build_graph
from tinygen.viz.graph_layout import layered_layout
from tinygen.viz.graph_svg import graph_svg

from helpers import random_tensor

NODE = re.compile(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\]$', re.M)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)( \[.*\])?$", re.M)
SVG = "{http://www.w3.org/2000/svg}"


def parse_dot(source):
    """``({node id: [label lines]}, [(source label, target label, attributes)])`` of tinygen's DOT."""
    labels = {node: label.split("\\n") for node, label, _ in NODE.findall(source)}
    edges = [(labels[a][0], labels[b][0], attributes.strip()) for a, b, attributes in EDGE.findall(source)]
    return labels, edges


@pytest.fixture
def no_graphviz_package(monkeypatch):
    monkeypatch.setattr(graph_module, "graphviz_package", lambda: None)


@pytest.fixture
def no_dot(monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)


def expression():
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    w = tinygen.tensor([3.0, -1.0], requires_grad=True)
    loss = (x * w).tanh().sum()
    return x, w, loss


def test_the_dot_of_a_small_expression(no_graphviz_package):
    x, w, loss = expression()
    drawing = draw_graph(loss, params={"x": x, "w": w, "loss": loss})
    assert isinstance(drawing, DotGraph) and drawing.source == str(drawing)
    labels, edges = parse_dot(drawing.source)
    assert sorted(labels.values()) == sorted([
        ["Mul", "(2,) float32"], ["Tanh", "(2,) float32"], ["Sum", "() float32"],
        ["x", "(2,) float32"], ["w", "(2,) float32"], ["loss", "() float32"],
    ])
    assert sorted(edges) == sorted([("x", "Mul", ""), ("w", "Mul", ""), ("Mul", "Tanh", ""), ("Tanh", "Sum", ""),
                                    ("Sum", "loss", "")])  # the way data flows
    assert drawing.startswith("digraph tinygen {") and 'fillcolor="#d9f0d3"' in drawing  # leaves look like leaves


def test_a_reused_node_appears_once_with_each_consumer(no_graphviz_package):
    x = random_tensor((3,), seed=1)
    hidden = x.tanh()
    out = (hidden * 2.0).sum() + hidden.exp().sum()
    labels, edges = parse_dot(draw_graph(out).source)
    assert [lines[0] for lines in labels.values()].count("Tanh") == 1
    assert sorted(target for source, target, _ in edges if source == "Tanh") == ["Exp", "MulConstant"]
    square = x * x  # one input used twice by one op: two edges, one node
    labels, edges = parse_dot(draw_graph(square, params={"x": x}).source)
    assert [edge for edge in edges if edge[0] == "x"] == [("x", "Mul", ""), ("x", "Mul", "")]


def test_detach_cuts_the_graph(no_graphviz_package):
    x, w = random_tensor((3,), seed=2), random_tensor((3,), seed=3)
    labels, _ = parse_dot(draw_graph((x.tanh().detach() * w).sum(), params={"x": x, "w": w}).source)
    names = [lines[0] for lines in labels.values()]
    assert "w" in names and "x" not in names and "Tanh" not in names


def test_a_double_backward_graph_contains_the_backwards_own_ops(no_graphviz_package):
    x = random_tensor((2,), seed=4)
    (gradient,) = tinygen.grad((x ** 3).sum(), [x], create_graph=True)   # 3 x^2, made by PowConstant's backward
    labels, edges = parse_dot(draw_graph(gradient, params={"x": x, "dy/dx": gradient}).source)
    names = sorted(lines[0] for lines in labels.values())
    assert names == ["Mul", "MulConstant", "PowConstant", "dy/dx", "x"]   # x^2, times 3, times the upstream 1s; no Sum
    assert ("x", "PowConstant", "") in edges


def test_parameter_names_shapes_and_saved_values(no_graphviz_package):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    loss = model(tinygen.randn(5, 4)).mean()
    params = dict(model.named_parameters())
    labels, _ = parse_dot(draw_graph(loss, params=params).source)
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= {lines[0] for lines in labels.values()}
    assert ["0.weight", "(3, 4) float32"] in labels.values()
    bare, _ = parse_dot(draw_graph(loss, params=params, show_shapes=False).source)
    assert all(len(lines) == 1 for lines in bare.values())
    source = draw_graph(loss, params=params, show_saved=True).source
    labels, edges = parse_dot(source)
    assert ["saved positive", "(5, 3) bool"] in labels.values()   # ReLU keeps its mask
    assert ("saved input 0", "Linear", "[style=dashed color=\"#8c8c8c\" arrowhead=none]") in edges


def test_a_freed_graph_keeps_its_structure_and_says_its_saved_values_are_gone(no_graphviz_package):
    x = random_tensor((3,), seed=5)
    loss = (x * x).tanh().sum()
    before = draw_graph(loss, params={"x": x}).source
    loss.backward()
    assert draw_graph(loss, params={"x": x}).source == before
    after = draw_graph(loss, params={"x": x}, show_saved=True)
    assert "3 of 3 ops freed their saved values in backward()" in after and "retain_graph=True" in after
    assert "saved input" not in after and 'style="rounded,filled,dashed"' in after


def test_with_the_graphviz_package_the_drawing_is_a_digraph_with_the_same_statements():
    graphviz = pytest.importorskip("graphviz")
    x, w, loss = expression()
    drawing = draw_graph(loss, params={"x": x, "w": w})
    assert isinstance(drawing, graphviz.Digraph)
    assert drawing.source == build_graph([loss], {"x": x, "w": w}).to_dot()


def test_a_notebook_shows_the_dot_text_as_svg_with_or_without_dot(no_graphviz_package, monkeypatch):
    _, _, loss = expression()
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    own = draw_graph(loss)._repr_svg_()
    assert own.startswith("<svg") and 'class="node op"' in own
    if shutil.which("dot"):
        monkeypatch.setattr(graph_module, "find_dot", lambda: shutil.which("dot"))
        assert "<svg" in draw_graph(loss)._repr_svg_()


def test_without_dot_an_svg_gets_tinygens_layout_and_a_one_line_note(no_dot, tmp_path):
    _, _, loss = expression()
    notes = []
    written = render_graph(loss, tmp_path / "graph.svg", log=notes.append)
    assert written == str(tmp_path / "graph.svg")
    ElementTree.parse(written)  # well-formed
    (note,) = notes
    assert "\n" not in note and "Graphviz's dot is not installed" in note
    assert f"dot -Tsvg {tmp_path / 'graph.dot'} -o {tmp_path / 'graph.svg'}" in note
    assert (tmp_path / "graph.dot").read_text().startswith("digraph tinygen {")


def test_without_dot_a_png_is_a_dot_file_and_a_note_how_to_render_it(no_dot, tmp_path):
    _, _, loss = expression()
    notes = []
    written = render_graph([loss], tmp_path / "graph.png", log=notes.append)
    assert written == str(tmp_path / "graph.dot") and not (tmp_path / "graph.png").exists()
    assert notes == [f"Graphviz's dot is not installed: wrote {tmp_path / 'graph.dot'}; render it with: dot -Tpng "
                     f"{tmp_path / 'graph.dot'} -o {tmp_path / 'graph.png'} (install Graphviz first: apt-get install "
                     "graphviz)"]
    with pytest.raises(RuntimeError, match="layout='dot' needs Graphviz's dot program"):
        render_graph(loss, tmp_path / "graph.svg", layout="dot")


def fake_dot(directory, script):
    """A stand-in for Graphviz's dot: a shell script, so the call to dot is tested where Graphviz is missing."""
    program = directory / "dot"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return str(program)


def test_with_dot_the_file_is_dots_output(tmp_path, monkeypatch):
    program = fake_dot(tmp_path, 'echo "format $1"; cat\n')
    monkeypatch.setattr(graph_module, "find_dot", lambda: program)
    _, _, loss = expression()
    written = render_graph(loss, tmp_path / "graph.png", log=pytest.fail)
    text = (tmp_path / "graph.png").read_text()
    assert written == str(tmp_path / "graph.png") and text.startswith("format -Tpng\ndigraph tinygen {")
    assert not (tmp_path / "graph.dot").exists()


def test_a_failing_dot_is_one_clear_error(tmp_path, monkeypatch):
    program = fake_dot(tmp_path, 'echo "Error: syntax error in line 1" >&2; exit 3\n')
    monkeypatch.setattr(graph_module, "find_dot", lambda: program)
    _, _, loss = expression()
    with pytest.raises(RuntimeError, match=r"Graphviz's dot failed \(exit 3\): Error: syntax error in line 1"):
        render_graph(loss, tmp_path / "graph.svg")


def test_a_dot_that_takes_too_long_on_an_svg_gives_way_to_tinygens_layout(tmp_path, monkeypatch):
    """Probe: a 300-node chain reusing one weight kept dot busy past its 120 s limit, then failed; layout='auto'
    now waits AUTO_DOT_TIMEOUT and draws the SVG with tinygen's layout (a PNG still needs dot)."""
    program = fake_dot(tmp_path, "sleep 5; cat\n")
    monkeypatch.setattr(graph_module, "find_dot", lambda: program)
    monkeypatch.setattr(graph_module, "AUTO_DOT_TIMEOUT", 0.5)
    _, _, loss = expression()
    notes = []
    assert render_graph(loss, tmp_path / "graph.svg", log=notes.append) == str(tmp_path / "graph.svg")
    assert (tmp_path / "graph.svg").read_text().startswith("<svg") and len(notes) == 1
    assert "took more than 0.5 s on this graph: wrote" in notes[0] and "tinygen's simpler layout" in notes[0]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
def test_with_graphviz_installed_svg_and_png_are_rendered(tmp_path):
    x, w, loss = expression()
    render_graph(loss, tmp_path / "graph.svg", params={"x": x, "w": w}, log=pytest.fail)
    svg = ElementTree.parse(tmp_path / "graph.svg").getroot()
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert {"Mul", "Tanh", "Sum", "x", "w"} <= set(texts)
    render_graph(loss, tmp_path / "graph.png", log=pytest.fail)
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tinygens_layout_writes_svg_without_looking_for_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: pytest.fail("layout='tinygen' must not look for dot"))
    _, _, loss = expression()
    render_graph(loss, tmp_path / "graph.svg", layout="tinygen", log=pytest.fail)
    assert (tmp_path / "graph.svg").read_text().startswith("<svg")
    assert os.listdir(tmp_path) == ["graph.svg"]


@pytest.mark.parametrize("path, layout, message", [
    ("graph.jpg", "auto", r"cannot write 'graph.jpg': the name must end in one of .svg, .png, .pdf, .dot"),
    ("graph.png", "tinygen", r"tinygen's own layout writes SVG only, not png"),
    ("graph.svg", "neato", r"layout must be 'auto', 'dot' or 'tinygen', got 'neato'"),
])
def test_render_refuses_a_format_or_layout_it_cannot_write(path, layout, message):
    _, _, loss = expression()
    with pytest.raises(ValueError, match=message):
        render_graph(loss, path, layout=layout)


def test_the_dot_file_alone(tmp_path):
    _, _, loss = expression()
    assert render_graph(loss, tmp_path / "graph.dot") == str(tmp_path / "graph.dot")
    assert parse_dot((tmp_path / "graph.dot").read_text())[1]


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match=r"draw_graph: output 0 \(shape \(3,\)\) has no graph: it does not require"):
        draw_graph(tinygen.ones(3))
    with pytest.raises(ValueError, match=r"has no graph"):
        draw_graph(random_tensor((2,), seed=6).sum().detach())
    with pytest.raises(ValueError, match=r"draw_graph: give at least one tensor to draw"):
        draw_graph()
    with pytest.raises(TypeError, match=r"draw_graph: output 0 must be a Tensor, got list; pass the tensors one by"):
        draw_graph([random_tensor((2,), seed=7)])
    with pytest.raises(TypeError, match=r"render_graph: outputs must be a Tensor or a list of Tensors, got float"):
        render_graph(1.0, "never-written.svg")
    with pytest.raises(TypeError, match=r"params must be a dict of name -> Tensor, got list"):
        draw_graph(random_tensor((2,), seed=8) * 2, params=[1])
    with pytest.raises(TypeError, match=r"params\['w'\] must be a Tensor, got float"):
        draw_graph(random_tensor((2,), seed=9) * 2, params={"w": 1.0})


def test_a_leaf_alone_is_a_one_node_graph(no_graphviz_package):
    x = random_tensor((2,), seed=10)
    labels, edges = parse_dot(draw_graph(x, params={"x": x}).source)
    assert list(labels.values()) == [["x", "(2,) float64"]] and edges == []


def chain(length):
    x = tinygen.ones(1, requires_grad=True)
    y = x
    for _ in range(length):
        y = y + 1.0
    return y


def test_a_graph_of_a_hundred_thousand_nodes_is_refused_with_its_size():
    """It returns at all (no layout is tried), with a message that names the size and what to do."""
    y = chain(100_000)
    with pytest.raises(ValueError, match=r"the graph has 100,002 nodes \(100,000 ops\), more than max_nodes=1,000"):
        draw_graph(y)
    with pytest.raises(ValueError, match=r"render_graph: the graph has 100,002 nodes .* pass max_nodes=None"):
        render_graph(y, "never-written.svg")


@pytest.mark.slow
def test_a_trace_of_a_hundred_thousand_nodes_is_recorded_and_its_page_refused_with_its_size():
    y = chain(100_000)
    with tinygen.autograd.trace(keep_gradients=False) as t:
        y.backward()
    assert len(t.visits) == 100_000   # the trace records every node (about 50 us each)
    with pytest.raises(ValueError, match=r"save_trace_page: the graph has 100,002 nodes"):
        save_trace_page(t, "never-written.html")


# --- tinygen's own layout ------------------------------------------------------------------------------------------

def random_dag(seed, size=40):
    rng = random.Random(seed)
    sizes = {f"v{i}": (rng.randint(30, 120), rng.choice([30, 45])) for i in range(size)}
    edges = []
    for target in range(1, size):
        for source in rng.sample(range(target), k=min(target, rng.randint(1, 3))):
            edges.append((f"v{source}", f"v{target}", 0.0))
    return sizes, edges


@pytest.mark.parametrize("seed", range(5))
def test_the_layered_layout_keeps_nodes_apart_and_edges_going_down(seed):
    sizes, edges = random_dag(seed)
    layout = layered_layout(sizes, edges)
    boxes = {node: (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
             for node, ((x, y), (w, h)) in ((n, (layout.centers[n], sizes[n])) for n in sizes)}
    for a in sizes:
        for b in sizes:
            if a < b:
                left_a, top_a, right_a, bottom_a = boxes[a]
                left_b, top_b, right_b, bottom_b = boxes[b]
                assert right_a <= left_b or right_b <= left_a or bottom_a <= top_b or bottom_b <= top_a, (a, b)
    for (source, target, _), route in zip(edges, layout.routes):
        assert route[0] == (layout.centers[source][0], boxes[source][3])   # leaves the source's bottom
        assert route[-1][1] == boxes[target][1]                            # reaches the target's top
        assert all(y0 < y1 for (_, y0), (_, y1) in zip(route, route[1:]))  # always downwards
        assert all(0 <= x <= layout.width and 0 <= y <= layout.height for x, y in route)
    assert layered_layout(sizes, edges).routes == layout.routes   # deterministic


def test_a_cycle_cannot_be_laid_out():
    with pytest.raises(ValueError, match="the graph has a cycle"):
        layered_layout({"a": (10, 10), "b": (10, 10)}, [("a", "b", 0.0), ("b", "a", 0.0)])


def test_the_svg_has_an_element_per_node_and_edge():
    x, w, loss = expression()
    graph = build_graph([loss], {"x": x, "w": w}, show_saved=True)
    root = ElementTree.fromstring(graph_svg(graph, id_prefix="p0-", badges={graph.id_of(loss.grad_fn): 1}))
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "").split()}
    assert sorted(groups) == sorted(f"p0-{node.id}" for node in graph.nodes)
    lines = {line.get("id"): line for line in root.iter(f"{SVG}polyline")}
    assert sorted(lines) == sorted(f"p0-{edge.id}" for edge in graph.edges)
    assert {line.get("class") for line in lines.values()} == {"edge data", "edge saved"}
    sum_node = groups[f"p0-{graph.id_of(loss.grad_fn)}"]
    assert [t.text for t in sum_node.iter(f"{SVG}text")][-1] == "1"   # its badge
