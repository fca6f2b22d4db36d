"""Try it takes typed text for a token-sequence run (issue 26): before, such a run could only be tried on its test
samples, shown as a list of numbers. Now a line takes a sentence (through the run's tokenizer when its data has a
vocabulary) or token ids, and the prediction follows each edit."""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.files.built_model import build_model
from core.files.project import load
from core.training import Trainer
from gui.training.dashboard import TrainingDashboard
from gui.training.tryit_model import class_name, encode_typed

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


class Words:
    """A tokenizer's vocabulary as the data core keeps it with the run: ``encode(text)`` and ``decode(ids)``."""

    words = ("<pad>", "<unk>", "the", "film", "was", "great", "dull")

    def encode(self, text: str) -> list[int]:
        return [self.words.index(w) if w in self.words else 1 for w in text.lower().split()]

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.words[i] for i in ids if i)


def a_source(vocabulary=None, next_token=False):
    return SimpleNamespace(input_shape=(6,), vocabulary=vocabulary, vocab_size=7, next_token=next_token)


def test_typed_text_becomes_the_networks_token_ids():
    assert encode_typed("The film was great", a_source(Words())).tolist() == [2, 3, 4, 5, 0, 0]
    assert encode_typed("the film was dull and long really", a_source(Words())).tolist() == [2, 3, 4, 6, 1, 1]
    assert encode_typed("3, 1 6", a_source()).tolist() == [3, 1, 6, 0, 0, 0]
    with pytest.raises(ValueError, match="'film' is not a token id: this run's data has no vocabulary"):
        encode_typed("film", a_source())
    with pytest.raises(ValueError, match="token 9 is not in the vocabulary: token ids run from 0 to 6"):
        encode_typed("2 9", a_source())


def test_a_next_character_run_reads_the_end_of_the_typed_text():
    """Its windows are the characters before the one to predict: the end of what was typed counts, and a short
    text is padded in front (a sentence classifier keeps the start and pads after it)."""
    from core.datasets.text import Vocabulary

    chars = Vocabulary("char", 6, ("<pad>", "<unk>", " ", "a", "b", "c", "."))
    assert encode_typed("abc ab", a_source(chars, next_token=True)).tolist() == [3, 4, 5, 2, 3, 4]
    assert encode_typed("cab. abc ab", a_source(chars, next_token=True)).tolist() == [3, 4, 5, 2, 3, 4]
    assert encode_typed("ab", a_source(chars, next_token=True)).tolist() == [0, 0, 0, 0, 3, 4]
    assert encode_typed("ab", a_source(chars)).tolist() == [3, 4, 0, 0, 0, 0]
    assert class_name([" ", "\n", "a"], 0) == "␣ (space)" and class_name([" ", "\n", "a"], 1) == "⏎ (new line)"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_type_token_ids_into_a_trained_sequence_network(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    project = load(EXAMPLES / "sequence_lstm.json")
    project.training.epochs, project.training.device = 2, "cpu"
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    dash.resize(1300, 600)
    dash.show()
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        dash.start_training()
    assert finished.args[0].status == "finished", finished.args[0].message
    view = dash.tryit
    dash.tabs.setCurrentWidget(view)
    assert view.source.kind == "text" and view.inputs.currentWidget() is view.text_page
    first = view.text_page.edit.text()  # test sample 0, as its token ids
    assert first.split() == [str(v) for v in view.source.x_test[0].tolist()]

    view.type_text("7 8 3 9 1 2")
    ids = np.array([7, 8, 3, 9, 1, 2] + [0] * 14)
    assert "tokens 7 8 3 9 1 2" in view.text_page.seen.text()
    model = build_model(dash.run_project, dash.last_result.run_dir).module.eval()
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(ids)[None]), 1)[0].numpy()
    np.testing.assert_allclose(view.probs, expected, rtol=1e-5, atol=1e-6)
    assert view.predicted_class == int(expected.argmax())
    view.type_text("7 eight")
    assert "'eight' is not a token id" in view.prediction.text()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_text_run_shows_its_sentences_and_takes_a_typed_one(qtbot, tmp_path, monkeypatch):
    """The generated sentiment sentences (core.files.text_examples) through the window's run: the results
    list wrong sentences as words, and Try it tokenises a typed sentence with the run's saved vocabulary."""
    from core.datasets import load_dataset
    from core.datasets.text import read_vocab
    from core.files.text_examples import sentiment_lines, write_sentiment

    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    spec = write_sentiment(tmp_path)
    data = load_dataset(spec)
    project = load(EXAMPLES / "sequence_lstm.json")
    graph = project.graph
    graph.set_param(graph.by_name("tokens").id, "shape", list(data.input_shape))
    graph.set_param(graph.by_name("embed").id, "num_embeddings", int(data.vocab_size))
    graph.set_param(graph.by_name("fc").id, "out_features", 2)
    project.training.dataset, project.training.epochs, project.training.device = spec, 1, "cpu"
    dash = TrainingDashboard(trainer_factory=functools.partial(Trainer, event_interval=0))
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    dash.resize(1300, 600)
    dash.show()
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        dash.start_training()
    result = finished.args[0]
    assert result.status == "finished", result.message

    sentences = {line.split("\t")[1].lower() for line in sentiment_lines()}
    lines = dash.results.sample_lines.lines()
    assert len(lines) == 24 and dash.results.samples.count() == 0
    assert [line for line in lines if not any(line.endswith(f": {s}") for s in sentences)] == []  # as its sentence

    view = dash.tryit
    dash.tabs.setCurrentWidget(view)
    assert view.source.kind == "text" and "Type a sentence" in view.text_page.prompt.text()
    assert view.text_page.edit.text().split(": ")[-1] in sentences  # test sample 0, as words
    view.type_text("The staff was not dull")
    ids = read_vocab(result.run_dir).encode("The staff was not dull")
    assert ids[:5] != [1] * 5 and "tokens " + " ".join(str(i) for i in ids[:5]) in view.text_page.seen.text()
    model = build_model(dash.run_project, result.run_dir).module.eval()
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor([ids])), 1)[0].numpy()
    np.testing.assert_allclose(view.probs, expected, rtol=1e-5, atol=1e-6)
