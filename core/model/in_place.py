"""A layer that overwrites its input (``inplace`` set: ReLU, Hardtanh, Dropout ...) against the wires around it.

Torch writes the result into the memory the layer reads, which is safe only where nothing else reads that memory.
Where the input also goes to another layer (a skip connection into an Add), that layer silently gets the overwritten
values; where the layer before keeps its output for the backward pass (Sigmoid, ReLU), training stops at the first
step with "modified by an inplace operation"; a learned tensor expanded over the batch (one memory for every
sample) and a piece of ``x.chunk`` torch refuses to overwrite at the first forward. Each is told here, before any
code runs, naming the layer whose ``inplace`` to turn off. The memory is followed back through the layers that hand
their input's memory on (views such as Flatten, Identity: a kind's ``memory``), since overwriting a view overwrites
what it views.

A block instance counts as a layer with new memory: a conflict inside a definition is found when the instance's
copy of it is analysed (``core.model.analysis`` reports it on the instance).
"""

from __future__ import annotations

from core.model.graph import Graph
from core.model.kinds import memory
from core.model.node import Edge, Node

MEMORY = memory()  # layer id -> where its output lives, for the kinds whose output is not new memory to overwrite
MEMORY_IN_PLACE = memory(in_place=True)  # the same with their inplace set

# why memory that nobody else reads still may not be overwritten, by ``Memory``
REFUSED = {
    "kept": "{source}'s output, which torch keeps to send the gradient back through {source}, so training would "
    "stop at its first step",
    "shared": "{source}'s learned tensor, one memory shared by every sample of the batch, which torch refuses to "
    "overwrite",
    "piece": "{source}'s output, one of the pieces x.chunk hands out as views of one tensor, which torch refuses to "
    "overwrite",
}


def writes_in_place(node: Node) -> bool:
    spec = node.spec
    if spec is None or not spec.has_param("inplace"):
        return False
    return bool(node.params.get("inplace", spec.param("inplace").default))


def in_place_problems(graph: Graph, used: set[str]) -> list[tuple[str, str]]:
    """(node id, message) for each in-place layer in the code (``used``) that overwrites memory which something
    else still reads. A network still being drawn, without an Output yet, is told too: all of it counts."""
    if not graph.nodes_of_type("Output"):
        used = {node.id for node in graph.nodes}
    found: list[tuple[str, str]] = []
    for node in graph.nodes:
        if node.id in used and writes_in_place(node):
            message = _conflict(graph, node, used)
            if message:
                found.append((node.id, message))
    return found


def _conflict(graph: Graph, node: Node, used: set[str]) -> str | None:
    """Walks back from the node's input to the layer that made its memory, asking at each step whether anything
    else reads it. It stops at an earlier in-place layer (its ``memory_in_place``): what is above that one is its
    own question, and turning its ``inplace`` off gives this one new memory."""
    ports = graph.inputs_of(node.id)
    edge = ports[0] if ports else None
    through: list[str] = []  # the view layers between the node and the memory's maker
    seen = {node.id}  # wires in a cycle (told as such by the analysis) are not followed round
    while edge is not None and edge.src not in seen:
        source = graph.node(edge.src)
        seen.add(source.id)
        readers = _other_readers(graph, edge, used)
        if readers:
            return _read_elsewhere(node, source, readers, through)
        kind = (MEMORY_IN_PLACE if writes_in_place(source) else MEMORY).get(source.type, "new")
        if kind in REFUSED:
            return _refused(node, REFUSED[kind].format(source=source.name), through)
        if kind != "input":
            return None
        through.append(source.name)
        ports = graph.inputs_of(source.id)
        edge = ports[0] if ports else None
    return None


def _other_readers(graph: Graph, edge: Edge, used: set[str]) -> list[Node]:
    """The layers in the code, besides ``edge``'s, that read the same output of ``edge``'s source."""
    return [
        graph.node(e.dst)
        for e in graph.consumers(edge.src)
        if e != edge and e.src_port == edge.src_port and e.dst in used
    ]


def _via(through: list[str]) -> str:
    return f" (through {', '.join(reversed(through))})" if through else ""  # in the order the data flows


def _read_elsewhere(node: Node, source: Node, readers: list[Node], through: list[str]) -> str:
    others = " and ".join(sorted({r.name for r in readers}))
    what = f"the network's input {source.name}" if source.type == "Input" else f"{source.name}'s output"
    return (
        f"{node.name} overwrites its input in place, but its input{_via(through)} is {what}, which also goes to "
        f"{others}: {others} would read {node.name}'s result instead. Turn off inplace on {node.name}."
    )


def _refused(node: Node, what: str, through: list[str]) -> str:
    return (
        f"{node.name} overwrites its input in place, but its input{_via(through)} is {what}. "
        f"Turn off inplace on {node.name}."
    )
