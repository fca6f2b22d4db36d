"""A run folder whose summary.json holds a value of the wrong type is skipped with a note, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

from gui.training.runs import RunsView


def _run(root: Path, name: str, summary: dict) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "project.json").write_text(json.dumps({"name": "Net"}), encoding="utf-8")
    (folder / "hparams.json").write_text(json.dumps({"dataset": "digits", "lr": 0.001}), encoding="utf-8")
    (folder / "metrics.csv").write_text("epoch,loss\n1,0.5\n", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


class _Project:
    name = "Net"


def test_wrong_type_in_summary_skips_that_run_with_a_note(qtbot, tmp_path: Path) -> None:
    _run(tmp_path, "20261130-100000_net", {"status": "finished", "test_accuracy": 0.9, "test_loss": 0.3})
    _run(tmp_path, "20261130-110000_net", {"status": "finished", "test_accuracy": "0.93", "test_loss": 0.3})
    view = RunsView()
    qtbot.addWidget(view)
    view.set_project(_Project(), tmp_path)
    assert [r.run_dir.name for r in view.records] == ["20261130-100000_net"]
    assert view.table.rowCount() == 1 and view.table.item(0, 7).text() == "90.0%"
    assert "20261130-110000_net" in view.hint.text() and "test_accuracy" in view.hint.text()
