"""The training script of an imported network starts from the imported weights, as the app does (trial 4, B).

``torchcanvas import ... --weights`` keeps the weights beside the project (``core.files.initial_weights``) and the
app fine-tunes from them; the exported script, and the run folder's own train.py, built ``Net()`` with random
weights, so their losses were those of ``train --from-scratch``. The script now loads the file from its own folder
(from any current folder), export puts the file beside it, the run folder carries it, and a missing file is a
sentence, not a traceback."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from core.cli import main
from core.code.script import generate_script
from core.files.initial_weights import initial_weights
from core.files.project import load, save
from core.training.trainer import Trainer

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


def _imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict[str, torch.Tensor]]:
    """A small model imported with its weights (seeded apart from the script's own seed) and the digits set."""
    (tmp_path / "small.py").write_text(MODEL)
    torch.manual_seed(1234)
    donor = nn.Sequential()
    donor.fc1, donor.act, donor.fc2 = nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)
    state = donor.state_dict()
    torch.save(state, tmp_path / "w.pt")
    path = tmp_path / "project" / "small.json"
    path.parent.mkdir()
    args = ["import", f"{tmp_path / 'small.py'}:Small", "--input-shape", "64", "--weights", str(tmp_path / "w.pt")]
    assert main([*args, "-o", str(path)]) == 0, capsys.readouterr().err
    project = load(path)
    project.training.dataset, project.training.epochs = "digits", 1
    save(project, path)
    assert initial_weights(project, path) is not None and project.training.fine_tune
    return path, state


def _export(path: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    out.parent.mkdir(exist_ok=True)
    assert main(["export", str(path), "-o", str(out)]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _as_module(script: Path):
    spec = importlib.util.spec_from_file_location("exported_train", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_exported_script_loads_the_imported_weights_from_its_own_folder(tmp_path, capsys, monkeypatch) -> None:
    path, state = _imported(tmp_path, capsys)
    source = generate_script(load(path)).source
    assert 'INITIAL_WEIGHTS = "small.initial.pt"' in source and "    start_from_file(model)" in source
    said = _export(path, tmp_path / "elsewhere" / "train.py", capsys)
    assert "small.initial.pt" in said, said
    assert (tmp_path / "elsewhere" / "small.initial.pt").read_bytes() == (path.parent / "small.initial.pt").read_bytes()
    monkeypatch.chdir(tmp_path)  # not the script's folder
    module = _as_module(tmp_path / "elsewhere" / "train.py")
    model = module.Net()
    module.start_from_file(model)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    printed = capsys.readouterr().out
    assert printed.strip() == "From small.initial.pt: 4 tensors loaded, 0 new", printed


def test_a_missing_file_is_a_sentence_and_the_settings_file_is_refused_in_words(tmp_path, capsys) -> None:
    path, _ = _imported(tmp_path, capsys)
    _export(path, tmp_path / "elsewhere" / "train.py", capsys)
    (tmp_path / "elsewhere" / "small.initial.pt").unlink()
    module = _as_module(tmp_path / "elsewhere" / "train.py")
    module.start_from_file(module.Net())  # as the app: no imported weights beside it, fresh ones and a notice
    assert "not beside this script: this run starts from fresh random weights" in capsys.readouterr().out
    project = load(path)
    project.training.initial_weights = "gone.pt"  # the setting wins, as in the app, and the app refuses it
    save(project, path)
    _export(path, tmp_path / "other" / "train.py", capsys)
    module = _as_module(tmp_path / "other" / "train.py")
    with pytest.raises(SystemExit, match=r"Cannot start from the initial weights: there is no file .*gone\.pt"):
        module.start_from_file(module.Net())


def _first_loss(script: Path, cwd: Path) -> float:
    done = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    found = re.search(r"Epoch 1/1 \{'loss': ([0-9.]+)", done.stdout)
    assert found is not None, done.stdout
    return float(found[1])


@pytest.mark.slow  # trains three times (seconds each)
def test_the_exported_script_and_the_runs_script_train_as_the_app_does(tmp_path, capsys) -> None:
    path, _ = _imported(tmp_path, capsys)
    project = load(path)
    result = Trainer(project, out_dir=tmp_path / "runs", initial_weights=initial_weights(project, path)).run()
    assert result.status == "finished", result.message
    app = round(result.history[0]["loss"], 4)
    scratch = Trainer(load(path), out_dir=tmp_path / "runs", save=False).run()
    assert round(scratch.history[0]["loss"], 4) != app  # the weights make a difference to the figure compared
    _export(path, tmp_path / "exported" / "train.py", capsys)
    (tmp_path / "cwd").mkdir()
    assert _first_loss(tmp_path / "exported" / "train.py", tmp_path / "cwd") == app
    assert result.run_dir is not None and (result.run_dir / "small.initial.pt").is_file()
    assert _first_loss(result.run_dir / "train.py", tmp_path / "cwd") == app


@pytest.mark.slow  # runs the exported script in a subprocess
def test_a_damaged_weights_file_stops_the_exported_script_with_a_sentence(tmp_path, capsys) -> None:
    """A weights file cut short (a copy that stopped half-way) was torch's traceback from inside the script's
    start_from_file; it is one sentence naming the file and the fix, as a missing file is."""
    path, _ = _imported(tmp_path, capsys)
    _export(path, tmp_path / "elsewhere" / "train.py", capsys)
    weights = tmp_path / "elsewhere" / "small.initial.pt"
    weights.write_bytes(weights.read_bytes()[:200])  # torch.save's zip, cut short
    (tmp_path / "cwd").mkdir()
    script = tmp_path / "elsewhere" / "train.py"
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path / "cwd", capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        f"Cannot start from the initial weights: {weights} is damaged or not a weights file. Export the script "
        "again, or set INITIAL_WEIGHTS to a good file."
    )


@pytest.mark.slow  # runs the exported script in a subprocess
def test_a_safetensors_file_that_is_not_one_is_refused_in_the_same_words(tmp_path, capsys) -> None:
    path, _ = _imported(tmp_path, capsys)
    project = load(path)
    project.training.initial_weights = str(tmp_path / "start.safetensors")
    save(project, path)
    _export(path, tmp_path / "other" / "train.py", capsys)
    (tmp_path / "start.safetensors").write_text("not weights\n")
    module = _as_module(tmp_path / "other" / "train.py")
    with pytest.raises(SystemExit, match=r"start\.safetensors is damaged or not a weights file\. Export the script"):
        module.start_from_file(module.Net())
