"""Auto-layout: arrange a graph left-to-right (or top-to-bottom) by topological layer. Pure Python, no Qt.

Each node goes into the column given by the longest path from a source (so every wire points forward); within
a column nodes are ordered by the average row of the nodes feeding them (a barycentre sweep that keeps wires
from crossing in simple networks) and the column is centred on the first one's centre line.
"""

from __future__ import annotations

from core.graph import Graph

Positions = dict[str, tuple[float, float]]


def layers(graph: Graph) -> list[list[str]]:
    """Node ids grouped by topological depth; nodes on a cycle fall back to insertion order."""
    index = {node.id: i for i, node in enumerate(graph.nodes)}
    try:
        order = graph.topological_order()
    except Exception:
        order = list(index)
    depth: dict[str, int] = {}
    for node_id in order:
        sources = [e.src for e in graph.edges if e.dst == node_id and e.src in depth]
        depth[node_id] = max((depth[s] + 1 for s in sources), default=0)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node_id in sorted(depth, key=index.__getitem__):
        columns[depth[node_id]].append(node_id)
    return columns


def layered_layout(
    graph: Graph,
    direction: str = "lr",
    column_gap: float = 270.0,
    row_gap: float = 150.0,
    origin: tuple[float, float] | None = None,
) -> Positions:
    """New positions for every node (``direction`` "lr" or "tb"); the first node's layer starts at ``origin``
    (default: where the top-left node is now, so a layout does not jump the view)."""
    columns = layers(graph)
    if not columns:
        return {}
    feeders: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for edge in graph.edges:
        feeders[edge.dst].append(edge.src)
    row: dict[str, float] = {}
    placed: list[list[str]] = []
    for column in columns:

        def barycentre(node_id: str) -> float:
            known = [row[s] for s in feeders[node_id] if s in row]
            return sum(known) / len(known) if known else float("inf")

        ordered = sorted(column, key=barycentre)  # stable: ties keep insertion order
        for i, node_id in enumerate(ordered):
            row[node_id] = i - (len(ordered) - 1) / 2
        placed.append(ordered)
    if origin is None:
        xs = [n.pos[0] for n in graph.nodes]
        ys = [n.pos[1] for n in graph.nodes]
        origin = (min(xs), min(ys))
    top = min(row.values())
    positions: Positions = {}
    for depth, column in enumerate(placed):
        for node_id in column:
            along = origin[0 if direction == "lr" else 1] + depth * column_gap
            across = origin[1 if direction == "lr" else 0] + (row[node_id] - top) * row_gap
            positions[node_id] = (along, across) if direction == "lr" else (across, along)
    return positions
