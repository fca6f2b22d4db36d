"""Token ids into a Linear layer: one piece of advice once the data is known (tester's F28). Before, check said
"add an Embedding layer before it, or set the Input's dtype to float32", and a float32 Input is what the data
check had just refused ("sentences.txt gives whole-number token ids: set x's dtype to int64")."""

from __future__ import annotations

from core.datasets.info import dataset_info
from core.model.analysis import analyze
from core.model.graph import Graph
from core.settings import TrainingSettings

WORDS = ["the film was good", "the film was bad", "a really nice film", "a really awful film"] * 5


def _text_without_embedding(tmp_path, dtype: str) -> tuple[Graph, TrainingSettings]:
    path = tmp_path / "sentences.txt"
    path.write_text("".join(f"{'pos' if 'good' in s or 'nice' in s else 'neg'}\t{s}\n" for s in WORDS))
    training = TrainingSettings(dataset=f"text:{path}", loss="CrossEntropyLoss")
    shape = list(dataset_info(training.dataset).sample_shape)
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=shape, dtype=dtype), graph.add("Linear", "linear2", out_features=2)]
    graph.chain([*nodes, graph.add("Output", "output")])
    return graph, training


def test_token_ids_into_a_linear_layer_get_only_the_embedding_advice_with_the_vocabulary(tmp_path) -> None:
    graph, training = _text_without_embedding(tmp_path, "int64")
    info = dataset_info(training.dataset)
    assert info is not None and info.dtypes == ("int64",) and info.vocab_size
    errors = [p.message for p in analyze(graph, training).errors]
    assert errors == [
        f"linear2 receives whole-number token ids [N, {info.sample_shape[0]}]: add an Embedding "
        f"(num_embeddings = {info.vocab_size}, the vocabulary size of sentences.txt) before it"
    ], errors
    assert not any("float32" in message for message in errors)


def test_the_graph_alone_still_names_both_fixes(tmp_path) -> None:
    graph, _ = _text_without_embedding(tmp_path, "int64")
    errors = [p.message for p in analyze(graph).errors]
    assert len(errors) == 1 and "add an Embedding layer before it, or set the Input's dtype to float32" in errors[0]
