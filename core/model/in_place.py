"""A layer that overwrites its input (``inplace`` set: ReLU, Hardtanh, Dropout ...) against the wires around it.

Torch writes the result into the memory the layer reads, which is safe only where nothing else reads that memory.
Where the input also goes to another layer (a skip connection into an Add), that layer silently gets the overwritten
values; where the layer before keeps its output for the backward pass (Sigmoid, ReLU), training stops at the first
step with "modified by an inplace operation"; a learned tensor expanded over the batch (one memory for every
sample) and a piece of ``x.chunk`` torch refuses to overwrite at the first forward. Each is told here, before any
code runs, naming the layer whose ``inplace`` to turn off. The memory is followed back through the layers that hand
their input's memory on (views such as Flatten, Identity: a kind's ``memory``), since overwriting a view overwrites
what it views.

Memory crosses a block's boundary as it is: a block's first layer may overwrite the block's input, which a skip
connection outside also reads; a block may hand its input on as its output (Identity, Flatten) or end with a layer
that keeps its output (Sigmoid). So the walk runs over the network with every instance opened up
(``core.model.in_place_flat``). A conflict that stays inside one copy of an instance is the instance's own analysis'
to tell (``core.model.analysis`` reports it on the instance); one that crosses the boundary is told here, on the
instance when the layer that overwrites is inside it, else on that layer.
"""

from __future__ import annotations

from core.model.graph import Graph
from core.model.in_place_flat import MEMORY as MEMORY
from core.model.in_place_flat import MEMORY_IN_PLACE as MEMORY_IN_PLACE
from core.model.in_place_flat import Flat, Layer, flatten

# why memory that nobody else reads still may not be overwritten, by ``Memory``
REFUSED = {
    "kept": "{source}'s output, which torch keeps to send the gradient back through {source}, so training would "
    "stop at its first step",
    "shared": "{source}'s learned tensor, one memory shared by every sample of the batch, which torch refuses to "
    "overwrite",
    "piece": "{source}'s output, one of the pieces x.chunk hands out as views of one tensor, which torch refuses to "
    "overwrite",
}


def in_place_problems(graph: Graph, used: set[str]) -> list[tuple[str, str]]:
    """(node id, message) for each in-place layer in the code (``used``) that overwrites memory which something
    else still reads. A network still being drawn, without an Output yet, is told too: all of it counts."""
    if not graph.nodes_of_type("Output"):
        used = {node.id for node in graph.nodes}
    flat = flatten(graph, used)
    found: list[tuple[str, str]] = []
    told: set[str] = set()  # an instance is told its first conflict, as the analysis tells one problem inside
    for index, layer in enumerate(flat.layers):
        if not layer.writes:
            continue
        where = layer.scope[0] if layer.scope else layer.node.id
        if where in told:
            continue
        message = _conflict(flat, index)
        if message:
            found.append((where, message))
            if layer.scope:
                told.add(where)
    return found


def _conflict(flat: Flat, index: int) -> str | None:
    """Walks back from the layer's input to the layer that made its memory, asking at each step whether anything
    else reads it. It stops at an earlier in-place layer (its ``memory_in_place``): what is above that one is its
    own question, and turning its ``inplace`` off gives this one new memory.

    From a layer inside an instance copy (its ``scope``), what the walk meets until it leaves the copy by one of
    the copy's inputs is what the copy's own analysis met: told there (or cleared), not again here."""
    layer = flat.layers[index]
    value, reader = layer.inputs[0] if layer.inputs else None, (index, 0)
    through: list[str] = []  # the view layers between the layer and the memory's maker
    seen = {index}  # wires in a cycle (told as such by the analysis) are not followed round
    scope = layer.scope
    inside = scope is not None  # not yet out of the copy the layer is in
    exported = flat.exported.get(scope, set()) if scope else set()  # what the copy's Outputs hand out
    while value is not None and value[0] not in seen:
        source = flat.layers[value[0]]
        seen.add(value[0])
        readers = [flat.layers[d] for d, port in flat.readers(value) if (d, port) != reader]
        kind = flat.memory(source)
        if inside and source.scope == scope:
            if readers or value in exported or kind != "input":  # a second reader inside (or the copy's Output),
                return None  # or the memory's maker inside: the copy's own analysis told it (or cleared it)
        elif inside and (value in exported or any(r.scope == scope for r in readers)):
            return None  # the copy's Input feeds a second layer inside (or its Output): the copy told it
        else:
            inside = False  # to the copy its Input was new memory: what lies beyond it is told here
            if readers:
                return _read_elsewhere(layer, source, readers, through)
            if kind in REFUSED:
                return _refused(layer, REFUSED[kind].format(source=source.label), through)
            if kind != "input":
                return None
        through.append(source.label)
        reader = (value[0], 0)
        value = source.inputs[0] if source.inputs else None
    return None


def _via(through: list[str]) -> str:
    return f" (through {', '.join(reversed(through))})" if through else ""  # in the order the data flows


def _read_elsewhere(layer: Layer, source: Layer, readers: list[Layer], through: list[str]) -> str:
    others = " and ".join(sorted({r.label for r in readers}))
    what = f"the network's input {source.label}" if source.node.type == "Input" else f"{source.label}'s output"
    return (
        f"{layer.label} overwrites its input in place, but its input{_via(through)} is {what}, which also goes to "
        f"{others}: {others} would read {layer.label}'s result instead. {layer.fix}."
    )


def _refused(layer: Layer, what: str, through: list[str]) -> str:
    return f"{layer.label} overwrites its input in place, but its input{_via(through)} is {what}. {layer.fix}."
