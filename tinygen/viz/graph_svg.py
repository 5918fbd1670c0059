"""A ``Graph`` (graph.py) as SVG, laid out by tinygen's own layered layout (graph_layout.py): no Graphviz needed.

Every node is a ``<g class="node KIND" id="PREFIX+node id">`` and every edge a ``<polyline class="edge KIND"
id="PREFIX+edge id">``, so a page can highlight them (trace_page.py). ``badges`` puts a small number on a node
(the order backward() visits it), ``edge_notes`` a text beside an edge (the gradient it carries).
"""
from xml.sax.saxutils import escape

from tinygen.viz.graph import NODE_STYLES
from tinygen.viz.graph_layout import layered_layout

FONT = "Helvetica, Arial, sans-serif"
FONT_SIZE = 12
#: a generous average character width at FONT_SIZE, so labels fit their boxes in any sans-serif font
CHAR_WIDTH = 7.2
LINE_HEIGHT = 15
#: the same for the 10px edge notes and the 11px caption
NOTE_CHAR_WIDTH = 6.0
CAPTION_CHAR_WIDTH = 6.4
PADDING = (10, 6)
CAPTION_HEIGHT = 24
EDGE_COLOR = "#666666"
HOT_COLOR = "#d62728"

STYLE = f"""
.node text {{ font-family: {FONT}; font-size: {FONT_SIZE}px; fill: #222; }}
.node text .detail {{ fill: #555; }}
.edge {{ fill: none; stroke: {EDGE_COLOR}; stroke-width: 1.3; }}
.edge.saved {{ stroke: #999; stroke-dasharray: 4 3; }}
.badge circle {{ fill: #333; }}
.badge text, .note, .caption {{ font-family: {FONT}; }}
.badge text {{ fill: #fff; font-size: 10px; font-weight: bold; }}
.note {{ font-size: 10px; fill: #8a1c1c; paint-order: stroke; stroke: #fff; stroke-width: 3px; }}
.caption {{ font-size: 11px; fill: #555; }}
"""


def node_size(node):
    width = max(len(line) for line in node.lines) * CHAR_WIDTH + 2 * PADDING[0]
    return round(width, 1), len(node.lines) * LINE_HEIGHT + 2 * PADDING[1]


def _entry(edge, inputs):
    """Where an edge meets its target's top: its input slot's place among the target's inputs, left to right."""
    count = inputs[edge.target]
    return 0.0 if count == 1 else 0.8 * ((edge.slot + 0.5) / count - 0.5)


def graph_svg(graph, id_prefix="", badges=None, edge_notes=None):
    """The SVG text of ``graph``; ids are ``id_prefix`` + node/edge id (unique when a page holds several)."""
    badges, edge_notes = badges or {}, edge_notes or {}
    inputs = {}
    for edge in graph.edges:
        inputs[edge.target] = max(inputs.get(edge.target, 0), edge.slot + 1)
    layout = layered_layout({node.id: node_size(node) for node in graph.nodes},
                            [(edge.source, edge.target, _entry(edge, inputs)) for edge in graph.edges])
    notes = [_note(edge_notes[edge.id], route, _entry(edge, inputs))
             for edge, route in zip(graph.edges, layout.routes) if edge.id in edge_notes]
    height = layout.height + (CAPTION_HEIGHT if graph.caption else 0)
    caption_end = 12 + len(graph.caption) * CAPTION_CHAR_WIDTH if graph.caption else 0
    left = min([0.0] + [start - 4 for _, start, _ in notes])       # notes may stick out of the layout: widen
    right = max([layout.width, caption_end + 12] + [end + 4 for _, _, end in notes])
    box = f"{left:.0f} 0 {right - left:.0f} {height:.0f}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tinygen-graph" width="{right - left:.0f}" '
        f'height="{height:.0f}" viewBox="{box}">',
        f"<style>{STYLE}</style>",
        "<defs>" + _arrow(f"{id_prefix}arrow", EDGE_COLOR) + _arrow(f"{id_prefix}arrow-hot", HOT_COLOR) + "</defs>",
        f'<rect x="{left:.0f}" width="{right - left:.0f}" height="{height:.0f}" fill="#fff"/>',
    ]
    for edge, route in zip(graph.edges, layout.routes):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in route)
        marker = "" if edge.kind == "saved" else f' marker-end="url(#{id_prefix}arrow)"'
        parts.append(f'<polyline class="edge {edge.kind}" id="{id_prefix}{edge.id}" data-source="{edge.source}" '
                     f'data-target="{edge.target}" points="{points}"{marker}/>')
    for node in graph.nodes:
        parts.append(_node(node, layout, id_prefix, badges.get(node.id)))
    parts += [text for text, _, _ in notes]
    if graph.caption:
        parts.append(f'<text class="caption" x="12" y="{height - 9:.0f}">{escape(graph.caption)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _arrow(marker_id, color):
    return (f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
            f'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>')


def _note(text, route, entry):
    """A note near the end of an edge, on the side it comes from, so the notes of neighbouring edges stay apart.

    Returns the SVG text and the x where the note starts and ends (roughly: from its length)."""
    (x0, y0), (x1, y1) = route[-2], route[-1]
    x, y = x0 + 0.6 * (x1 - x0), y0 + 0.6 * (y1 - y0)
    length = len(text) * NOTE_CHAR_WIDTH
    anchor, start = ("end", x - 5 - length) if entry < 0 else ("start", x + 5)
    svg = f'<text class="note" x="{x - 5 if entry < 0 else x + 5:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
    return svg + f"{escape(text)}</text>", start, start + length


def _node(node, layout, id_prefix, badge):
    fill, border, _, style = NODE_STYLES[node.kind]
    (x, y), (width, height) = layout.centers[node.id], layout.sizes[node.id]
    left, top = x - width / 2, y - height / 2
    dashed = ' stroke-dasharray="4 3"' if "dashed" in style or node.freed else ""
    rounded = ' rx="6"' if "rounded" in style else ""
    lines = []
    for number, line in enumerate(node.lines):
        weight = ' font-weight="bold"' if number == 0 else ' class="detail"'
        lines.append(f'<tspan x="{x:.1f}" y="{top + PADDING[1] + LINE_HEIGHT * (number + 0.75):.1f}"{weight}>'
                     f"{escape(line)}</tspan>")
    parts = [
        f'<g class="node {node.kind}" id="{id_prefix}{node.id}" data-node="{node.id}">',
        f"<title>{escape(' '.join(node.lines))}</title>",
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}"{rounded} fill="{fill}" '
        f'stroke="{border}" stroke-width="1.2"{dashed}/>',
        f'<text text-anchor="middle">{"".join(lines)}</text>',
    ]
    if badge is not None:
        parts.append(f'<g class="badge"><circle cx="{left:.1f}" cy="{top:.1f}" r="9"/><text x="{left:.1f}" '
                     f'y="{top + 3.5:.1f}" text-anchor="middle">{escape(str(badge))}</text></g>')
    parts.append("</g>")
    return "".join(parts)
