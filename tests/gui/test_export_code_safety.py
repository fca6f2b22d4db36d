"""File > Export model code writes through core.files.fileio: a full disk keeps the old file and says so."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_fileio import full_disk_after


def test_export_code_on_a_full_disk_keeps_the_old_file(window, tmp_path: Path, monkeypatch, _no_modal_boxes) -> None:
    target = tmp_path / "net_model.py"
    target.write_text("# my own edits\n" * 500, encoding="utf-8")
    before = target.read_bytes()
    full_disk_after(monkeypatch, 100)  # the generated module is ~600 bytes
    assert not window.export_code(target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    kind, text = _no_modal_boxes[-1]
    assert kind == "warning" and text == f"Could not write {target}: the disk is full; free some space and try again."
