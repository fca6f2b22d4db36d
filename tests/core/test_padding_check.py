"""Short texts padded after the words to max_length, read by a recurrent layer's last step (trial 4, F): the
check warns and names the max_length that fits the data (95 % of the samples), the shape error offers
?max_length= besides "set the Input shape", and the survey says it. Before, 2-5-word reviews padded to 50 trained
at chance with only "set the Input shape to [50]" as advice."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.datasets.survey import survey
from core.model.analysis import analyze
from core.model.graph import Graph
from core.settings import TrainingSettings

SHORT = ["pos\ti loved it", "neg\tnot good at all", "pos\tgreat fun", "neg\tawful"] * 10


def _reviews(tmp_path: Path, lines: list[str] = SHORT) -> str:
    path = tmp_path / "rev.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"text:{path}"


def _network(length: int, kind: str = "LSTM", returns: str = "last") -> Graph:
    graph = Graph()
    nodes = [
        graph.add("Input", "tokens", shape=[length], dtype="int64"),
        graph.add("Embedding", "embed", num_embeddings=30, embedding_dim=8),
        graph.add(kind, "rnn", hidden_size=16, return_sequences=returns),
    ]
    if returns == "sequence":
        nodes.append(graph.add("Flatten", "flatten"))
    nodes += [graph.add("Linear", "fc", out_features=2), graph.add("Output", "out")]
    graph.chain(nodes)
    return graph


def _messages(graph: Graph, dataset: str, severity: str) -> list[str]:
    analysis = analyze(graph, TrainingSettings(dataset=dataset))
    return [p.message for p in analysis.problems if p.severity == severity]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_a_last_step_reading_padding_is_warned_with_the_max_length_that_fits(tmp_path, kind) -> None:
    spec = _reviews(tmp_path)
    warnings = _messages(_network(50, kind), spec, "warning")
    assert warnings == [
        "rnn returns its last step, but 95 % of the samples of rev.tsv are at most 4 tokens, padded with zeros after "
        f"the words to 50: the last step is padding, so the network reads no words. Use {spec}?max_length=4 and set "
        "the Input shape to [4] (or return the whole sequence and pool it)"
    ]
    assert _messages(_network(4, kind), f"{spec}?max_length=4", "warning") == []  # the advice taken


def test_no_warning_for_a_whole_sequence_or_samples_that_fill_max_length(tmp_path) -> None:
    spec = _reviews(tmp_path)
    assert _messages(_network(50, returns="sequence"), spec, "warning") == []
    assert len(_messages(_network(8), f"{spec}?max_length=8", "warning")) == 1  # 4 of 8: half padding warns
    assert _messages(_network(7), f"{spec}?max_length=7", "warning") == []  # 4 of 7 does not


def test_the_shape_error_offers_max_length(tmp_path) -> None:
    spec = _reviews(tmp_path)
    errors = _messages(_network(20), spec, "error")
    assert errors == [
        "tokens's shape [20] (20 values) does not fit: the samples of rev.tsv are [50] (50 values): set the Input "
        f"shape to [50], or cut and pad the samples to the Input's 20 tokens: {spec}?max_length=20"
    ]


def test_the_survey_names_the_max_length_that_fits(tmp_path) -> None:
    spec = _reviews(tmp_path)
    assert (
        "max_length=50 pads 95 % of the samples with 46+ zeros after the words; a recurrent layer that returns its "
        f"last step (LSTM, GRU, RNN) then reads padding. Use {spec}?max_length=4 (95 % of the samples fit) with an "
        "Input of [4]."
    ) in survey(spec).notes
    long = [f"pos\t{'word ' * 40}", f"neg\t{'other ' * 40}"] * 5
    assert not any("pads" in note for note in survey(_reviews(tmp_path, long)).notes)
