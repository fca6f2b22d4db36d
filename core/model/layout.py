"""Auto-layout: arrange a graph left-to-right (or top-to-bottom) by topological layer. Pure Python, no Qt.

A simplified Sugiyama layout:
1. each node goes into the column given by the longest path from a source, so every wire points forward;
2. a wire that skips columns gets a placeholder in each column it crosses, so it keeps a lane of its own and
   does not run through the nodes in between (a residual connection runs straight past its branch);
3. column by column, each node asks for the row of the median of its feeders and gets the nearest free row
   at or below it (placeholders first, so long wires stay straight and branches step aside).
"""

from __future__ import annotations

from core.model.graph import Graph

Positions = dict[str, tuple[float, float]]
WRAP_AFTER = 8  # networks up to this many layers deep stay on one row: a chain reads best left to right


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
    aspect: float | None = None,
) -> Positions:
    """New positions for every node (``direction`` "lr" or "tb"). The top-left of the result is ``origin``
    (default: the current top-left corner of the graph, so a layout does not jump away in the view).

    With ``aspect`` (the view's width / height) a long left-to-right network is wrapped into several bands, one
    under the other, when that lets the whole network be shown larger: a 14-layer CNN in one row would be shown
    at a quarter of its size."""
    columns = layers(graph)
    if not columns:
        return {}
    row = _rows(graph, columns)
    if origin is None:
        origin = (min(n.pos[0] for n in graph.nodes), min(n.pos[1] for n in graph.nodes))
    top = min(row.values())
    per_band = len(columns)
    if direction == "lr" and aspect:
        per_band = best_band_width(columns, row, column_gap, row_gap, aspect)
    band_rows = [0.0] * ((len(columns) + per_band - 1) // per_band)
    for depth, column in enumerate(columns):
        band = depth // per_band
        band_rows[band] = max([band_rows[band], *(row[n] - top + 1 for n in column)])
    band_top = [sum(band_rows[:b]) + 0.5 * b for b in range(len(band_rows))]  # half a row between bands
    positions: Positions = {}
    for depth, column in enumerate(columns):
        band, slot = divmod(depth, per_band)
        for node_id in column:
            along = slot * column_gap
            across = (band_top[band] + row[node_id] - top) * row_gap
            x, y = (along, across) if direction == "lr" else (across, along)
            positions[node_id] = (origin[0] + x, origin[1] + y)
    return positions


def best_band_width(
    columns: list[list[str]], row: dict[str, float], column_gap: float, row_gap: float, aspect: float
) -> int:
    """How many columns per band make the laid-out network largest in a view of this aspect ratio."""
    top = min(row.values())
    best, best_scale = len(columns), 0.0
    if len(columns) <= WRAP_AFTER:
        return best
    for bands in range(1, min(4, len(columns)) + 1):
        per_band = -(-len(columns) // bands)
        height = 0.0
        for b in range(bands):
            band = columns[b * per_band : (b + 1) * per_band]
            height += max((row[n] - top + 1 for col in band for n in col), default=1.0) + (0.5 if b else 0.0)
        width = per_band * column_gap
        scale = min(aspect / width, 1.0 / (height * row_gap))
        if scale > best_scale * 1.15:  # wrap only for a clear gain: an unwrapped chain reads more easily
            best, best_scale = per_band, scale
    return best
