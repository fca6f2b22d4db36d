"""Text through Data > Open… and the data wizard: a file of LABEL<TAB>text lines with its classes and first samples,
read by words or characters, and any text read for its next character. The files are the app's generated examples,
written here in tmp_path."""

from __future__ import annotations

import pytest

from core.files.text_examples import write_next_char, write_sentiment
from gui.data import opening

SURVEY_MS = 20_000


@pytest.fixture
def data_window(window):
    dash = window.install_training()
    dash.refresh_dataset()
    return window


def open_text(qtbot, window, monkeypatch, path):
    monkeypatch.setattr(opening, "ask_data_path", lambda parent, folder, start="": str(path))
    window.action_map["open_data"].trigger()
    wizard = window.training_dashboard.panel.wizard
    assert wizard is not None and wizard.text_box.isVisible()
    qtbot.waitUntil(lambda: wizard.found is not None or wizard.status.text().startswith("<span"), timeout=SURVEY_MS)
    return wizard


def test_labelled_lines_read_by_characters(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    write_sentiment(tmp_path, samples=120)
    path = tmp_path / "sentiment.txt"
    wizard = open_text(qtbot, window, monkeypatch, path)
    assert wizard.classes.counts() == {"negative": 60, "positive": 60}
    assert [wizard.head.horizontalHeaderItem(i).text() for i in range(2)] == ["Class", "Text"]
    assert wizard.head.item(0, 0).text() in ("negative", "positive") and wizard.head.item(0, 1).text()
    assert wizard.tokenizer_combo.currentData() == "word" and wizard.length_spin.value() == 50
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        wizard.tokenizer_combo.setCurrentIndex(wizard.tokenizer_combo.findData("char"))
        wizard.tokenizer_combo.activated.emit(wizard.tokenizer_combo.currentIndex())
    assert wizard.spec() == f"text:{path}?tokenizer=char" and wizard.length_spin.value() == 200
    dash = window.training_dashboard
    with qtbot.waitSignal(dash.choice_loader.loaded, timeout=SURVEY_MS):
        wizard.use_button.click()
    assert window.document.project.training.dataset == f"text:{path}?tokenizer=char", dash.panel.data_note.text()


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_plain_text_is_refused_as_lines_and_read_for_its_next_character(qtbot, data_window, monkeypatch, tmp_path):
    window = data_window
    write_next_char(tmp_path, sentences=60)
    path = tmp_path / "next_char.txt"
    wizard = open_text(qtbot, window, monkeypatch, path)
    assert wizard.found is None and "no label and tab" in wizard.status.text()  # read as labelled lines: refused
    assert not wizard.use_button.isEnabled()
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        wizard.learn_combo.setCurrentIndex(wizard.learn_combo.findData("next"))
        wizard.learn_combo.activated.emit(wizard.learn_combo.currentIndex())
    assert wizard.spec() == f"text:{path}?task=next" and wizard.use_button.isEnabled()
    assert "one sample is [40]" in wizard.summary.text() and not wizard.tokenizer_combo.isEnabled()
    assert wizard.head.item(0, 0).text()  # the start of the text


@pytest.mark.slow
def test_a_text_file_trains_an_lstm_from_the_window(qtbot, data_window, monkeypatch, tmp_path) -> None:
    """The LSTM example (int64 Input, Embedding) on labelled sentences: open, use, fit the two sizes the Problems
    list names, train an epoch."""
    from pathlib import Path

    window = data_window
    window.open_example(Path(__file__).resolve().parents[2] / "resources" / "examples" / "sequence_lstm.json")
    dash = window.training_dashboard
    dash.runs_root = tmp_path / "runs"
    write_sentiment(tmp_path, samples=200)
    wizard = open_text(qtbot, window, monkeypatch, tmp_path / "sentiment.txt")
    with qtbot.waitSignal(dash.choice_loader.loaded, timeout=SURVEY_MS):
        wizard.use_button.click()
    graph = window.document.project.graph
    assert graph.nodes_of_type("Input")[0].params["shape"] == [50]
    embed, linear = graph.nodes_of_type("Embedding")[0], graph.nodes_of_type("Linear")[0]
    window.editor.set_param(embed.id, "num_embeddings", dash.dataset.vocab_size)
    window.editor.set_param(linear.id, "out_features", 2)
    window.document.project.training.epochs = 1
    qtbot.waitUntil(dash.panel.train_button.isEnabled, timeout=10_000)  # once the edits are analysed
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        dash.start_training()
    assert finished.args[0].status == "finished", finished.args[0].message
