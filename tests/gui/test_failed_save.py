"""A failed save in the editor leaves the old file untouched, keeps the document modified and names the path."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import core.files.project as project_module
from core.errors import ProjectSaveError
from gui.shell.document import Document

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"


def test_disk_full_keeps_document_modified_and_file_intact(qtbot, tmp_path: Path, monkeypatch) -> None:
    from gui.commands.graph import set_param

    target = tmp_path / "net.json"
    target.write_bytes(MLP.read_bytes())
    doc = Document()
    doc.open(target)
    linear = next(n for n in doc.graph.nodes if n.type == "Linear")
    doc.undo_stack.push(set_param(doc.graph, linear.id, "out_features", 17))
    assert doc.modified

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(project_module.os, "fsync", full)
    with pytest.raises(ProjectSaveError) as info:
        doc.save()
    assert str(target) in str(info.value)
    assert doc.modified
    assert target.read_bytes() == MLP.read_bytes()
    monkeypatch.undo()
    doc.save()
    assert not doc.modified and b'"out_features": 17' in target.read_bytes()
