"""A new head for the user's classes: a pretrained classifier ends in a Linear with ImageNet's 1000 outputs; the
user's dataset has its own number of classes. Keras' ``include_top=False`` plus a new ``Dense(classes)``: here the
last Linear's ``out_features`` becomes the number of classes, its weights then start fresh (the pretrained ones
score ImageNet's classes) while every layer before it keeps its pretrained weights."""

from __future__ import annotations

from dataclasses import dataclass

from core.datasets.info import DataInfo, dataset_info
from core.model.analysis import Analysis
from core.model.graph import Graph
from core.model.node import Node
from core.model.task_check import CLASS_LOSSES, KEEPS_SHAPE
from core.settings import TrainingSettings


@dataclass(frozen=True)
class HeadFit:
    node_id: str  # the last Linear, in the network or (``block``) in the definition of the instance that ends it
    name: str  # "fc", or "classifier › m_3" inside a block
    old: int  # its out_features now
    new: int  # the dataset's classes
    dataset: str
    block: str | None = None  # the definition holding the Linear (an imported classifier's Classifier block)
    instance_id: str | None = None  # the block instance at the end of the network
    arg: str | None = None  # the instance's argument bound to that out_features, when there is one
    thaw: str | None = None  # the node to unfreeze in the network (the frozen Linear or the frozen instance)

    def note(self) -> str:
        """What changed, for the status bar and the inspector."""
        thawed = "; it was frozen and now trains" if self.thaw else ""
        return (
            f"New head: {self.name}'s out_features {self.old} → {self.new} for the {self.new} classes of "
            f"{self.dataset}. Its weights start fresh (the pretrained ones scored {self.old} classes); the layers "
            f"before it keep theirs{thawed}."
        )


def _last_layer(graph: Graph, node: Node) -> Node | None:
    """The layer that sets ``node``'s width (an Output's): walks back through activations, dropout and norms."""
    current = node
    while True:
        ports = graph.inputs_of(current.id)
        edge = ports[0] if ports else None
        if edge is None:
            return None
        current = graph.node(edge.src)
        if current.type not in KEEPS_SHAPE or current.type == "Input":
            return current


def _users(graph: Graph, name: str) -> int:
    """How many instances (in the network and in every definition) use the definition ``name``."""
    graphs = [graph, *(defn.graph for defn in graph.blocks.values())]
    return sum(1 for g in graphs for n in g.nodes if name in (n.block, n.first_block))


def _in_block(graph: Graph, instance: Node) -> tuple[str, Node, str | None] | None:
    """(definition, its last Linear, the argument bound to its out_features) for an instance that ends in one."""
    defn = graph.blocks.get(instance.block or "")
    if defn is None or instance.repeat != 1 or instance.first_block or len(defn.output_ids) != 1:
        return None
    if _users(graph, defn.name) != 1:
        return None  # shared by other instances: changing it would change them too
    last = _last_layer(defn.graph, defn.graph.node(defn.output_ids[0]))
    if last is None or last.type != "Linear":
        return None
    return defn.name, last, defn.bindings.get((last.id, "out_features"))


def head_fit(
    graph: Graph, analysis: Analysis, training: TrainingSettings, info: DataInfo | None = None
) -> HeadFit | None:
    """The change that fits a classifier's last Linear to the dataset's classes, or None when it already fits, the
    task is not classification with a class loss, or the network does not end in a Linear (or a block of its own
    ending in one, as torchvision's ``classifier`` Sequential imports) on [N, features]."""
    info = info or dataset_info(training.dataset)
    outputs = graph.nodes_of_type("Output")
    if info is None or info.task != "classification" or not info.num_classes or len(outputs) != 1:
        return None
    if training.loss not in CLASS_LOSSES:
        return None
    last = _last_layer(graph, outputs[0])
    node_info = analysis.nodes.get(last.id) if last is not None else None
    if last is None or node_info is None or node_info.out_shape is None or len(node_info.out_shape) != 2:
        return None
    old, classes = int(node_info.out_shape[1] or 0), int(info.num_classes)
    if old == classes:
        return None
    thaw = None if last.trainable else last.id
    if last.type == "Linear":
        return HeadFit(last.id, last.name, old, classes, info.name, thaw=thaw)
    inside = _in_block(graph, last) if last.block is not None else None
    if inside is None:
        return None
    block, linear, arg = inside
    name = f"{last.name} › {linear.name}"
    return HeadFit(linear.id, name, old, classes, info.name, block, last.id, arg, thaw)
