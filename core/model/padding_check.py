"""Text padded after the words, against a recurrent layer that reads the last step.

``text:`` samples are cut or padded with zeros after their tokens to ``max_length`` (the app, Try it and the
exported script alike). An LSTM, GRU or RNN returning its last step then reads padding when most samples are much
shorter: trial 4's 2-5-word reviews padded to 50 stayed at chance, and the only advice was "set the Input shape to
[50]". These warnings name the max_length that fits the data (the 95th percentile of the sample lengths).
"""

from __future__ import annotations

from core.datasets.info import DataInfo
from core.datasets.spec import parse_spec
from core.datasets.text import with_max_length
from core.model.graph import Graph
from core.model.problem import Problem
from core.settings import TrainingSettings

RECURRENT = ("LSTM", "GRU", "RNN")


def fitting_spec(training: TrainingSettings, length: int) -> str:
    """The project's text spec with ``max_length`` set to ``length``."""
    return with_max_length(parse_spec(training.dataset), length)  # type: ignore[no-any-return]


def max_length_advice(info: DataInfo, training: TrainingSettings, wanted: int) -> str:
    """The other way to make a text source fit an Input of ``wanted`` tokens: cut or pad the samples to it."""
    if info.lengths is None:
        return ""
    return f", or cut and pad the samples to the Input's {wanted} tokens: {fitting_spec(training, wanted)}"


def padding_notes(graph: Graph, info: DataInfo, training: TrainingSettings) -> list[Problem]:
    """A warning for each recurrent layer returning its last step on samples that are mostly padding (95 % of them
    fill at most half of max_length)."""
    if info.lengths is None or not info.sample_shape:
        return []
    length, fit = info.sample_shape[0], info.lengths[0]
    if fit > length // 2:
        return []
    problems = []
    for node in graph.nodes:
        if node.type in RECURRENT and node.params.get("return_sequences", "last") == "last":
            problems.append(
                Problem(
                    f"{node.name} returns its last step, but 95 % of the samples of {info.name} are at most {fit} "
                    f"tokens, padded with zeros after the words to {length}: the last step is padding, so the "
                    f"network reads no words. Use {fitting_spec(training, fit)} and set the Input shape to [{fit}] "
                    f"(or return the whole sequence and pool it)",
                    node.id,
                    "warning",
                    kind="task",
                )
            )
    return problems
