"""core.resources finds the bundled files from a clone and an install alike, and says plainly when they are gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core import cli, resources

REPO = Path(__file__).resolve().parents[2]


def test_this_checkout_finds_the_repositorys_resources() -> None:
    assert resources.root().resolve() == (REPO / "resources").resolve()
    assert cli.DEFAULT_EXAMPLE.is_file()
    assert "examples/digits_mlp.json" in resources.bundled_files()
    assert "icons/torchcanvas.svg" in resources.bundled_files()


def test_a_clone_that_was_never_installed_finds_them_too() -> None:
    """No install: nothing maps torchcanvas_resources, so the source tree's own folder is used."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in getattr(f, '__module__', '')];"
        "from core import resources; print(resources.root())"
    )
    done = subprocess.run([sys.executable, "-I", "-c", code, str(REPO)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == (REPO / "resources").resolve()


def test_an_install_without_them_names_the_file_and_the_repair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_package(name: str) -> None:
        raise ModuleNotFoundError(name=name)

    monkeypatch.setattr(resources.importlib.resources, "files", no_package)
    monkeypatch.setattr(resources, "_SOURCE_TREE", tmp_path)  # site-packages: no pyproject.toml beside core/
    (tmp_path / "resources" / "examples").mkdir(parents=True)  # someone else's "resources" is never taken
    assert not resources.root().exists()
    with pytest.raises(resources.ResourceMissingError, match=r"examples/digits_mlp\.json.*reinstall"):
        resources.require("examples", "digits_mlp.json")
