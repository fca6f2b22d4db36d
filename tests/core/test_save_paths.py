"""Saving a project to an awkward path: a long legal name works, an illegal one or a symlink loop is a plain
ProjectSaveError naming the path (the GUI's Save As shows this message)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ProjectSaveError
from core.files.file_errors import FileWriteError
from core.files.fileio import check_target
from core.files.project import Project, load, save


@pytest.mark.parametrize("length", [242, 255])
def test_a_legal_name_of_up_to_255_characters_saves(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("p" * (length - 5) + ".json")
    save(Project(name="long"), target)
    assert load(target).name == "long"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_name_of_256_characters_is_a_plain_save_error(tmp_path: Path) -> None:
    target = tmp_path / ("p" * 251 + ".json")
    with pytest.raises(ProjectSaveError) as info:
        save(Project(), target)
    assert str(info.value).startswith(f"Could not save {target}: the file name is too long (256 bytes; at most 255)")
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_loop_is_a_plain_save_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(ProjectSaveError, match=r"a\.json: the path goes through a symbolic link that points back"):
        save(Project(), a)
    with pytest.raises(FileWriteError, match="points back to itself"):  # what Save As calls before writing
        check_target(a)


def test_saving_over_a_folder_is_a_plain_save_error(tmp_path: Path) -> None:
    (tmp_path / "net.json").mkdir()
    with pytest.raises(ProjectSaveError, match=r"net\.json: that is a folder, not a file"):
        save(Project(), tmp_path / "net.json")
