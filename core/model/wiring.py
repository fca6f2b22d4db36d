"""What is wrong with a network's wiring before any shape is computed: no Input or Output, a cycle, an open input
port, a layer of an unknown type, a branch that reaches no Output, nodes no Input reaches.

Each gap is reported once, where the user can fix it, and the nodes behind it are not blamed again; the shape
inference (``core.model.analysis``) then runs only on the nodes that feed an Output. Kept apart from the
inference because it reads only the wires, never a shape or a parameter.
"""

from __future__ import annotations

from core.model.graph import Graph
from core.model.node import Node
from core.model.problem import Problem


def wiring_problems(graph: Graph) -> tuple[list[Problem], set[str]]:
    """Structural problems, and the ids of the nodes that feed some Output (the ones that become code).

    Each gap is reported once, where it is: a missing Output is one problem (not a warning on every layer), an
    unused branch is named at its dead end, and nodes cut off behind an unconnected input are not listed again.
    """
    inputs, outputs = graph.nodes_of_type("Input"), graph.nodes_of_type("Output")
    problems = _missing_ends(inputs, outputs) + _cycle(graph)
    feeds_output: set[str] = set()
    for node in outputs:
        feeds_output |= {node.id} | graph.upstream(node.id)
    gaps: set[str] = set()  # nodes with an open input port or of an unknown type: the cause of what follows them
    for node in graph.nodes:
        problems.extend(_node_wiring(graph, node, gaps, bool(outputs) and node.id not in feeds_output))
    if inputs:
        problems.extend(_unreachable(graph, inputs, gaps))
    return problems, feeds_output


def _missing_ends(inputs: list[Node], outputs: list[Node]) -> list[Problem]:
    problems: list[Problem] = []
    if not inputs:
        problems.append(
            Problem("The network has no Input node: add one from the Input group and connect it to the first layer.")
        )
    if not outputs:
        problems.append(
            Problem("The network has no Output node: add one from the Output group and connect the last layer to it.")
        )
    return problems


def _cycle(graph: Graph) -> list[Problem]:
    cycle = graph.find_cycle()
    if not cycle:
        return []
    names = " -> ".join(graph.node(nid).name for nid in cycle)
    return [
        Problem(
            f"The wires form a cycle ({names} -> {graph.node(cycle[0]).name}): data cannot "
            "flow in a circle; remove one of these wires.",
            cycle[0],
        )
    ]


def _node_wiring(graph: Graph, node: Node, gaps: set[str], unused: bool) -> list[Problem]:
    """One node's gaps: an unknown type, no wires at all, an open input, or an output that reaches no Output.

    Adds the node to ``gaps`` when what follows it cannot work because of it."""
    spec = node.spec
    if spec is None and node.block is not None:
        return _block_wiring(graph, node, gaps)
    if spec is None:
        gaps.add(node.id)
        return [
            Problem(
                f"{node.name} is of an unknown layer type '{node.type}' (perhaps made by a newer "
                "TorchCanvas): delete it or replace it with a known layer.",
                node.id,
            )
        ]
    ports = graph.inputs_of(node.id)
    if ports and not graph.degree(node.id) and len(graph) > 1 and spec.outputs:
        gaps.add(node.id)
        return [
            Problem(
                f"{node.name} is not connected: drag a wire from the previous layer's output to its "
                f"input{'s' if len(ports) > 1 else ''} and one from its output to the next layer, or delete it.",
                node.id,
                kind="unconnected",
            )
        ]
    problems: list[Problem] = []
    for port, edge in enumerate(ports):
        if edge is None:
            gaps.add(node.id)
            where = f"Input {port + 1} of {node.name}" if len(ports) > 1 else f"{node.name}'s input"
            problems.append(
                Problem(
                    f"{where} is not connected: drag a wire from the previous layer's output to it.",
                    node.id,
                    kind="unconnected",
                )
            )
    if unused and spec.outputs and not graph.out_degree(node.id):
        problems.append(
            Problem(
                f"{node.name}'s output is not used, so it is left out of the code: connect it "
                "to the next layer or to the Output, or delete it.",
                node.id,
                "warning",
                kind="unconnected",
            )
        )
    return problems


def _unreachable(graph: Graph, inputs: list[Node], gaps: set[str]) -> list[Problem]:
    """Nodes no Input reaches, unless an earlier gap already explains why."""
    reach_from_input: set[str] = set()
    for node in inputs:
        reach_from_input |= {node.id} | graph.downstream(node.id)
    return [
        Problem(f"{node.name} is not reachable from any Input: connect it to the network.", node.id, kind="unconnected")
        for node in graph.nodes
        if node.id not in reach_from_input
        and node.id not in gaps
        and (node.spec is not None or node.block is not None)
        and not (graph.upstream(node.id) & gaps)
    ]


def _block_wiring(graph: Graph, node: Node, gaps: set[str]) -> list[Problem]:
    problems = []
    if node.block not in graph.blocks:
        gaps.add(node.id)
        return [Problem(f"{node.name} uses a block '{node.block}' that this project does not define.", node.id)]
    for port, edge in enumerate(graph.inputs_of(node.id)):
        if edge is None:
            gaps.add(node.id)
            problems.append(
                Problem(
                    f"Input {port + 1} of {node.name} is not connected: drag a wire from the previous layer's output "
                    "to it.",
                    node.id,
                    kind="unconnected",
                )
            )
    return problems
