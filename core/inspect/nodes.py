"""Which graph node a submodule of the generated network stands for, so every view names what the user drew.

The code generator gives each node one attribute of ``Net`` (``GeneratedCode.attr_names``: node id -> attribute,
from its name allocator: ``fc1``, ``relu1`` ...); a block's inner layers are submodules of that attribute. The
views take the live model (the trainer's, or one built here) and read names through this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.code.codegen import CodegenError, generate_model
from core.errors import TorchCanvasError
from core.model.analysis import analyze
from core.model.graph import Graph


class InspectError(TorchCanvasError):
    """A look inside the network that cannot be done, said plainly (which node, and what to do)."""


@dataclass(frozen=True)
class NodeRef:
    node_id: str
    name: str  # the node's name on the canvas
    type: str  # its layer id: Linear, Conv2d, ReLU ...
    attr: str  # the attribute of the generated Net that computes it


def module_nodes(graph: Graph) -> dict[str, NodeRef]:
    """Attribute of the generated ``Net`` -> the node it computes, in the graph's topological order."""
    analysis = analyze(graph)
    if not analysis.ok:
        raise InspectError(f"The network has problems to fix first: {analysis.errors[0].message}")
    try:
        code = generate_model(graph, analysis=analysis)
    except CodegenError as exc:
        raise InspectError(str(exc)) from None
    table: dict[str, NodeRef] = {}
    for node_id in analysis.order:
        attr = code.attr_names.get(node_id)
        if attr is not None:
            node = graph.node(node_id)
            table[attr] = NodeRef(node_id, node.name, node.type, attr)
    return table


def label(module_path: str, table: dict[str, NodeRef]) -> str:
    """How a view names a submodule: the node's name, with the inner path for a layer inside a block."""
    head, _, rest = module_path.partition(".")
    ref = table.get(head)
    name = ref.name if ref is not None else head
    return f"{name} ({rest})" if rest else name
