"""Every module of core and gui is named in docs/CONTRACTS.md, so a newcomer who reads it finds the room a change
goes in; a module added without a word there fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _named_words() -> set[str]:
    text = (ROOT / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")
    words: set[str] = set()
    for quoted in re.findall(r"`([^`]+)`", text):
        words.update(re.split(r"[^A-Za-z0-9_]+", quoted))
    return words


def test_every_module_of_core_and_gui_is_named_in_contracts() -> None:
    named = _named_words()
    modules = sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py"))
    missing = [
        str(path.relative_to(ROOT))
        for path in modules
        if path.stem not in ("__init__", "__main__") and path.stem not in named
    ]
    assert not missing, f"name these in docs/CONTRACTS.md (Rooms): {missing}"
