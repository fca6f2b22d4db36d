"""A Keras-``model.summary()``-like table of a graph, for ``torchcanvas check``, and the Trainable /
Non-trainable split of its parameters (a frozen node's parameters get no gradient, as Keras' ``trainable``)."""

from __future__ import annotations

from core.model.analysis import Analysis
from core.model.graph import Graph
from core.model.node import Node
from core.model.shape_rules import fmt


def layer_label(node: Node) -> str:
    """The Layer column: the layer type, or a block's name with its repeat ("BasicBlock x2, first BasicBlockDown")."""
    if node.block is None:
        return node.type
    label = node.block if node.repeat == 1 else f"{node.block} x{node.repeat}"
    return f"{label}, first {node.first_block}" if node.first_block else label


def param_split(graph: Graph, analysis: Analysis) -> tuple[int, int]:
    """(trainable, non-trainable) parameters of the used nodes: a frozen node counts whole (a frozen block
    freezes every layer in it); inside a trainable block instance, each copy counts its own frozen layers."""
    trainable = frozen = 0
    for node in graph.nodes:
        info = analysis.nodes.get(node.id)
        if info is None or not info.used:
            continue
        if not node.trainable:
            frozen += info.param_count
        elif node.block is not None and info.inner:
            for inner_graph, inner in info.inner:
                t, f = param_split(inner_graph, inner)
                trainable, frozen = trainable + t, frozen + f
        else:
            trainable += info.param_count
    return trainable, frozen


def params_line(graph: Graph, analysis: Analysis) -> str:
    """One line for a status bar: "Parameters: 11,689,512" (and how many are frozen, when some are)."""
    trainable, frozen = param_split(graph, analysis)
    total = f"Parameters: {trainable + frozen:,}"
    return f"{total} ({trainable:,} trainable, {frozen:,} frozen)" if frozen else total


def summary_table(graph: Graph, analysis: Analysis, title: str = "") -> str:
    rows = [("Node", "Layer", "Output shape", "Params", "Connected to")]
    order = analysis.order or [n.id for n in graph.nodes]
    for nid in order:
        node, info = graph.node(nid), analysis.nodes.get(nid)
        shape = fmt(info.out_shape) if info and info.out_shape is not None else "?"
        sources = ", ".join(graph.node(e.src).name for e in graph.inputs_of(nid) if e is not None)
        rows.append((node.name, layer_label(node), shape, f"{info.param_count:,}" if info else "0", sources))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    line = "  ".join("-" * w for w in widths)

    def render(row: tuple[str, ...]) -> str:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]), row[3].rjust(widths[3])]
        return "  ".join([*cells, row[4]]).rstrip()

    out = [f"Model: {title}"] if title else []
    out += [line, render(rows[0]), line, *[render(r) for r in rows[1:]], line]
    trainable, frozen = param_split(graph, analysis)
    out.append(f"Total params: {analysis.total_params:,}")
    out.append(f"Trainable params: {trainable:,}")
    out.append(f"Non-trainable params: {frozen:,}")
    outs = [fmt(s) for s in analysis.output_shapes(graph)]
    if outs:
        out.append(f"Output shape: {', '.join(outs)}")
    return "\n".join(out)
