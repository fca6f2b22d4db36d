"""The imported weights, kept with the project as its initial weights: a ``.pt`` file beside the project file,
named in the project's optional top-level key ``initial_weights`` (a file name relative to the project)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from core.fileio import atomic_write_with
from core.project import Project, save

KEY = "initial_weights"


def weights_file_for(project_path: str | os.PathLike[str]) -> Path:
    path = Path(project_path)
    return path.with_name(f"{path.stem}.initial.pt")


def save_with_weights(project: Project, state: dict[str, torch.Tensor], project_path: str | os.PathLike[str]) -> Path:
    """Write the weights (atomically) and then the project that names them; returns the weights file."""
    target = weights_file_for(project_path)
    atomic_write_with(target, lambda tmp: torch.save(state, tmp))
    project.extra[KEY] = target.name
    save(project, project_path)
    return target


def initial_weights(project: Project, project_path: str | os.PathLike[str] | None) -> Path | None:
    """The project's initial weights file, if it names one that exists beside it."""
    name = project.extra.get(KEY)
    if not isinstance(name, str) or project_path is None or "/" in name or "\\" in name or name in ("", ".", ".."):
        return None
    path = Path(project_path).parent / name
    return path if path.is_file() else None
