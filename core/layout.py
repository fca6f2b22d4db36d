"""Auto-layout: arrange a graph left-to-right (or top-to-bottom) by topological layer. Pure Python, no Qt.

A simplified Sugiyama layout:
1. each node goes into the column given by the longest path from a source, so every wire points forward;
2. a wire that skips columns gets a placeholder in each column it crosses, so it keeps a lane of its own and
   does not run through the nodes in between (a residual connection runs straight past its branch);
3. column by column, each node asks for the row of the median of its feeders and gets the nearest free row
   at or below it (placeholders first, so long wires stay straight and branches step aside).
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
    feeders: dict[str, list[str]] = {nid: [] for nid in index}
    for edge in graph.edges:
        feeders[edge.dst].append(edge.src)
    depth: dict[str, int] = {}
    for node_id in order:
        depth[node_id] = max((depth[s] + 1 for s in feeders[node_id] if s in depth), default=0)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node_id in sorted(depth, key=index.__getitem__):
        columns[depth[node_id]].append(node_id)
    return columns


def _rows(graph: Graph, columns: list[list[str]]) -> dict[str, float]:
    depth = {nid: d for d, column in enumerate(columns) for nid in column}
    feeders: dict[str, list[str]] = {nid: [] for nid in depth}
    lanes: list[list[str]] = [[] for _ in columns]  # placeholders of long wires, per column
    for k, edge in enumerate(sorted(graph.edges, key=lambda e: (e.dst_port, e.src))):
        if edge.src not in depth or edge.dst not in depth:
            continue
        previous = edge.src
        for d in range(depth[edge.src] + 1, depth[edge.dst]):
            dummy = f"\0{k}:{d}"
            feeders[dummy] = [previous]
            lanes[d].append(dummy)
            previous = dummy
        feeders[edge.dst].append(previous)
    row: dict[str, float] = {}
    for d, column in enumerate(columns):
        wanted: list[tuple[float, int, int, str]] = []
        for i, item in enumerate(lanes[d] + column):
            known = sorted(row[s] for s in feeders[item] if s in row)
            median = known[(len(known) - 1) // 2] if known else float(len(wanted))
            wanted.append((median, 0 if item.startswith("\0") else 1, i, item))
        taken: set[float] = set()
        for median, _kind, _i, item in sorted(wanted):
            r = median
            while r in taken:
                r += 1
            taken.add(r)
            row[item] = r
    return {nid: r for nid, r in row.items() if not nid.startswith("\0")}


def layered_layout(
    graph: Graph,
    direction: str = "lr",
    column_gap: float = 270.0,
    row_gap: float = 150.0,
    origin: tuple[float, float] | None = None,
) -> Positions:
    """New positions for every node (``direction`` "lr" or "tb"). The top-left of the result is ``origin``
    (default: the current top-left corner of the graph, so a layout does not jump away in the view)."""
    columns = layers(graph)
    if not columns:
        return {}
    row = _rows(graph, columns)
    if origin is None:
        origin = (min(n.pos[0] for n in graph.nodes), min(n.pos[1] for n in graph.nodes))
    top = min(row.values())
    positions: Positions = {}
    for depth, column in enumerate(columns):
        for node_id in column:
            along = depth * column_gap
            across = (row[node_id] - top) * row_gap
            x, y = (along, across) if direction == "lr" else (across, along)
            positions[node_id] = (origin[0] + x, origin[1] + y)
    return positions
