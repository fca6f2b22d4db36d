"""How much memory training a network takes, read from the shapes and parameter counts that analysis already
knows, never from tensors: a layer of 3 billion parameters is estimated in microseconds, not allocated (torch would
grind the machine for minutes first, then stop with its allocator's text).

Training holds the weights, a gradient for every trainable weight, the optimizer's state per trainable weight
(Adam: two moments; SGD with momentum: one), the trainer's copy of the last good weights (it goes back to them on a
non-finite loss), and one batch's layer outputs, which the backward pass reads again. Evaluation's bigger batches
keep no outputs but hold a layer's input and output at once. The sum is an estimate ("about"): allocator slack,
a recurrent layer's gates and the data set itself come on top; the check that reads it leaves room for that."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import size_words as size_words  # said by the checks that read the estimate
from core.model.analysis import Analysis
from core.model.graph import Graph
from core.model.kinds import KINDS
from core.model.shape_rules import Shape
from core.model.summary import param_split
from core.settings import TrainingSettings

BYTES_PER_PARAMETER = 4  # float32, what the generated model's layers hold
DTYPE_BYTES = {"float64": 8, "int64": 8, "float16": 2, "bfloat16": 2, "bool": 1, "uint8": 1, "int8": 1, "int32": 4}
# Layers whose output is no memory of its own (a view of their input, a piece of it, one tensor for every sample)
_NO_OWN_MEMORY = {kind.spec.id for kind in KINDS if kind.memory in ("input", "piece", "shared")} | {"Output"}
# What each optimizer keeps per trainable weight, and how it is said; SGD and RMSprop keep one more with momentum.
OPTIMIZER_STATE = {
    "SGD": (0, ""),
    "Adam": (2, "Adam's two moments"),
    "AdamW": (2, "AdamW's two moments"),
    "RMSprop": (1, "RMSprop's running average"),
    "Adadelta": (2, "Adadelta's two running averages"),
    "Adagrad": (1, "Adagrad's running sum"),
}


@dataclass(frozen=True)
class Heaviest:
    """The node that holds the most (parameters, or one batch's output)."""

    node_id: str
    name: str
    amount: int  # parameters, or bytes of one sample's output
    shape: Shape | None = None


@dataclass(frozen=True)
class TrainingNeed:
    """Bytes that training holds at once, by what holds them."""

    weights: int
    gradients: int
    optimizer_state: int
    good_copy: int  # the trainer's copy of the last good weights
    outputs: int  # one batch's layer outputs (training's or evaluation's, the bigger)
    optimizer_words: str  # "Adam's two moments", "" when it keeps nothing
    batch_size: int
    per_sample: int  # bytes of outputs one sample adds to a training batch
    evaluating: bool  # evaluation's batches hold more outputs at once than training's
    most_params: Heaviest | None
    biggest_output: Heaviest | None

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + self.good_copy + self.outputs

    @property
    def fixed(self) -> int:
        """What does not shrink with the batch size."""
        return self.total - self.outputs


def _elements(shape: Shape | None, batch: int) -> int:
    if shape is None:
        return 0
    return math.prod(batch if d is None else max(int(d), 0) for d in shape)


def _outputs(graph: Graph, analysis: Analysis, inside: bool) -> list[tuple[str, str, Shape | None, int]]:
    """(node id, name, shape, bytes per sample) of each layer output that is memory of its own, blocks' layers
    included (named by the block node that holds them); inside a block its Inputs are the outer tensors."""
    found: list[tuple[str, str, Shape | None, int]] = []
    for node_id in analysis.order or [n.id for n in graph.nodes]:
        node, info = graph.node(node_id), analysis.nodes.get(node_id)
        if info is None or not info.used or node.type in _NO_OWN_MEMORY or (inside and node.type == "Input"):
            continue
        if node.block is not None and info.inner:
            for inner_graph, inner in info.inner:
                found += [(node_id, node.name, shape, size) for _, _, shape, size in _outputs(inner_graph, inner, True)]
            continue
        size = DTYPE_BYTES.get(info.dtype, 4)
        for shape in info.out_shapes or [info.out_shape]:
            found.append((node_id, node.name, shape, _elements(shape, 1) * size))
    return found


def training_need(graph: Graph, analysis: Analysis, settings: TrainingSettings) -> TrainingNeed:
    """What training ``graph`` with ``settings`` (its optimizer, momentum and batch size) holds in memory."""
    trainable, frozen = param_split(graph, analysis)
    per_weight, words = OPTIMIZER_STATE.get(settings.optimizer, (2, f"{settings.optimizer}'s state"))
    if settings.optimizer in ("SGD", "RMSprop") and settings.momentum > 0:
        per_weight += 1
        words = f"{words} and its momentum" if words else "SGD's momentum"
    weights = (trainable + frozen) * BYTES_PER_PARAMETER
    outputs = _outputs(graph, analysis, False)
    per_sample = sum(size for *_, size in outputs)
    largest = max(outputs, key=lambda row: row[3], default=None)
    batch = settings.batch_size
    biggest = largest[3] if largest else 0
    held = outputs_held(batch, per_sample, biggest)
    used = [(n.id, n.name, analysis.nodes[n.id].param_count) for n in graph.nodes if n.id in analysis.nodes]
    most = max((row for row in used if analysis.nodes[row[0]].used), key=lambda row: row[2], default=None)
    return TrainingNeed(
        weights=weights,
        gradients=trainable * BYTES_PER_PARAMETER,
        optimizer_state=per_weight * trainable * BYTES_PER_PARAMETER,
        good_copy=weights,
        outputs=held,
        optimizer_words=words if per_weight else "",
        batch_size=batch,
        per_sample=per_sample,
        evaluating=held > batch * (per_sample + biggest),
        most_params=Heaviest(*most) if most and most[2] else None,
        biggest_output=Heaviest(largest[0], largest[1], biggest, largest[2]) if largest and biggest else None,
    )


def eval_batch(batch_size: int) -> int:
    """The batch evaluation runs in: the script's ``EVAL_BATCH_SIZE`` (``core.code.script.eval_batch_size``)."""
    return max(batch_size, 256)


def outputs_held(batch_size: int, per_sample: int, biggest: int) -> int:
    """Bytes of layer outputs held at once: training keeps every output (``per_sample``) for the backward pass,
    which then holds the biggest one's gradient too; evaluation keeps none but a layer's input and output."""
    return max(batch_size * (per_sample + biggest), eval_batch(batch_size) * 2 * biggest)
