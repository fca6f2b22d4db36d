"""A text dataset's preview shows its first samples as sentences, read back through the vocabulary the run uses;
before, the preview showed nothing but 'one sample is [50]' for text (its samples are token ids)."""

from __future__ import annotations

from pathlib import Path

from core.files.project import load
from core.files.text_examples import sentiment_lines, write_sentiment
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_the_preview_reads_text_samples_back_as_words(qtbot, tmp_path) -> None:
    write_sentiment(tmp_path, samples=80)
    project = load(EXAMPLES / "digits_mlp.json")
    project.training.dataset = f"text:{tmp_path / 'sentiment.txt'}"
    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    dash.set_project(project)
    dash.refresh_dataset()
    preview = dash.panel.preview
    assert preview.kind == "text", preview.info.text()
    lines = preview.texts.text().split("<br>")
    assert len(lines) == 6
    sentences = {line.split("\t", 1)[1] for line in sentiment_lines(80)}
    for line in lines:
        label, _, text = line.partition("</b> ")
        assert label in ("<b>positive", "<b>negative") and text in sentences, line
