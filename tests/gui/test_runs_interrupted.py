"""Trial 5 J10c: every window start and ``--screenshot`` printed "Skipped the run ...: Could not read
.../summary.json: there is no such file." on stderr for each interrupted run. A run writes summary.json last, so a
folder without one is a run that never finished: the Runs list shows it as "interrupted", with the epochs it logged,
and nobody is warned about it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from core.training.run_folder import project_runs
from gui.training.runs import RunsView


def _run(root: Path, name: str, summary: dict | None, metrics: str = "epoch,loss\n1,0.5\n2,0.4\n") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "project.json").write_text(json.dumps({"name": "Net"}), encoding="utf-8")
    (folder / "hparams.json").write_text(json.dumps({"dataset": "digits", "lr": 0.001, "epochs": 20}), encoding="utf-8")
    (folder / "metrics.csv").write_text(metrics, encoding="utf-8")
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


class _Project:
    name = "Net"


def test_a_run_folder_without_summary_is_an_interrupted_run_not_a_note(tmp_path: Path) -> None:
    _run(tmp_path, "20261206-060011_net", None)
    runs, notes = project_runs(tmp_path, "Net")
    assert notes == []
    assert [(r.folder.name, r.status) for r in runs] == [("20261206-060011_net", "interrupted")]
    assert runs[0].history == [{"epoch": 1.0, "loss": 0.5}, {"epoch": 2.0, "loss": 0.4}]
    assert runs[0].test_accuracy is None and runs[0].settings["lr"] == 0.001


def test_the_runs_list_shows_it_as_interrupted_without_a_warning(qtbot, tmp_path: Path, caplog, capsys) -> None:
    _run(tmp_path, "20261206-050000_net", {"status": "finished", "test_accuracy": 0.9, "test_loss": 0.3})
    _run(tmp_path, "20261206-060011_net", None)
    view = RunsView()
    qtbot.addWidget(view)
    with caplog.at_level(logging.WARNING):
        view.set_project(_Project(), tmp_path)
    assert [(r.run_dir.name, r.status) for r in view.records] == [
        ("20261206-050000_net", "finished"),
        ("20261206-060011_net", "interrupted"),
    ]
    assert view.table.item(1, 1).text() == "interrupted" and view.table.item(1, 3).text() == "2"
    assert "Skipped" not in view.hint.text() and "summary.json" not in view.hint.text()
    assert not [r for r in caplog.records if "summary.json" in r.getMessage()]
    assert "Skipped the run" not in capsys.readouterr().err


def test_a_folder_that_is_no_run_at_all_is_still_skipped_with_its_note(tmp_path: Path) -> None:
    folder = tmp_path / "20261206-070000_net"  # project.json but no hparams.json: not a run this app wrote
    folder.mkdir()
    (folder / "project.json").write_text(json.dumps({"name": "Net"}), encoding="utf-8")
    runs, notes = project_runs(tmp_path, "Net")
    assert runs == [] and len(notes) == 1 and "summary.json" in notes[0]
