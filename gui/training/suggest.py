"""The training settings that suit a dataset and the network (loss, batch size, epochs), suggested when the user
picks a dataset; which node is the network's Input, whose shape follows the dataset; and the note that says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.datasets.fit import data_fit, fit_changes, starts_from_weights
from core.datasets.info import DataInfo, dataset_info
from core.model.graph import Graph
from core.settings import TrainingSettings

if TYPE_CHECKING:
    from core.datasets import Dataset


def input_node_id(graph: Graph) -> str | None:
    inputs = graph.nodes_of_type("Input")
    return inputs[0].id if len(inputs) == 1 else None


def input_shape_for(
    graph: Graph, dataset: Dataset, training: TrainingSettings | None = None
) -> tuple[str, list[int]] | None:
    """The Input node and the dataset's sample shape, when the Input does not take that shape yet and may change:
    an image Input of a network that starts from weights stays (``data_fit_changes`` fits the images to it)."""
    node_id = input_node_id(graph)
    shape = [int(d) for d in (getattr(dataset, "sample_shape", ()) or dataset.input_shape)]
    if node_id is None or list(graph.node(node_id).params.get("shape", [])) == shape:
        return None
    if training is not None and _fixed_image_input(graph, shape, training):
        return None
    return node_id, shape


def _fixed_image_input(graph: Graph, sample: list[int], training: TrainingSettings) -> bool:
    """Images into an image Input that the network's starting weights fix (a pretrained classifier's 3x224x224)."""
    node_id = input_node_id(graph)
    shape = list(graph.node(node_id).params.get("shape", [])) if node_id else []
    images = len(sample) == 3 and sample[0] in (1, 3)
    return starts_from_weights(training) and images and len(shape) == 3 and shape[0] in (1, 3)


def data_fit_changes(graph: Graph, dataset: Dataset, training: TrainingSettings) -> dict[str, Any]:
    """The settings that fit ``dataset``'s images to a network whose Input its starting weights fix: the resize
    to its size (grey is then repeated in its 3 channels) and, for torchvision's weights, their own mean and std
    (``core.datasets.fit.fit_changes``); {} for any other network or data."""
    spec = getattr(getattr(dataset, "spec", None), "text", None)
    sample = [int(d) for d in (getattr(dataset, "sample_shape", ()) or ())]
    node_id = input_node_id(graph)
    if spec is None or node_id is None or not _fixed_image_input(graph, sample, training):
        return {}
    shape = tuple(int(d) for d in graph.node(node_id).params.get("shape", ()))
    trial = TrainingSettings.from_dict({**training.to_dict(), "dataset": spec})
    fit = fit_changes(dataset_info(spec), shape, trial)
    return dict(fit.changes) if fit is not None else {}


def _fit_of(graph: Graph, training: TrainingSettings) -> tuple[DataInfo, tuple[int, ...]] | None:
    """The project's dataset description and its Input's shape (None without one Input or a known dataset)."""
    node_id = input_node_id(graph)
    info = dataset_info(training.dataset) if node_id is not None else None
    if node_id is None or info is None:
        return None
    return info, tuple(int(d) for d in graph.node(node_id).params.get("shape", ()))


def data_fit_note(graph: Graph, training: TrainingSettings) -> str:
    """The task check's words when the data does not fit a network whose Input its weights fix, with the link
    that fits it ('fit:', ``data_fit_fix``); '' otherwise. Cheap: no torch, no torchvision."""
    found = _fit_of(graph, training)
    fit = data_fit(found[0], found[1], training) if found is not None else None
    return f"{fit.message}. <a href='fit:'>Fit the data to the network</a>" if fit is not None else ""


def data_fit_fix(graph: Graph, training: TrainingSettings) -> dict[str, Any]:
    """The settings ``data_fit_note``'s link applies (one undo step): the resize and the weights' mean and std."""
    found = _fit_of(graph, training)
    fit = fit_changes(found[0], found[1], training) if found is not None else None
    return dict(fit.changes) if fit is not None else {}


def ends_with_log_softmax(graph: Graph) -> bool:
    """Whether the layer feeding the Output is LogSoftmax (then NLLLoss is the matching loss)."""
    for out in graph.nodes_of_type("Output"):
        for edge in graph.inputs_of(out.id):
            if edge is not None and graph.node(edge.src).type == "LogSoftmax":
                return True
    return False


def suggest(dataset: Dataset, graph: Graph, current: TrainingSettings) -> dict[str, Any]:
    """Settings that suit ``dataset`` and the network: loss from the task and the last layer, batch size and
    epochs from the dataset size. Only fields that differ from ``current`` are returned."""
    if getattr(dataset, "task", "classification") == "regression":
        loss = "MSELoss"
    elif ends_with_log_softmax(graph):
        loss = "NLLLoss"
    else:
        loss = "CrossEntropyLoss"
    n_train = len(dataset.y_train) if dataset.y_train is not None else 0  # none: a lazy image folder
    values: dict[str, Any] = {"loss": loss, **data_fit_changes(graph, dataset, current)}
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
    if "resize" in changes:  # data_fit_changes: the images come to a network whose Input its weights fix
        notes.append(f"images resized to {changes['resize'][0]}x{changes['resize'][1]} for the network")
    if "mean" in changes:
        notes.append("normalised with the pretrained weights' own mean and std")
    others = {k: v for k, v in changes.items() if k not in ("dataset", "resize", "mean", "std", "normalize")}
    if others:
        notes.append("suggested " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in others.items()))
    return ("For this dataset: " + "; ".join(notes) + ".") if notes else ""


FEW_STEPS = 20  # updates an epoch below which a network learns little per epoch and the curves say little
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Updates in one epoch: the last, smaller batch counts (the training loop keeps it)."""
    return -(-n_train // max(1, batch_size)) if n_train > 0 else 0


def batch_for_steps(n_train: int, steps: int = FEW_STEPS) -> int | None:
    """The largest power of two that gives at least ``steps`` updates an epoch (None when even 1 does not)."""
    if n_train < steps:
        return None
    batch = 1
    while steps_per_epoch(n_train, batch * 2) >= steps:
        batch *= 2
    return batch


def _count(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def steps_text(n_train: int, batch_size: int) -> str:
    """'8 steps an epoch' beside the batch size ('' before the data is loaded)."""
    if n_train <= 0:
        return ""
    steps = steps_per_epoch(n_train, batch_size)
    return f"{steps:,} step{'s' if steps != 1 else ''} an epoch"


def few_steps_advice(n_train: int, batch_size: int) -> tuple[str, int | None]:
    """('Batch 128 on 240 training samples is two updates an epoch: …', 8) when an epoch has fewer than
    FEW_STEPS updates and a smaller batch gives enough; ('', None) otherwise."""
    steps = steps_per_epoch(n_train, batch_size)
    better = batch_for_steps(n_train)
    if n_train <= 0 or steps >= FEW_STEPS or better is None or better >= batch_size:
        return "", None
    update = "update" if steps == 1 else "updates"
    text = (
        f"Batch {batch_size} on {n_train:,} training samples is {_count(steps)} {update} an epoch: the network "
        f"learns little per epoch. Batch {better} gives {steps_per_epoch(n_train, better)}."
    )
    return text, better


def few_steps_note(n_train: int, batch_size: int) -> str:
    """``few_steps_advice`` with a link that sets the batch size it names ('batch:8'), or ''."""
    advice, better = few_steps_advice(n_train, batch_size)
    return f"{advice} <a href='batch:{better}'>Use batch size {better}</a>" if better is not None else advice
