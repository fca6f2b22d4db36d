"""A fine-tuning script whose initial weights are missing stops in one sentence (review 6, S4).

An imported project's script loads its weights from ``<project>.initial.pt`` beside it. Without the file it printed
one line and trained on, its FROZEN layers kept at their random values for good, and its test accuracy read like a
fine-tuning result (a script mailed without its 45 MB file). With frozen layers it now stops, naming the file and
what to do; with nothing frozen the notice stays (the whole network trains, as the app does then)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from core.cli import main
from core.files.project import load, save

MODEL = """
from torch import nn


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
"""


def _exported(tmp_path: Path, capsys: pytest.CaptureFixture[str], frozen: bool) -> Path:
    """Small imported with its weights, fc1 frozen (or not), exported to elsewhere/train.py without its weights."""
    (tmp_path / "small.py").write_text(MODEL)
    donor = nn.Sequential()
    donor.fc1, donor.act, donor.fc2 = nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)
    torch.save(donor.state_dict(), tmp_path / "w.pt")
    path = tmp_path / "project" / "small.json"
    path.parent.mkdir()
    args = ["import", f"{tmp_path / 'small.py'}:Small", "--input-shape", "64", "--weights", str(tmp_path / "w.pt")]
    assert main([*args, "-o", str(path)]) == 0, capsys.readouterr().err
    project = load(path)
    project.training.dataset, project.training.epochs = "digits", 1
    fc1 = project.graph.by_name("fc1")
    assert fc1 is not None
    fc1.trainable = not frozen
    save(project, path)
    script = tmp_path / "elsewhere" / "train.py"
    script.parent.mkdir()
    assert main(["export", str(path), "-o", str(script)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    (script.parent / "small.initial.pt").unlink()
    return script


def _module(script: Path):
    spec = importlib.util.spec_from_file_location("exported_train", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_fine_tuning_script_without_its_weights_stops_with_one_sentence(tmp_path, capsys) -> None:
    script = _exported(tmp_path, capsys, frozen=True)
    module = _module(script)
    assert module.FROZEN == ["fc1"]
    with pytest.raises(SystemExit) as stopped:
        module.start_from_file(module.Net())
    said = str(stopped.value.code)
    weights = script.parent / "small.initial.pt"
    assert said == (
        f"Cannot fine-tune: the initial weights {weights} are missing, so the layers in FROZEN would keep random "
        "values; put the file there (exporting the script again writes it beside the script)."
    )
    assert said.count(". ") == 0 and said.endswith(".")  # one sentence


@pytest.mark.slow  # runs the exported script in a subprocess
def test_the_script_run_without_its_weights_trains_nothing(tmp_path, capsys) -> None:
    script = _exported(tmp_path, capsys, frozen=True)
    (tmp_path / "cwd").mkdir()
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path / "cwd", capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "Epoch" not in done.stdout and done.stderr.strip().startswith("Cannot fine-tune:"), done.stdout


def test_with_nothing_frozen_the_notice_stays(tmp_path, capsys) -> None:
    module = _module(_exported(tmp_path, capsys, frozen=False))
    assert not hasattr(module, "FROZEN")
    module.start_from_file(module.Net())
    assert "not beside this script: this run starts from fresh random weights" in capsys.readouterr().out
