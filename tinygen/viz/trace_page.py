"""A traced backward pass (tinygen/autograd/trace.py) as one self-contained HTML page to step through
(``save_trace_page(t, "backward.html")``), or one pass as a static SVG (``save_trace_svg``).

The page holds the graph as SVG (tinygen's own layout: no Graphviz, no network), the numbers of every step as
JSON, and a few lines of JavaScript: buttons, a slider and the arrow keys move through the steps. Step 1 is
the seed gradient at the output, then one step per node in the order the engine visited it (the node is
highlighted, and the edges its gradients travel along), and the last step the gradients that landed in the
leaves. A Content-Security-Policy forbids every load, so the page works offline and provably fetches nothing.
"""
import html
import json
import math
import os
import re

from tinygen.autograd.trace import BackwardPass, Trace
from tinygen.files import atomic_write
from tinygen.viz.graph import MAX_NODES, build_graph, describe
from tinygen.viz.graph_svg import HOT_COLOR, graph_svg


def _number(value):
    if value is None:
        return "-"
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _summary_row(where, summary, note=""):
    """One table row: where the gradient is, and what it looks like."""
    values = "" if summary.values is None else "[" + ", ".join(_number(value) for value in summary.values) + "]"
    return [where, describe(summary.shape, summary.dtype), _number(summary.norm), _number(summary.min),
            _number(summary.max), "yes" if summary.finite else "NO", values, note]


def _short(summary):
    """The gradient in a few characters: its values when it has one or two, else its norm."""
    if summary.values is not None and len(summary.values) <= 2:
        return "g = " + ", ".join(_number(value) for value in summary.values)
    return f"|g| = {_number(summary.norm)}"


class _PassView:
    """One recorded pass, drawn: its graph, the node ids of what it visited, and its steps for the page."""

    def __init__(self, walk, params, max_nodes, caller):
        self.walk = walk
        self.graph = build_graph(walk.outputs, params, max_nodes=max_nodes, caller=caller)
        self.labels = {node.id: node.lines[0] for node in self.graph.nodes}
        self.badges = {self.graph.id_of(visit.node): number for number, visit in enumerate(walk.visits, start=1)}
        for node_id, number in self.badges.items():
            self.labels[node_id] = f"{self.labels[node_id]} #{number}"

    def edge_notes(self):
        """``{edge id: short text}``: the gradient each edge carried back (for a static picture)."""
        notes, seeds = {}, {}
        for output, seed in zip(self.walk.outputs, self.walk.seeds):
            if output.grad_fn is not None:
                edge = self.graph.edge_id(self.graph.id_of(output.grad_fn), self.graph.id_of(output), 0)
                seeds[edge] = seeds.get(edge, []) + [seed]
        for edge, given in seeds.items():  # an output given twice (backward([h, h])) gets its seeds summed
            notes[edge] = _short(given[0]) if len(given) == 1 else f"{len(given)} seeds, summed"
        for visit in self.walk.visits:
            for edge, source, summary in self._sent(visit):
                notes[edge] = _short(summary)
        return notes

    def _sent(self, visit):
        """(edge id, node id of the input, summary) for each input of ``visit`` that got a gradient."""
        target = self.graph.id_of(visit.node)
        for slot, (destination, summary) in enumerate(zip(visit.inputs, visit.grads_out)):
            if summary is not None:
                source = self.graph.id_of(destination)
                yield self.graph.edge_id(source, target, slot), source, summary

    def steps(self):
        walk, steps = self.walk, [self._seed_step()]
        received = {}
        for number, visit in enumerate(walk.visits, start=1):
            steps.append(self._visit_step(number, visit, received))
        if walk.complete:
            steps.append(self._leaves_step())
        else:
            steps.append({"title": "The walk stopped here", "text": f"It stopped with {walk.error}.", "nodes": [],
                          "receiving": [], "edges": [], "rows": [], "time": ""})
        return steps

    def _seed_step(self):
        rows, nodes, edges = [], [], []
        for output, seed in zip(self.walk.outputs, self.walk.seeds):
            node_id = self.graph.id_of(output)
            nodes.append(node_id)
            if output.grad_fn is not None:
                edges.append(self.graph.edge_id(self.graph.id_of(output.grad_fn), node_id, 0))
            rows.append(_summary_row(self.labels[node_id], seed))
        scalar = all(seed.values == [1.0] for seed in self.walk.seeds)
        text = ("The walk starts at the output with the seed gradient dL/dL = 1." if scalar else
                "The walk starts at the outputs with the gradients given to backward() or grad().")
        if self.walk.create_graph:
            text += " create_graph=True: every op the backward runs is itself recorded, so the gradients " \
                    "come out with a graph of their own that can be differentiated again."
        return {"title": "Seed", "text": text, "nodes": nodes, "receiving": [], "edges": edges, "rows": rows,
                "time": ""}

    def _visit_step(self, number, visit, received):
        node_id = self.graph.id_of(visit.node)
        rows = [_summary_row("dL/d(output) in", visit.grad_in)]
        edges, receiving = [], []
        for edge, source, summary in self._sent(visit):
            received[source] = received.get(source, 0) + 1
            note = "added to what it already got (a reused node)" if received[source] > 1 else ""
            rows.append(_summary_row(f"to {self.labels[source]}", summary, note))
            edges.append(edge)
            receiving.append(source)
        for slot, (destination, summary) in enumerate(zip(visit.inputs, visit.grads_out)):
            if summary is None:
                why = "does not require grad" if destination is None else "not needed for this grad() call"
                rows.append([f"input {slot}", "no gradient", "", "", "", "", "", why])
        text = (f"{visit.name} is visited {_ordinal(number)} of {len(self.walk.visits)}: every op that uses its "
                "output has already sent its share, so its gradient is complete. Its backward runs once and "
                "sends one gradient to each input.")
        return {"title": f"{visit.name} #{number}", "text": text, "nodes": [node_id], "receiving": receiving,
                "edges": edges, "rows": rows, "time": f"{visit.seconds * 1e6:.0f} \u00b5s in the engine"}

    def _leaves_step(self):
        walk, rows, nodes = self.walk, [], []
        for leaf, summary, onto_existing in walk.leaves:
            node_id = self.graph.id_of(leaf if leaf.grad_fn is None else leaf.grad_fn)  # a non-leaf grad() target
            nodes.append(node_id)
            note = "added to the .grad already there" if onto_existing else ""
            rows.append(_summary_row(self.labels[node_id], summary, note))
        if walk.kind == "backward":
            text = "The gradients that reached the leaves, summed over every path: added to each leaf's .grad."
        else:
            text = "The gradients grad() returned, one for each of its inputs that the walk reached, summed over " \
                   "every path."
        return {"title": "Leaves", "text": text, "nodes": nodes, "receiving": [], "edges": [], "rows": rows,
                "time": f"{walk.seconds * 1e3:.3g} ms in the engine for the whole walk"}


def _ordinal(number):
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _script_json(data):
    """JSON to put inside a <script> element: no '<', so no name can close the element or open a comment."""
    return json.dumps(data).replace("<", "\\u003c")


def _check_output(caller, path, suffixes):
    name = os.fspath(path)
    if not name.lower().endswith(suffixes):
        raise ValueError(f"{caller}: cannot write {name!r}: the name must end in {' or '.join(suffixes)}")


def trace_svg(walk, params=None, max_nodes=MAX_NODES, caller="trace_svg"):
    """A static picture of one pass: each op numbered in visit order, each edge with the gradient it carried."""
    if not isinstance(walk, BackwardPass):
        hint = "; pick one pass of it: t.passes[0]" if isinstance(walk, Trace) else ""
        raise TypeError(f"{caller}: expected one recorded pass (t.passes[i]), got {type(walk).__name__}{hint}")
    view = _PassView(walk, params, max_nodes, caller)
    return graph_svg(view.graph, badges=view.badges, edge_notes=view.edge_notes())


def save_trace_svg(walk, path, params=None, max_nodes=MAX_NODES):
    """Write one recorded pass (``t.passes[i]``, a ``BackwardPass``) as ``trace_svg``'s picture; returns ``path``.

    ``params``: ``{name: tensor}`` to label the leaves (e.g. ``dict(model.named_parameters())``).
    """
    _check_output("save_trace_svg", path, (".svg",))
    picture = trace_svg(walk, params, max_nodes, caller="save_trace_svg")
    atomic_write(path, lambda file: file.write(picture), binary=False)
    return path


def _default_title(number, walk):
    call = "backward()" if walk.kind == "backward" else "grad()"
    if walk.create_graph:
        call = call[:-1] + "create_graph=True)"
    return f"pass {number}: {call}, {len(walk.visits)} nodes"


def save_trace_page(trace, path, params=None, titles=None, max_nodes=MAX_NODES):
    """Write ``trace`` (what ``with tinygen.autograd.trace() as t:`` recorded) as one page that steps through each
    backward walk: the seed, each visited node with its gradients, the leaves. Returns ``path``.

    ``params``: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) to label the leaves; ``titles``: one
    title per pass; a graph of more than ``max_nodes`` nodes (as in ``draw_graph``) is refused unless
    ``max_nodes=None``.
    """
    if not isinstance(trace, Trace):
        hint = "; save_trace_svg draws one pass" if isinstance(trace, BackwardPass) else ""
        raise TypeError(f"save_trace_page: expected what `with tinygen.autograd.trace() as t:` recorded (t), got "
                        f"{type(trace).__name__}{hint}")
    _check_output("save_trace_page", path, (".html", ".htm"))
    if not trace.passes:
        raise RuntimeError("save_trace_page: the trace recorded no backward pass: call loss.backward() or "
                           "tinygen.grad(...) inside the `with tinygen.autograd.trace() as t:` block")
    if titles is not None and len(titles) != len(trace.passes):
        raise ValueError(f"save_trace_page: got {len(titles)} titles for {len(trace.passes)} passes")
    titles = titles or [_default_title(number, walk) for number, walk in enumerate(trace.passes, start=1)]
    views = [_PassView(walk, params, max_nodes, "save_trace_page") for walk in trace.passes]
    data = {"passes": [{"title": title, "steps": view.steps()} for title, view in zip(titles, views)]}
    graphs = "\n".join(
        f'<div class="graph" id="graph-{index}"{" hidden" if index else ""}>\n'
        f"{graph_svg(view.graph, id_prefix=f'p{index}-', badges=view.badges)}</div>"
        for index, view in enumerate(views)
    )
    parts = {
        "HOT_ARROWS": "\n".join(f"#graph-{index} .edge.active {{ marker-end: url(#p{index}-arrow-hot); }}"
                                for index in range(len(views))),
        "HOT": HOT_COLOR,
        "CHOICES": "\n".join(f'<option value="{index}">{html.escape(title)}</option>'
                             for index, title in enumerate(titles)),
        "SINGLE": " hidden" if len(views) == 1 else "",
        "GRAPHS": graphs,
        "DATA": _script_json(data),
        "SCRIPT": SCRIPT,
    }
    page = re.sub(r"__([A-Z_]+)__", lambda match: parts[match.group(1)], PAGE)  # one pass: a name is never a slot
    atomic_write(path, lambda file: file.write(page), binary=False)
    return path


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tinygen: a backward pass, step by step</title>
<style>
body { margin: 0; font-family: Helvetica, Arial, sans-serif; color: #222; display: flex; flex-direction: column;
       height: 100vh; }
header { padding: 8px 14px; border-bottom: 1px solid #ccc; background: #fafafa; }
h1 { font-size: 17px; margin: 0 0 6px 0; }
.controls { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.controls button { font-size: 14px; padding: 3px 10px; }
#slider { width: 260px; }
#counter { min-width: 110px; font-variant-numeric: tabular-nums; }
main { display: flex; flex: 1; min-height: 0; }
#graphs { flex: 1; overflow: auto; padding: 8px; }
aside { width: 560px; overflow: auto; border-left: 1px solid #ccc; padding: 10px 14px; font-size: 13px; }
aside h2 { font-size: 16px; margin: 4px 0; }
table { border-collapse: collapse; margin-top: 8px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 6px; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: #b00; font-weight: bold; }
.hint, #timing { color: #666; }
.node { cursor: pointer; }
.node.visited rect { fill: #b9c8dc; }
.node.receiving rect { stroke: __HOT__; stroke-width: 2; stroke-dasharray: 4 2; }
.node.current rect { stroke: __HOT__; stroke-width: 3.5; }
.edge.active { stroke: __HOT__; stroke-width: 2.6; stroke-dasharray: 7 4; animation: backward 0.8s linear infinite; }
@keyframes backward { to { stroke-dashoffset: 22; } }
__HOT_ARROWS__
</style>
</head>
<body>
<header>
<h1>A backward pass, step by step</h1>
<div class="controls">
<select id="pass" aria-label="backward pass"__SINGLE__>
__CHOICES__
</select>
<button id="first" title="first step (Home)">|&#x25C0; first</button>
<button id="prev" title="previous step (left arrow)">&#x25C0; previous</button>
<input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
<button id="next" title="next step (right arrow)">next &#x25B6;</button>
<button id="last" title="last step (End)">last &#x25B6;|</button>
<span id="counter"></span>
<span class="hint">Arrow keys step; click an op to jump to it. Red outline: the node visited now; dashed:
the nodes its gradients go to; shaded: visited. Edges point the way data flowed: gradients travel them
backwards.</span>
</div>
</header>
<main>
<div id="graphs">
__GRAPHS__
</div>
<aside>
<h2 id="step-title"></h2>
<p id="step-text"></p>
<table id="numbers">
<thead><tr><th>gradient</th><th>shape</th><th>norm</th><th>min</th><th>max</th><th>finite</th><th>values</th>
<th></th></tr></thead>
<tbody></tbody>
</table>
<p id="timing"></p>
</aside>
</main>
<script type="application/json" id="trace-data">__DATA__</script>
<script>
__SCRIPT__
</script>
</body>
</html>
"""

SCRIPT = """"use strict";
(function () {
  const data = JSON.parse(document.getElementById("trace-data").textContent);
  const slider = document.getElementById("slider");
  const choice = document.getElementById("pass");
  let passIndex = 0;
  let stepIndex = 0;

  function element(id) {
    return document.getElementById("p" + passIndex + "-" + id);
  }

  function mark(ids, name) {
    ids.forEach(function (id) {
      const found = element(id);
      if (found) { found.classList.add(name); }
    });
  }

  function fillTable(rows) {
    const body = document.querySelector("#numbers tbody");
    body.textContent = "";
    rows.forEach(function (row) {
      const line = document.createElement("tr");
      row.forEach(function (cell, column) {
        const item = document.createElement("td");
        item.textContent = cell;
        if (column >= 2 && column <= 4) { item.className = "number"; }
        if (column === 5 && cell === "NO") { item.className = "bad"; }
        line.appendChild(item);
      });
      body.appendChild(line);
    });
  }

  function show() {
    const steps = data.passes[passIndex].steps;
    const step = steps[stepIndex];
    document.querySelectorAll(".graph").forEach(function (graph, index) { graph.hidden = index !== passIndex; });
    const graph = document.getElementById("graph-" + passIndex);
    graph.querySelectorAll(".current, .visited, .receiving, .active").forEach(function (item) {
      item.classList.remove("current", "visited", "receiving", "active");
    });
    for (let earlier = 1; earlier < stepIndex; earlier += 1) { mark(steps[earlier].nodes, "visited"); }
    mark(step.receiving, "receiving");
    mark(step.edges, "active");
    mark(step.nodes, "current");
    document.getElementById("step-title").textContent = "Step " + (stepIndex + 1) + ": " + step.title;
    document.getElementById("step-text").textContent = step.text;
    document.getElementById("timing").textContent = step.time;
    fillTable(step.rows);
    document.getElementById("counter").textContent = "step " + (stepIndex + 1) + " of " + steps.length;
    slider.max = String(steps.length - 1);
    slider.value = String(stepIndex);
    document.getElementById("first").disabled = document.getElementById("prev").disabled = stepIndex === 0;
    document.getElementById("last").disabled = document.getElementById("next").disabled =
      stepIndex === steps.length - 1;
    const current = step.nodes.length ? element(step.nodes[0]) : null;
    if (current && current.scrollIntoView) { current.scrollIntoView({block: "center", inline: "center"}); }
  }

  function go(index) {
    const count = data.passes[passIndex].steps.length;
    stepIndex = Math.max(0, Math.min(count - 1, index));
    show();
  }

  document.getElementById("first").addEventListener("click", function () { go(0); });
  document.getElementById("prev").addEventListener("click", function () { go(stepIndex - 1); });
  document.getElementById("next").addEventListener("click", function () { go(stepIndex + 1); });
  document.getElementById("last").addEventListener("click", function () { go(Infinity); });
  slider.addEventListener("input", function () { go(Number(slider.value)); });
  choice.addEventListener("change", function () { passIndex = Number(choice.value); go(0); });
  document.addEventListener("keydown", function (event) {
    if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") { return; }
    const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
    if (event.key in moves) { go(stepIndex + moves[event.key]); }
    else if (event.key === "Home") { go(0); }
    else if (event.key === "End") { go(Infinity); }
    else { return; }
    event.preventDefault();
  });
  document.getElementById("graphs").addEventListener("click", function (event) {
    const node = event.target.closest(".node");
    if (!node) { return; }
    const steps = data.passes[passIndex].steps;
    for (let index = 1; index < steps.length - 1; index += 1) {
      if (steps[index].nodes.indexOf(node.dataset.node) >= 0) { go(index); return; }
    }
  });
  show();
}());
"""
