"""The training settings that suit a dataset and the network (loss, batch size, epochs), suggested when the user
picks a dataset; which node is the network's Input, whose shape follows the dataset; and the note that says so."""

from __future__ import annotations

from typing import Any

from core.settings import TrainingSettings


def input_node_id(graph: Any) -> str | None:
    inputs = graph.nodes_of_type("Input")
    return inputs[0].id if len(inputs) == 1 else None


def input_shape_for(graph: Any, dataset: Any) -> tuple[str, list[int]] | None:
    """The Input node and the dataset's sample shape, when the Input does not take that shape yet."""
    node_id = input_node_id(graph)
    shape = [int(d) for d in (getattr(dataset, "sample_shape", ()) or dataset.input_shape)]
    if node_id is None or list(graph.node(node_id).params.get("shape", [])) == shape:
        return None
    return node_id, shape


def ends_with_log_softmax(graph: Any) -> bool:
    """Whether the layer feeding the Output is LogSoftmax (then NLLLoss is the matching loss)."""
    for out in graph.nodes_of_type("Output"):
        for edge in graph.inputs_of(out.id):
            if edge is not None and graph.node(edge.src).type == "LogSoftmax":
                return True
    return False


def suggest(dataset: Any, graph: Any, current: TrainingSettings) -> dict[str, Any]:
    """Settings that suit ``dataset`` and the network: loss from the task and the last layer, batch size and
    epochs from the dataset size. Only fields that differ from ``current`` are returned."""
    if getattr(dataset, "task", "classification") == "regression":
        loss = "MSELoss"
    elif ends_with_log_softmax(graph):
        loss = "NLLLoss"
    else:
        loss = "CrossEntropyLoss"
    try:
        n_train = len(dataset.y_train)
    except TypeError:
        n_train = 0
    values: dict[str, Any] = {"loss": loss}
    if getattr(dataset, "is_2d", False):
        values.update(batch_size=32, epochs=max(current.epochs, 30))
    else:
        values["batch_size"] = 32 if n_train < 5000 else 128
    old = current.to_dict()
    return {k: v for k, v in values.items() if k in old and old[k] != v}


def suggestion_note(changes: dict[str, Any], input_shape: list[int] | None) -> str:
    """'For this dataset: the Input node now takes [4]; suggested loss MSELoss, batch size 32.' ('' when nothing
    but the dataset changed)."""
    notes = [f"the Input node now takes {input_shape}"] if input_shape is not None else []
    others = {k: v for k, v in changes.items() if k != "dataset"}
    if others:
        notes.append("suggested " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in others.items()))
    return ("For this dataset: " + "; ".join(notes) + ".") if notes else ""
