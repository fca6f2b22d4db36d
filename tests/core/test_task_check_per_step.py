"""A Linear on [N, T, H] warned "add a Flatten before it" even in a char-RNN, whose next-character scores at every
step are the point (following the advice breaks the model). With the project's settings the advice is left out
when the steps reach the output; an image into a Linear keeps it, as does a convolution's [N, C, L]."""

from __future__ import annotations

from core.model.analysis import analyze
from core.model.graph import Graph
from core.settings import TrainingSettings

ADVICE = "acts on its last axis only"


def advice(g: Graph) -> list[str]:
    """The Flatten advice the editor and `torchcanvas check` show (with training settings, no dataset chosen)."""
    return [p.message for p in analyze(g, TrainingSettings(dataset="")).problems if ADVICE in p.message]


def test_a_char_rnn_scoring_every_step_gets_no_flatten_advice() -> None:
    g = Graph()
    nodes = [
        g.add("Input", shape=[40], dtype="int64"),
        g.add("Embedding", num_embeddings=65, embedding_dim=32),
        g.add("GRU", hidden_size=128, return_sequences="sequence"),
        g.add("Dropout"),
        g.add("Linear", out_features=65, name="fc"),
        g.add("Output"),
    ]
    g.chain(nodes)
    assert analyze(g).shape(nodes[-1].id) == (None, 40, 65)
    assert advice(g) == []


def test_an_image_into_a_linear_keeps_the_advice() -> None:
    g = Graph()
    nodes = [
        g.add("Input", shape=[1, 8, 8]),
        g.add("Conv2d", out_channels=4, kernel_size=3),
        g.add("Linear", out_features=10, name="fc"),
        g.add("Output"),
    ]
    g.chain(nodes)
    (message,) = advice(g)
    assert message.startswith("fc receives [N, 4, 6, 6] and acts on its last axis only")


def test_a_convolutions_channels_and_length_into_a_linear_keep_the_advice() -> None:
    g = Graph()
    nodes = [
        g.add("Input", shape=[1, 16]),
        g.add("Conv1d", out_channels=4, kernel_size=3),
        g.add("ReLU"),
        g.add("Linear", out_features=10, name="fc"),
        g.add("Output"),
    ]
    g.chain(nodes)
    (message,) = advice(g)
    assert message.startswith("fc receives [N, 4, 14] and acts on its last axis only")


def test_a_sequence_reduced_after_the_linear_keeps_the_advice() -> None:
    g = Graph()
    nodes = [
        g.add("Input", shape=[40], dtype="int64"),
        g.add("Embedding", num_embeddings=65, embedding_dim=32),
        g.add("GRU", hidden_size=16, return_sequences="sequence"),
        g.add("Linear", out_features=8, name="fc"),
        g.add("Flatten"),
        g.add("Output"),
    ]
    g.chain(nodes)
    assert len(advice(g)) == 1
