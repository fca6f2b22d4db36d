"""Initial weights that cannot be read are refused by check in train's words (tester's F5): before, check said
"OK: the network is valid." for a missing file, a file that is not weights and a folder without weights, and
train then refused after loading the data."""

from __future__ import annotations

import pytest
import torch

from core.cli import main
from core.files.project import save
from tests.core.train_fixtures import mlp_project


def _setting(tmp_path, case: str) -> str:
    if case == "missing":
        return str(tmp_path / "missing.pt")
    if case == "not weights":
        (tmp_path / "bogus.pt").write_text("these are not weights\n")
        return str(tmp_path / "bogus.pt")
    (tmp_path / "empty run").mkdir()
    return str(tmp_path / "empty run")


@pytest.mark.parametrize("case", ["missing", "not weights", "folder without weights"])
def test_check_refuses_initial_weights_that_train_refuses_in_the_same_words(tmp_path, capsys, case: str) -> None:
    project = mlp_project([64], 16, 10, dataset="digits", epochs=1, initial_weights=_setting(tmp_path, case))
    save(project, tmp_path / "p.json")
    assert main(["train", str(tmp_path / "p.json"), "--out", str(tmp_path / "runs")]) == 1
    refusal = capsys.readouterr().err.strip().removeprefix("torchcanvas: error: ")
    assert refusal.startswith("Cannot start from the initial weights: "), refusal
    assert main(["check", str(tmp_path / "p.json")]) == 1
    checked = capsys.readouterr()
    assert f"error: {refusal}" in checked.err and "OK" not in checked.out, checked


def test_readable_initial_weights_pass_check(tmp_path, capsys) -> None:
    project = mlp_project([64], 16, 10, dataset="digits", epochs=1)
    weights = tmp_path / "w.pt"
    from core.files.built_model import build_model

    torch.save(build_model(project).module.state_dict(), weights)
    project.training.initial_weights = str(weights)
    save(project, tmp_path / "p.json")
    assert main(["check", str(tmp_path / "p.json")]) == 0
    assert "OK: the network is valid." in capsys.readouterr().out
