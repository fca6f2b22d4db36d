"""What layer-health numbers mean: the records ``core.inspect.health.HealthWatcher`` fills in while a network trains,
the thresholds, and the rules that turn them into diagnoses in plain words that name the node and the fix (dead
ReLUs, saturated sigmoid/tanh units, vanishing gradients, a network that does not learn).

The rules live apart from the watcher so they read as one list of "this number means that": the watcher samples,
these judge, and neither grows past what one reader can hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.datasets.info import dataset_info

if TYPE_CHECKING:
    from core.files.project import Project

# Rates that usually work, by optimizer: what a diagnosis suggests when the one in use makes the loss blow up.
USUAL_RATES = {"Adam": 1e-3, "AdamW": 1e-3, "RMSprop": 1e-3, "SGD": 1e-2, "Adagrad": 1e-2, "NAdam": 1e-3}
VANISHING_RATIO = 1e-4  # a layer's gradient this small beside the largest one learns next to nothing
DEAD_SHARE = 0.5  # this share of a ReLU's units silent over a whole batch, twice running
DIVERGED = 100  # the loss this many times its first value: diverging, even without a NaN
SATURATED = 0.99  # tanh beyond +-0.99, sigmoid beyond 0.01 / 0.99: the gradient through it is nearly 0
CHANCE_MARGIN = 0.1  # accuracy less than a tenth of the way from chance (1/classes) to 100 %: at chance


@dataclass
class LayerHealth:
    """One node's numbers at one sampled batch (None where they do not apply: no weights, no activation)."""

    name: str
    node_id: str | None
    grad_norm: float | None = None
    update_ratio: float | None = None  # |weights after - before| / |weights| over this batch; ~1e-3 is healthy
    dead: float | None = None  # share of a ReLU's units that gave no positive output for the whole batch
    saturated: float | None = None  # share of a sigmoid's/tanh's outputs where its gradient is nearly 0


@dataclass
class HealthSample:
    step: int
    loss: float
    loss_mean: float  # mean loss over the batches since the previous sample: the trend, without the noise
    layers: list[LayerHealth] = field(default_factory=list)  # in the network's order


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # "nan", "exploding", "vanishing", "dead", "saturated", "chance"
    step: int
    node: str | None  # the node's name, where one node is to blame
    message: str


def suggested_rate(optimizer: str, lr: float) -> float:
    """A rate to try after this one made the loss blow up: the usual one for the optimizer, at most a tenth."""
    return min(USUAL_RATES.get(optimizer, 1e-3), lr / 10)


Finding = tuple[str, int, str | None, str]  # a Diagnosis before the watcher says it once: kind, step, node, message


def fold(ratio: float) -> str:
    """How many times the loss grew, in words."""
    return "more than a million-fold" if ratio >= 1e6 else f"{ratio:,.0f}-fold"


def tokens_as_amounts(project: Project) -> str | None:
    """Whole numbers from 0 (token ids, most likely) into a float32 Input whose first layer is no Embedding: what
    to say when such a network stays at chance. Before the run nothing can say it: a CSV or .npz of whole numbers
    may hold amounts (pixels 0-255) as well as ids, so the checks allow both dtypes; token ids read as amounts
    (token 7 "more" than token 3) leave a Linear layer at chance, and the generic "normalise the inputs" misleads
    (they are normalised). int64 Inputs are refused by the checks already (an Embedding must come first)."""
    graph = project.graph
    inputs = graph.nodes_of_type("Input")
    if len(inputs) != 1 or inputs[0].params.get("dtype", "float32") != "float32":
        return None
    node = inputs[0]
    firsts = [graph.node(edge.dst) for edge in graph.consumers(node.id)]
    if len(node.params.get("shape", ())) != 1 or not firsts or any(n.type == "Embedding" for n in firsts):
        return None  # ids come as one row of columns; an image of whole numbers is pixels
    info = dataset_info(project.training.dataset)
    if info is None or "int64" not in info.dtypes or not info.vocab_size:
        return None
    layer, ids = firsts[0], info.vocab_size
    return (
        f"{node.name}'s values are whole numbers from 0 to {ids - 1} and go straight into {layer.name} "
        f"({layer.type}). If they are token ids (words, characters, categories), {layer.name} reads them as "
        f"amounts, as if token 7 were more than token 3: add an Embedding after the Input (num_embeddings = {ids}) "
        f"and set {node.name}'s dtype to int64. If they are amounts, check that the labels belong to the inputs or "
        "find a learning rate with Find LR (torchcanvas lr-find)."
    )


def layer_findings(samples: list[HealthSample]) -> list[Finding]:
    """What the last two samples say about the layers (each finding must hold at both: one batch can mislead)."""
    if len(samples) < 2:
        return []
    last, recent = samples[-1], samples[-2:]
    found: list[Finding] = []
    for row in last.layers:
        if row.dead is not None and all(_value(s, row.name, "dead") >= DEAD_SHARE for s in recent):
            message = (
                f"{row.dead:.0%} of {row.name}'s units never fire (dead ReLUs): they output 0 for every sample, "
                "so nothing before them learns through them. Lower the learning rate, check the bias of the "
                "layer before it, or use LeakyReLU."
            )
            found.append(("dead", last.step, row.name, message))
    for row in last.layers:
        if row.saturated is not None and all(_value(s, row.name, "saturated") >= DEAD_SHARE for s in recent):
            message = (
                f"{row.saturated:.0%} of {row.name}'s outputs are saturated (stuck near their limits), so "
                "almost no gradient passes through it. Normalise the inputs, add BatchNorm before it, or use ReLU."
            )
            found.append(("saturated", last.step, row.name, message))
    if any((row.dead or 0.0) >= DEAD_SHARE for row in last.layers):
        return found  # dead units stop the gradient too: that is the cause to name, not a vanishing gradient
    vanishing = [_vanishing(s) for s in recent]
    if all(vanishing) and vanishing[-1] is not None:
        name, norm, top_name, top = vanishing[-1]
        falling = " and falling" if _grad(recent[0], name) > norm else ""
        message = (
            f"{name}'s gradients are {norm:.1g}{falling}, while {top_name}'s are {top:.1g}: {times(top / norm)} "
            "smaller. These are vanishing gradients: the layers near the input barely learn. Add BatchNorm between "
            "the layers or use ReLU instead of Sigmoid/Tanh (or fewer layers)."
        )
        found.append(("vanishing", last.step, name, message))
    return found


def times(ratio: float) -> str:
    """A large ratio as a reader says it: '300 times', '20 thousand times', '5 billion times' (a diagnosis read
    '2e-10 of head's', which reads as a product, not a ratio)."""
    rounded = float(f"{ratio:.2g}")
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if rounded >= size:
            return f"{rounded / size:,g} {word} times"
    return f"{rounded:,g} times"


def _value(sample: HealthSample, name: str, kind: str) -> float:
    row = next((r for r in sample.layers if r.name == name), None)
    value = getattr(row, kind) if row is not None else None
    return value if value is not None else 0.0


def _grad(sample: HealthSample, name: str) -> float:
    row = next((r for r in sample.layers if r.name == name), None)
    return row.grad_norm if row is not None and row.grad_norm is not None else 0.0


def _vanishing(sample: HealthSample) -> tuple[str, float, str, float] | None:
    """The layer nearest the input whose gradient is vanishingly small beside the largest, if any."""
    rows = [r for r in sample.layers if r.grad_norm is not None and math.isfinite(r.grad_norm)]
    if len(rows) < 2:
        return None
    top = max(rows, key=lambda r: r.grad_norm or 0.0)
    if not top.grad_norm or top.grad_norm < 1e-6:  # nothing learns: a finished fit, not a vanishing gradient
        return None
    first = rows[0]
    if first.grad_norm is not None and first.grad_norm < VANISHING_RATIO * top.grad_norm:
        return first.name, first.grad_norm, top.name, top.grad_norm
    return None
