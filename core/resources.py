"""Where the bundled files (examples, icons, styles) are, found the same way from every kind of install.

The repository keeps them in the top-level ``resources/`` folder. Installed (a wheel, ``pip install .``, an
editable install, a frozen build) that folder is the package ``torchcanvas_resources`` (pyproject's
``package-dir`` maps it), so ``importlib.resources`` finds it wherever the installer put it. The name is ours
alone: a bare ``resources`` package would clash with any other distribution that ships one.

A clone that was never installed (``python -m core`` from the repository root) cannot import that name, so the
lookup falls back to the folder beside ``core/`` -- but only when that folder is a source tree (it has
``pyproject.toml``); an installed ``core`` never guesses at ``site-packages/resources``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from core.errors import TorchCanvasError

PACKAGE = "torchcanvas_resources"
_SOURCE_TREE = Path(__file__).resolve().parent.parent


class ResourceMissingError(TorchCanvasError):
    """A file that TorchCanvas ships is not where the install put the others: the install is incomplete."""


def root() -> Path:
    """The folder holding ``examples/``, ``icons/`` and ``styles/`` (it may be missing in a broken install)."""
    try:
        found = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        if (_SOURCE_TREE / "pyproject.toml").is_file():
            return _SOURCE_TREE / "resources"
        return _SOURCE_TREE / PACKAGE  # does not exist: require() names it in its message
    return Path(str(found))


def resource_dir(name: str) -> Path:
    """A sub-folder of the resources (``examples``, ``icons``, ``styles``), whether or not it exists."""
    return root() / name


def require(*parts: str) -> Path:
    """The path of one bundled file, or a plain error that says the install is incomplete and how to repair it."""
    path = root().joinpath(*parts)
    if not path.exists():
        raise ResourceMissingError(
            f"TorchCanvas cannot find its bundled file {'/'.join(parts)} (looked in {path.parent}). "
            "The install is incomplete: reinstall it with  pip install --force-reinstall torchcanvas  "
            '(from a clone:  pip install ".")'
        )
    return path


def bundled_files() -> list[str]:
    """Every bundled file as a path relative to the resources folder (``examples/digits_mlp.json``, ...)."""
    base = root()
    return sorted(
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.name != "__init__.py"
    )
