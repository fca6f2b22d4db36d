"""freeze_epochs that cannot act is said, by check and by train in the same words (tester's F7): with no layer
with weights frozen there is no phase to end, and with freeze_epochs >= epochs phase two never starts. Before,
both said nothing and the run went on in one phase."""

from __future__ import annotations

import pytest

from core.cli import main
from core.files.project import save
from tests.core.train_fixtures import mlp_project


def _project(tmp_path, freeze: tuple[str, ...], **training):
    project = mlp_project([64], 16, 10, dataset="digits", **training)
    for name in freeze:
        project.graph.set_trainable(project.graph.by_name(name).id, False)
    path = tmp_path / "ft.json"
    save(project, path)
    return path


CASES = {
    "nothing frozen": (
        (),
        dict(freeze_epochs=1, epochs=2),
        "warning: freeze_epochs 1 has no effect: no layer with weights is frozen (right-click a layer > Freeze "
        "everything before this) (training settings)",
    ),
    "only a ReLU frozen": (("relu",), dict(freeze_epochs=1, epochs=2), "no layer with weights is frozen"),
    "as many as the epochs": (
        ("fc1",),
        dict(freeze_epochs=5, epochs=2),
        "warning: freeze_epochs 5 is not below epochs 2: phase two (every layer trains) never starts "
        "(training settings)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_check_and_train_warn_in_the_same_words(tmp_path, capsys, case: str) -> None:
    freeze, training, words = CASES[case]
    path = _project(tmp_path, freeze, **training)
    assert main(["check", str(path)]) == 0
    checked = capsys.readouterr().out
    assert words in checked, checked
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 0
    trained = capsys.readouterr().out
    said = [line for line in checked.splitlines() if "freeze_epochs" in line]
    assert len(said) == 1 and said[0] in trained.splitlines(), trained


def test_two_phases_that_act_are_not_warned_about(tmp_path, capsys) -> None:
    path = _project(tmp_path, ("fc1",), freeze_epochs=1, epochs=2)
    assert main(["check", str(path)]) == 0
    assert "freeze_epochs" not in capsys.readouterr().out
