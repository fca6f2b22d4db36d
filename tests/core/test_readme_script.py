"""The README shows the MNIST MLP example's training script whole (issue 24): the copy there is what the app
writes today, so a change of the generated script that forgets the README fails here."""

from __future__ import annotations

from pathlib import Path

from core.code.script import generate_script
from core.files.project import load

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- mnist_mlp script: start -->", "<!-- mnist_mlp script: end -->"


def test_the_readme_shows_the_mnist_mlp_script_as_the_app_writes_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown.startswith("```python\n") and shown.endswith("\n```")
    written = generate_script(load(ROOT / "resources" / "examples" / "mnist_mlp.json")).source
    assert shown.removeprefix("```python\n").removesuffix("\n```") == written.rstrip("\n")
