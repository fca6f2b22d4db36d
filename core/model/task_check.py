"""The network against its task: the Input against the dataset's samples, the output against its classes and loss.

A graph can be valid PyTorch and still unable to train: Input -> Conv2d -> MaxPool2d -> Linear(10) runs, but its
[N, 32, 13, 10] output cannot be compared with digits' class labels. These checks use only the dataset's metadata
(``core.datasets.info``), so ``analyze(graph, training)`` can run them after every edit. Each problem names the
node to change and the change; they mirror what the loaders and ``core.training.loaders.check_fit`` refuse.
"""

from __future__ import annotations

import math
from typing import Any

from core.datasets.fit import data_fit, fitted_sample, grey_into_rgb, rgb_into_grey
from core.datasets.folder import wxh
from core.datasets.info import DataInfo, dataset_info, loaded_shape
from core.model.analysis import Analysis
from core.model.graph import Graph
from core.model.kinds import keeps_shape
from core.model.node import Node
from core.model.padding_check import max_length_advice, padding_notes
from core.model.per_step import drop_per_step_advice
from core.model.problem import Problem
from core.model.shape_rules import RULES, Shape, fmt, numel
from core.settings import TrainingSettings

CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")  # class indices as targets; the others compare one float per output
# Layers that hand their input's shape on unchanged: walked through when looking for the layer to fix (a kind's
# ``keeps_shape``; a kind without a shape rule passes its input through anyway).
KEEPS_SHAPE = keeps_shape()


def task_problems(
    graph: Graph, analysis: Analysis, training: TrainingSettings, info: DataInfo | None = None
) -> list[Problem]:
    """Problems of the network against ``training``'s dataset and loss (none when the dataset is not known)."""
    drop_per_step_advice(graph, analysis)  # a per-step model's Linear on [N, T, H] is meant
    info = info or dataset_info(training.dataset)
    if info is None:
        return freeze_notes(graph, analysis, training)
    inputs = graph.nodes_of_type("Input")
    if info.problems:  # the data cannot load: what it holds cannot be compared with the network yet
        where = inputs[0].id if len(inputs) == 1 else None
        return [Problem(message, where, kind="task") for message in info.problems]
    problems: list[Problem] = freeze_notes(graph, analysis, training)
    if len(inputs) == 1:
        problems += _input_problems(inputs[0], info, training)
        problems += _image_notes(inputs[0], info, training)
    problems += _embedding_problems(graph, analysis, info)
    problems += padding_notes(graph, info, training)
    _token_advice(analysis, info)
    outputs = graph.nodes_of_type("Output")
    if len(outputs) == 1:
        problems += _output_problems(graph, analysis, outputs[0], info, training.loss)
    return problems


def new_input_params(training: TrainingSettings) -> dict[str, Any]:
    """Parameters for a new Input node that fit the project's dataset ({} when the dataset is not known)."""
    info = dataset_info(training.dataset)
    shape = loaded_shape(info, None, tuple(training.resize)) if info else None
    if info is None or shape is None:
        return {}
    return {"shape": list(shape), "dtype": info.dtypes[0]}


def describe_task(training: TrainingSettings) -> str | None:
    """One line for ``torchcanvas check``: what the dataset gives and which loss compares it."""
    info = dataset_info(training.dataset)
    if info is None:
        return None
    if info.problems:  # said below as errors, in the loader's words
        return f"Data: {info.name} (cannot be loaded: see the error below); loss: {training.loss}"
    shape = loaded_shape(info, None, tuple(training.resize))
    if info.adapts_to_input:
        sample = "images at the Input's size"
    else:  # a text file or table whose shape is not known yet is not "images" (check said so of reviews.tsv)
        sample = f"samples {list(shape)}" if shape else "samples of a shape not known until loaded"
    if info.task == "regression":
        target = "one number per sample"
    elif info.num_classes:
        target = f"{info.num_classes} classes"
    else:
        target = "classes not known until loaded"
    return f"Data: {info.name} ({sample}, {info.dtypes[0]}, {target}); loss: {training.loss}"


# --- the Input -----------------------------------------------------------------------------------------------------
def _input_problems(node: Node, info: DataInfo, training: TrainingSettings) -> list[Problem]:
    params = node.params
    shape = tuple(int(d) for d in params.get("shape", node.spec.defaults()["shape"] if node.spec else ()))
    dtype = params.get("dtype", "float32")
    problems = []
    loaded = loaded_shape(info, shape, tuple(training.resize))
    if loaded is not None and grey_into_rgb(loaded, shape) and not info.adapts_to_input:
        note = f"The images of {info.name} are grey: the grey is repeated in {node.name}'s 3 channels"
        problems.append(Problem(note, node.id, "warning", kind="task"))
        loaded = fitted_sample(loaded, shape)
    elif loaded is not None and rgb_into_grey(loaded, shape) and not info.adapts_to_input:
        note = (
            f"The images of {info.name} are in colour: they are turned grey for {node.name}'s 1 channel (set its "
            f"shape to [3, {shape[1]}, {shape[2]}] to keep the colour)"
        )
        problems.append(Problem(note, node.id, "warning", kind="task"))
        loaded = fitted_sample(loaded, shape)
    fit = data_fit(info, shape, training)
    if fit is not None:  # Input fixed by its starting weights: the data must come to it
        problems.append(Problem(f"{node.name}: {fit.message} (training settings)", node.id, kind="task"))
    elif loaded is not None and shape and math.prod(loaded) != math.prod(shape):
        if info.adapts_to_input:
            fix = (
                f"images from {info.name} are read as [channels, height, width] (1 or 3 channels): set the Input "
                "shape to e.g. [3, 32, 32] or [1, 28, 28]"
            )
        else:
            resized = " after the resize setting" if training.resize and len(loaded) == 3 else ""
            fix = (
                f"the samples of {info.name} are {list(loaded)}{resized} ({math.prod(loaded)} values): "
                f"set the Input shape to {list(loaded)}"
            )
            if len(shape) == 1:  # text: the samples can come to the Input instead
                fix += max_length_advice(info, training, shape[0])
        problems.append(
            Problem(
                f"{node.name}'s shape {list(shape)} ({math.prod(shape)} values) does not fit: {fix}",
                node.id,
                kind="task",
            )
        )
    if dtype not in info.dtypes:
        if dtype == "int64":
            fix = (
                f"{info.name} gives decimal numbers (float32), not token ids: set {node.name}'s dtype to float32, "
                "or choose a dataset of whole-number tokens"
            )
        else:
            fix = f"{info.name} gives whole-number token ids: set {node.name}'s dtype to int64 (tokens)"
        problems.append(Problem(f"{node.name} reads {dtype} values but {fix}", node.id, kind="task"))
    return problems


def _sizes_words(sizes: tuple[tuple[int, int], ...]) -> str:
    first = wxh(sizes[0]) + (" (width x height)" if sizes[0][0] != sizes[0][1] else "")
    if len(sizes) == 1:
        return first
    return f"{first} and {len(sizes) - 1} other size{'s' if len(sizes) > 2 else ''}"


def _image_notes(node: Node, info: DataInfo, training: TrainingSettings) -> list[Problem]:
    """An image folder is decoded at the Input's size and channels: said, never done in silence (warnings)."""
    shape = tuple(int(d) for d in node.params.get("shape", ()))
    if not info.adapts_to_input or len(shape) != 3 or shape[0] not in (1, 3):
        return []
    size = (int(training.resize[0]), int(training.resize[1])) if training.resize else (shape[1], shape[2])
    notes = []
    if info.image_sizes and set(info.image_sizes) != {size}:
        why = "the resize setting" if training.resize else f"{node.name}'s shape {list(shape)}"
        notes.append(
            f"the images of {info.name} are {_sizes_words(info.image_sizes)}: each is resized to {wxh(size)} for {why}"
        )
    if info.channels == 3 and shape[0] == 1:
        notes.append(
            f"the images of {info.name} are in colour: they are turned grey for {node.name}'s 1 channel "
            f"(set its shape to [3, {shape[1]}, {shape[2]}] to keep the colour)"
        )
    elif info.channels == 1 and shape[0] == 3:
        notes.append(
            f"the images of {info.name} are grey: the grey is repeated in {node.name}'s 3 channels "
            f"(set its shape to [1, {shape[1]}, {shape[2]}] for one)"
        )
    return [Problem(note[0].upper() + note[1:], node.id, "warning", kind="task") for note in notes]


def freeze_notes(graph: Graph, analysis: Analysis, training: TrainingSettings) -> list[Problem]:
    """freeze_epochs asks for two phases; without a frozen layer with weights, or with as many epochs as the run
    has, there is one, and the run said nothing (tester's F7): a warning, which check and train both print."""
    first, epochs = training.freeze_epochs, training.epochs
    if not first:
        return []
    counts = {nid: info.param_count for nid, info in analysis.nodes.items()}
    weighty = [n for n in graph.nodes if not n.trainable and counts.get(n.id, 1) > 0]  # a frozen ReLU freezes nothing
    inner = [n for d in graph.blocks.values() for n in d.graph.nodes if not n.trainable]
    if not weighty and not inner:
        words = f"freeze_epochs {first} has no effect: no layer with weights is frozen (right-click a layer > Freeze"
        words += " everything before this)"
    elif first >= epochs:
        words = f"freeze_epochs {first} is not below epochs {epochs}: phase two (every layer trains) never starts"
    else:
        return []
    return [Problem(f"{words} (training settings)", None, "warning", kind="task")]


def _token_advice(analysis: Analysis, info: DataInfo) -> None:
    """Token ids reaching a float layer: the graph alone allows two fixes (an Embedding, or a float32 Input); data
    that gives token ids only leaves one, an Embedding sized to its vocabulary (a float32 Input would be refused
    for that data: the tester's circle, F28)."""
    if info.dtypes != ("int64",):
        return
    kept = []
    for p in analysis.problems:
        if p.kind == "shape" and TOKENS_INTO in p.message:
            rows = f"num_embeddings = {info.vocab_size}, " if info.vocab_size else "num_embeddings = "
            head = p.message.split(": add an Embedding")[0]
            advice = f"{head}: add an Embedding ({rows}the vocabulary size of {info.name}) before it"
            node = analysis.nodes.get(p.node_id or "")
            if node is not None and node.error == p.message:
                node.error = advice
            p = Problem(advice, p.node_id, p.severity, p.kind)
        kept.append(p)
    analysis.problems[:] = kept


TOKENS_INTO = "receives whole-number token ids"  # core.model.analysis's words for token ids into a float layer


def _embedding_problems(graph: Graph, analysis: Analysis, info: DataInfo) -> list[Problem]:
    if not info.vocab_size:
        return []
    problems = []
    for node in graph.nodes_of_type("Embedding"):
        node_info = analysis.nodes.get(node.id)
        rows = node_info.params.get("num_embeddings") if node_info else None
        if node_info is None or node_info.error or rows is None or rows >= info.vocab_size:
            continue
        problems.append(
            Problem(
                f"{node.name} has {rows} rows (num_embeddings) but {info.name} has token ids up to "
                f"{info.vocab_size - 1}: set num_embeddings to {info.vocab_size}",
                node.id,
                kind="task",
            )
        )
    return problems


# --- the output ----------------------------------------------------------------------------------------------------
def _expected(info: DataInfo, loss: str) -> str:
    if info.task == "regression":
        return "[N, 1]"
    classes = info.num_classes or "classes"
    if loss not in CLASS_LOSSES and classes == 2:
        return "[N, 1] or [N, 2]"
    return f"[N, {classes}]"


def _output_problems(graph: Graph, analysis: Analysis, out: Node, info: DataInfo, loss: str) -> list[Problem]:
    shape = analysis.shape(out.id)
    if shape is None or info.task is None:
        return []  # a shape error upstream (reported there), or a source whose labels are not known yet
    expected = _expected(info, loss)
    if info.task == "regression":
        if loss in CLASS_LOSSES:
            return [
                Problem(
                    f"{info.name} has numeric targets (regression) but {loss} needs class labels: choose "
                    "MSELoss, L1Loss or SmoothL1Loss as the loss",
                    out.id,
                    kind="task",
                )
            ]
        if numel(shape[1:]) == 1:
            return []
        target = f"{info.name} has one number per sample and {loss} expects {expected}"
        node_id, fix = _fix(graph, analysis, out, shape, 1)
        return [Problem(f"{out.name} is {fmt(shape)} but {target}: {fix}", node_id, kind="task")]
    classes = info.num_classes
    target = f"{info.name} has {classes} classes" if classes else f"{info.name} is a classification set"

    def mismatch(what: str) -> list[Problem]:
        node_id, fix = _fix(graph, analysis, out, shape, classes)
        return [Problem(f"{out.name} is {fmt(shape)} but {target} and {what}: {fix}", node_id, kind="task")]

    if len(shape) != 2:
        return mismatch(f"{loss} expects {expected}")
    if classes is None:
        return []
    width = int(shape[1] or 0)
    if loss not in CLASS_LOSSES:
        if width == classes or (width == 1 and classes == 2):
            return []
        return mismatch(f"{loss} compares one output per class, so it expects {expected}")
    if width < classes:
        return mismatch(f"{loss} expects {expected}")
    problems = _last_layer_notes(graph, out, loss)
    if width > classes:
        node_id, fix = _fix(graph, analysis, out, shape, classes)
        problems.append(
            Problem(
                f"{out.name} gives {width} scores per sample but {target}: the extra {width - classes} can never "
                f"be the right answer; {fix}",
                node_id,
                "warning",
                kind="task",
            )
        )
    return problems


def _last_layer_notes(graph: Graph, out: Node, loss: str) -> list[Problem]:
    """The classic slips with class losses: Softmax before CrossEntropyLoss, NLLLoss without LogSoftmax."""
    last = _source(graph, out)
    if last is None:
        return []
    if loss == "CrossEntropyLoss" and last.type in ("Softmax", "LogSoftmax"):
        return [
            Problem(
                f"{last.name} ({last.type}) comes before CrossEntropyLoss, which applies its own softmax: "
                "delete it, or keep a LogSoftmax and choose NLLLoss",
                last.id,
                "warning",
                kind="task",
            )
        ]
    if loss == "NLLLoss" and last.type != "LogSoftmax":
        return [
            Problem(
                f"NLLLoss expects log-probabilities but {out.name} comes from {last.name} ({last.type}): add a "
                "LogSoftmax (dim 1) before the Output, or choose CrossEntropyLoss",
                out.id,
                "warning",
                kind="task",
            )
        ]
    return []


# --- where the fix goes --------------------------------------------------------------------------------------------
def _source(graph: Graph, node: Node) -> Node | None:
    ports = graph.inputs_of(node.id)
    edge = ports[0] if ports else None
    return graph.node(edge.src) if edge is not None else None


def _shape_keeper(node: Node) -> bool:
    return node.type not in RULES or node.type in KEEPS_SHAPE


def _producer(graph: Graph, node: Node) -> Node | None:
    """The nearest layer before ``node`` that sets the shape (activations, dropout and norms are walked through)."""
    current = _source(graph, node)
    while current is not None and _shape_keeper(current) and current.type != "Input":
        current = _source(graph, current)
    return current


def _sequence_layer(node: Node) -> bool:
    """A layer that can hand on only its last time step (its catalog entry has ``return_sequences``)."""
    return node.spec is not None and node.spec.has_param("return_sequences")


def _fix(graph: Graph, analysis: Analysis, out: Node, shape: Shape, want: int | None) -> tuple[str, str]:
    """(node to change, what to do) so the output becomes [N, want]."""
    width = f"out_features {want}" if want else "one output per class"
    if len(shape) > 2:
        upstream = graph.upstream(out.id)
        for node_id in analysis.order:
            node, info = graph.node(node_id), analysis.nodes[node_id]
            if node_id in upstream and node.type == "Linear" and info.in_shapes and len(info.in_shapes[0] or ()) > 2:
                before = _producer(graph, node)
                if before is not None and _sequence_layer(before):
                    return before.id, (
                        f"set {before.name}'s return_sequences to last, so {node.name} gets one vector per sample"
                    )
                return node_id, f"add a Flatten before {node.name}"
        last = _producer(graph, out)
        if last is not None and _sequence_layer(last):
            return last.id, f"set {last.name}'s return_sequences to last and add a Linear with {width} after it"
        return _add_before(graph, out, f"a Flatten and a Linear with {width}")
    last = _producer(graph, out)
    if last is not None and last.type == "Linear":
        return last.id, f"set {last.name}'s out_features to {want}" if want else f"give {last.name} {width}"
    return _add_before(graph, out, f"a Linear with {width}")


def _add_before(graph: Graph, out: Node, what: str) -> tuple[str, str]:
    """Layers to insert just before the Output (after any activation, which would otherwise clip the scores)."""
    last = _source(graph, out)
    if last is None:
        return out.id, f"add {what} before {out.name}"
    return last.id, f"add {what} between {last.name} and {out.name}"
