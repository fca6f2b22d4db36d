"""Files that attack TorchCanvas (issue 22): an import that would replace someone else's weights, weights files
that are not weights (a malicious pickle, random bytes, a device, a pipe), a full disk under ``torch.save`` and a
``--force`` through a symbolic link. Each gets a plain sentence, and no file that is not ours is lost."""

from __future__ import annotations

import errno
import textwrap
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.errors import TorchCanvasError
from core.files.project import load
from core.fx_import.initial import initial_weights, save_with_weights, weights_file_for

TINY = textwrap.dedent(
    """
    import torch.nn as nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(x)
    """
)
PRECIOUS = b"someone else's weights, not to be lost"


def _import_argv(tmp_path: Path, out: Path) -> list[str]:
    source = tmp_path / "tiny.py"
    source.write_text(TINY)
    return ["import", f"{source}:Tiny", "-o", str(out), "--input-shape", "2"]


# --- 1. import never replaces weights that are not its own ----------------------------------------------------
def test_import_refuses_to_replace_an_existing_initial_weights_file_without_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "net.json"
    other = weights_file_for(out)
    other.write_bytes(PRECIOUS)
    assert main(_import_argv(tmp_path, out)) == 2
    err = capsys.readouterr().err
    assert str(other) in err and "--force" in err
    assert other.read_bytes() == PRECIOUS and not out.exists()
    assert main([*_import_argv(tmp_path, out), "--force"]) == 0  # asked for: replaced
    assert initial_weights(load(out), out) == other and other.read_bytes() != PRECIOUS


def test_a_failed_project_write_leaves_the_weights_file_alone(tmp_path: Path, monkeypatch, capsys) -> None:
    import core.fx_import.initial as initial
    from core.files.file_errors import FileWriteError

    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    weights = weights_file_for(out)
    before_weights, before_project = weights.read_bytes(), out.read_bytes()

    def refuse(project, path) -> None:
        raise FileWriteError(path, "the disk is full; free some space and try again", errno.ENOSPC)

    monkeypatch.setattr(initial, "save", refuse)
    assert main([*_import_argv(tmp_path, out), "--force"]) == 1
    assert "the disk is full" in capsys.readouterr().err
    assert weights.read_bytes() == before_weights and out.read_bytes() == before_project


def test_weights_that_cannot_be_written_put_the_previous_project_back(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    weights = weights_file_for(out)
    before_weights, before_project = weights.read_bytes(), out.read_bytes()
    project = load(out)
    project.description = "changed"

    def full(obj, f, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(TorchCanvasError, match="the disk is full"):
        save_with_weights(project, {"fc.weight": torch.zeros(3, 2)}, out, replace=True)
    assert out.read_bytes() == before_project and weights.read_bytes() == before_weights
    fresh = tmp_path / "fresh.json"  # a new project whose weights fail is not left behind
    with pytest.raises(TorchCanvasError, match="the disk is full"):
        save_with_weights(project, {"fc.weight": torch.zeros(3, 2)}, fresh)
    assert not fresh.exists() and not weights_file_for(fresh).exists()


def test_save_with_weights_keeps_a_foreign_weights_file_and_replaces_its_own(tmp_path: Path) -> None:
    """The window's import asks only about the project file: a weights file that the replaced project does not
    name is refused; its own weights (re-importing over the same project) are replaced."""
    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    project = load(out)
    state = {"fc.weight": torch.ones(3, 2), "fc.bias": torch.ones(3)}
    save_with_weights(project, state, out)  # its own: replaced
    assert torch.equal(torch.load(weights_file_for(out), weights_only=True)["fc.bias"], torch.ones(3))
    other = tmp_path / "other.json"
    weights_file_for(other).write_bytes(PRECIOUS)
    with pytest.raises(TorchCanvasError, match="not this project's initial weights"):
        save_with_weights(project, state, other)
    assert weights_file_for(other).read_bytes() == PRECIOUS and not other.exists()
