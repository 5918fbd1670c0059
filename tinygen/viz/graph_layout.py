"""A small layered layout (Sugiyama's method), so a graph can be drawn as SVG with nothing installed.

1. Layers: a node sits one layer above the highest node it feeds, so the outputs are at the bottom and each
   leaf sits just above the op that reads it (layer = longest path down to an output).
2. An edge that spans several layers gets a waypoint in every layer in between: it is drawn as a polyline,
   and its waypoints take part in the ordering, so long edges are routed around nodes.
3. Order within each layer: a few sweeps, down then up, that sort a layer by the mean position of each
   node's neighbours in the layer just placed (the barycenter heuristic); this removes most crossings.
4. x: each node moves towards the mean x of its neighbours, with the nodes of a layer kept apart (the mean
   of a left-packed and a right-packed placement, which keeps both spacings); y: one band per layer.
"""

#: width a waypoint of a long edge takes in its layer
WAYPOINT_WIDTH = 10


class Layout:
    """``centers[node]`` = (x, y), ``sizes[node]`` = (width, height), ``routes[i]``: the points of edge i."""

    def __init__(self, centers, sizes, routes, width, height):
        self.centers, self.sizes, self.routes, self.width, self.height = centers, sizes, routes, width, height


def layered_layout(sizes, edges, gap_x=18, gap_y=40, margin=12, sweeps=4):
    """Place the nodes of a DAG: ``sizes`` {node: (width, height)} in a preferred initial order, ``edges`` a
    list of (source, target, entry) with ``entry`` in [-0.5, 0.5]: where on the target's top edge it arrives."""
    nodes = list(sizes)
    layer_of = _layers(nodes, [(source, target) for source, target, _ in edges])
    chains, layer_of = _waypoints(edges, layer_of)
    layers = [[] for _ in range(max(layer_of.values(), default=0) + 1)]
    for node in layer_of:  # real nodes in their given order, then waypoints as they were made
        layers[layer_of[node]].append(node)
    above, below = _neighbours(chains, layer_of)
    _order(layers, above, below, sweeps)
    widths = {node: sizes[node][0] if node in sizes else WAYPOINT_WIDTH for node in layer_of}
    x = _x_positions(layers, above, below, widths, gap_x, margin)
    y, height = _y_positions(layers, sizes, gap_y, margin)
    centers = {node: (x[node], y[node]) for node in layer_of}
    routes = []
    for source, target, entry in edges:
        middle = [centers[point] for point in chains[(source, target)][1:-1]]
        (x0, y0), (x1, y1) = centers[source], centers[target]
        start, end = (x0, y0 + sizes[source][1] / 2), (x1 + entry * sizes[target][0], y1 - sizes[target][1] / 2)
        routes.append([start, *middle, end])
    width = max((x[node] + widths[node] / 2 for node in layer_of), default=0) + margin
    return Layout({node: centers[node] for node in nodes}, sizes, routes, width, height)


def _layers(nodes, edges):
    """Layer of each node, 0 at the top: the length of the longest path from it down to a node that feeds none."""
    below = {node: [] for node in nodes}
    waiting = dict.fromkeys(nodes, 0)  # edges still to come into each node
    for source, target in edges:
        below[source].append(target)
        waiting[target] += 1
    ready, order = [node for node in nodes if waiting[node] == 0], []
    while ready:  # Kahn: a node once everything that feeds it is placed
        node = ready.pop()
        order.append(node)
        for target in below[node]:
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    if len(order) != len(nodes):
        raise ValueError("layered_layout: the graph has a cycle; only a DAG can be laid out in layers")
    height = {}
    for node in reversed(order):
        height[node] = max((height[target] + 1 for target in below[node]), default=0)
    top = max(height.values(), default=0)
    return {node: top - height[node] for node in nodes}


def _waypoints(edges, layer_of):
    """Each (source, target) pair's chain of nodes, one per layer, with waypoints where it skips layers."""
    layer_of, chains = dict(layer_of), {}
    for source, target, _ in edges:
        if (source, target) in chains:
            continue
        chain = [source]
        for layer in range(layer_of[source] + 1, layer_of[target]):
            waypoint = ("waypoint", source, target, layer)
            layer_of[waypoint] = layer
            chain.append(waypoint)
        chains[(source, target)] = chain + [target]
    return chains, layer_of


def _neighbours(chains, layer_of):
    above = {node: [] for node in layer_of}
    below = {node: [] for node in layer_of}
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:]):
            below[upper].append(lower)
            above[lower].append(upper)
    return above, below


def _order(layers, above, below, sweeps):
    """Barycenter sweeps: sort each layer by its nodes' mean neighbour position in the previous layer."""
    position = {node: index for layer in layers for index, node in enumerate(layer)}
    for _ in range(sweeps):
        for layer in layers[1:]:
            _sort_by_barycenter(layer, above, position)
        for layer in reversed(layers[:-1]):
            _sort_by_barycenter(layer, below, position)


def _sort_by_barycenter(layer, neighbours, position):
    def barycenter(node):
        linked = neighbours[node]
        return sum(position[other] for other in linked) / len(linked) if linked else position[node]

    layer.sort(key=barycenter)  # stable: ties keep their order
    for index, node in enumerate(layer):
        position[node] = index


def _x_positions(layers, above, below, widths, gap, margin, rounds=8):
    x = {}
    for layer in layers:  # start packed from the left
        right = margin
        for node in layer:
            x[node] = right + widths[node] / 2
            right += widths[node] + gap
    for round_number in range(rounds):
        for layer in layers if round_number % 2 == 0 else reversed(layers):
            wanted = []
            for node in layer:
                linked = above[node] + below[node]
                wanted.append(sum(x[other] for other in linked) / len(linked) if linked else x[node])
            for node, value in zip(layer, _spread(wanted, [widths[node] for node in layer], gap)):
                x[node] = value
    shift = margin - min(x[node] - widths[node] / 2 for node in x)
    return {node: value + shift for node, value in x.items()}


def _spread(wanted, widths, gap):
    """Positions as close to ``wanted`` as a simple rule allows, in order, each pair at least its spacing apart."""
    spacing = [(widths[i] + widths[i + 1]) / 2 + gap for i in range(len(widths) - 1)]
    left, right = list(wanted), list(wanted)
    for i in range(1, len(left)):
        left[i] = max(left[i], left[i - 1] + spacing[i - 1])
    for i in range(len(right) - 2, -1, -1):
        right[i] = min(right[i], right[i + 1] - spacing[i])
    return [(a + b) / 2 for a, b in zip(left, right)]


def _y_positions(layers, sizes, gap, margin):
    y, top = {}, margin
    for layer in layers:
        band = max((sizes[node][1] for node in layer if node in sizes), default=0)
        for node in layer:
            y[node] = top + band / 2
        top += band + gap
    return y, top - gap + margin
