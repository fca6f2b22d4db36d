"""docs/TUTORIAL.md stays whole: every picture it names exists, and each comes from docs/make_screenshots.py."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "docs" / "TUTORIAL.md"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def named_images() -> list[str]:
    return IMAGE.findall(TUTORIAL.read_text(encoding="utf-8"))


def screenshot_steps() -> list[str]:
    spec = importlib.util.spec_from_file_location("make_screenshots", REPO / "docs" / "make_screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines the steps; nothing runs (Qt is imported by main() only)
    return [name for name, _ in module.STEPS]


def test_every_picture_the_tutorial_names_exists() -> None:
    images = named_images()
    assert len(images) >= 5
    for link in images:
        path = (TUTORIAL.parent / link).resolve()
        assert path.is_file(), f"docs/TUTORIAL.md shows {link}, which does not exist: run docs/make_screenshots.py"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{link} is not a PNG"


def test_the_pictures_are_the_ones_the_script_makes() -> None:
    made = {f"tutorial/{name}.png" for name in screenshot_steps()}
    assert set(named_images()) == made


def test_the_readme_links_the_tutorial() -> None:
    assert "docs/TUTORIAL.md" in (REPO / "README.md").read_text(encoding="utf-8")
