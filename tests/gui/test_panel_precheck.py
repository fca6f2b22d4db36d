"""The window's Train runs the check ``torchcanvas train`` runs first (issue 26): what the CLI refuses, the
window refuses in the same words under the buttons, and no run starts; what the CLI warns about is logged before
the first epoch. The network's analysis can be older than the files: here a class folder is added on disk after
the dataset was chosen, and Train (still on) started a run on 4 classes with a 3-score output."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.cli import main
from core.files.project import save
from gui.training.dashboard import TrainingDashboard
from tests.core.train_fixtures import mlp_project


def _class(root: Path, name: str, shade: int) -> None:
    (root / name).mkdir(parents=True)
    for i in range(4):
        Image.new("RGB", (12, 12), (shade, 20 * i, 90)).save(root / name / f"{i}.png")


def _dashboard(qtbot, tmp_path: Path, project) -> TrainingDashboard:
    dash = TrainingDashboard(trainer_factory=lambda *args, **kwargs: None)  # a run that starts ends at once
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(project)
    return dash


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_train_refuses_in_the_cli_s_words_what_changed_on_disk(qtbot, tmp_path, capsys) -> None:
    root = tmp_path / "pets"
    for k, name in enumerate(("cat", "dog", "owl")):
        _class(root, name, 60 * k)
    project = mlp_project([3, 12, 12], 8, 3, dataset=f"folder:{root}", epochs=1, batch_size=4)
    dash = _dashboard(qtbot, tmp_path, project)
    assert dash.panel.train_button.isEnabled()  # 3 classes, 3 scores: fine when chosen
    _class(root, "yak", 200)  # then a fourth class is added to the folder
    path = tmp_path / "project.json"
    save(project, path)
    assert main(["train", str(path), "--out", str(tmp_path / "cli_runs")]) == 1
    cli_words = capsys.readouterr().err.removeprefix("torchcanvas: error: ").strip()
    assert "pets has 4 classes" in cli_words

    dash.panel.train_button.click()

    assert dash.run is None and dash.run_project is None  # no run started
    assert not (tmp_path / "runs").exists()
    assert dash.panel.reason.text() == f"Cannot train: {cli_words}"
    assert f"Cannot train: {cli_words}" in dash.panel.log.toPlainText()


def test_the_cli_s_warnings_are_logged_before_the_run(qtbot, tmp_path, capsys) -> None:
    root = tmp_path / "pets"
    for k, name in enumerate(("cat", "dog")):
        _class(root, name, 90 * k)
    project = mlp_project([1, 12, 12], 8, 2, dataset=f"folder:{root}", epochs=1, batch_size=4)
    path = tmp_path / "project.json"
    save(project, path)
    main(["check", str(path)])
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: ")]
    assert warnings and "turned grey" in warnings[0]
    dash = _dashboard(qtbot, tmp_path, project)
    assert dash.start_training() is not None
    log = dash.panel.log.toPlainText().splitlines()
    assert log[1 : 1 + len(warnings)] == warnings
    qtbot.waitUntil(lambda: dash.run is None, timeout=30_000)
