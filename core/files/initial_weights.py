"""The imported weights, kept with the project as its initial weights: a ``.pt`` file beside the project file,
named in the project's optional top-level key ``initial_weights`` (a file name relative to the project)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import TorchCanvasError
from core.files.file_errors import FileWriteError
from core.files.fileio import atomic_write_bytes
from core.files.fileread import read_regular_file
from core.files.project import MAX_FILE_BYTES, Project, load, save

if TYPE_CHECKING:  # torch is imported where weights are read or written: Save As must not wait for it
    import torch

KEY = "initial_weights"


def weights_file_for(project_path: str | os.PathLike[str]) -> Path:
    path = Path(project_path)
    return path.with_name(f"{path.stem}.initial.pt")


def save_with_weights(
    project: Project,
    state: dict[str, torch.Tensor],
    project_path: str | os.PathLike[str],
    *,
    replace: bool = False,
) -> Path:
    """Write the project and then the weights it names (each atomically); returns the weights file.

    A weights file of that name that is not the project's own (the project file being replaced does not name
    it) is kept unless ``replace``: it may be another import's or the user's. The project goes first, so a
    project that cannot be written leaves the weights alone; weights that cannot be written put the previous
    project back (or remove the new one), so nothing names weights that are not there."""
    import torch  # deferred for start-up: the window reads this module before its first paint

    path = Path(project_path)
    target = weights_file_for(path)
    if not replace and os.path.lexists(target) and not _names(path, target.name):
        raise FileWriteError(
            target,
            "a file of that name is already there and is not this project's initial weights; "
            "move it away or choose another project name",
            errno.EEXIST,
        )
    previous = read_regular_file(path, MAX_FILE_BYTES, "project file") if os.path.isfile(path) else None
    project.extra[KEY] = target.name
    project.training.fine_tune = True
    save(project, path)
    try:
        atomic_write_bytes(target, lambda handle: torch.save(state, handle))
    except BaseException:
        with contextlib.suppress(OSError, TorchCanvasError):
            if previous is None:
                os.unlink(path)
            else:
                atomic_write_bytes(path, previous)
        raise
    return target


def _names(project_path: Path, weights_name: str) -> bool:
    """Whether the project file already at ``project_path`` names ``weights_name`` as its initial weights."""
    try:
        return load(project_path).extra.get(KEY) == weights_name
    except (TorchCanvasError, OSError):
        return False


def initial_weights(project: Project, project_path: str | os.PathLike[str] | None) -> Path | None:
    """The project's initial weights file, if it names one that exists beside it."""
    name = project.extra.get(KEY)
    if not isinstance(name, str) or project_path is None or "/" in name or "\\" in name or name in ("", ".", ".."):
        return None
    path = Path(project_path).parent / name
    return path if path.is_file() else None


def carry_initial_weights(
    project: Project, old_path: str | os.PathLike[str] | None, new_path: str | os.PathLike[str]
) -> Path | None:
    """Before Save As: the initial weights beside the old file go beside the new one too (copied atomically;
    the old file stays), so the saved project still starts from them. A different file of that name already
    there is left alone: the copy takes the first free name (the new project's own, then numbered) and the
    project names it. Returns the weights file the project names afterwards, or None when it has none."""
    source = initial_weights(project, old_path)
    if source is None:
        return None
    data = source.read_bytes()
    new = Path(new_path)
    names = [source.name, weights_file_for(new).name, *(f"{new.stem}.initial-{n}.pt" for n in range(2, 1000))]
    for name in names:
        target = new.parent / name
        if not os.path.lexists(target):
            atomic_write_bytes(target, data)
            break
        if target.resolve() == source.resolve() or _holds(target, data):
            break  # already there
    else:
        raise FileExistsError(f"No free name for the initial weights beside {new}")
    project.extra[KEY] = target.name
    return target


def _holds(file: Path, data: bytes) -> bool:
    """Whether ``file`` is a regular file (not a link) holding exactly ``data``: a FIFO or a device of that
    name is never read (reading a FIFO waits forever) and counts as a different file."""
    try:
        info = os.lstat(file)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        return read_regular_file(file, len(data), "weights file") == data
    except (OSError, TorchCanvasError):
        return False
