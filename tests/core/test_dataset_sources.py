"""The registry of dataset sources: every kind is one ``Source`` entry that parsing, loading, the exported
script, the metadata and the Data panel's list read, so a new source is one module plus its test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset, parse_spec
from core.datasets.info import DataInfo, dataset_info
from core.datasets.spec import SOURCES, DataSpec, ScriptLoad, Source, named, sources
from core.portable import points
from tests.core.train_fixtures import mlp_project

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_is_registered_and_specs_read_back() -> None:
    kinds = {"table", "points", "sequences", "shapes", "vision", "npz", "idx", "folder", "csv", "tabular", "text"}
    assert {s.kind for s in sources()} == kinds
    specs = ("digits", "spirals:noise=0.3", "sequences:length=30", "shapes:classes=4", "mnist", "npz:a.npz", "idx:a,b")
    for text in (*specs, "csv:t.csv:y", "table:t.csv", "table:t.csv?label=y&category=a,b%2Cc"):
        spec = parse_spec(text)
        assert spec.text == text and SOURCES[spec.kind].kind == spec.kind


def _string_constants(path: Path, value: str) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value == value)


@pytest.mark.slow
def test_the_sequences_source_lives_in_one_module() -> None:
    """Outside its own module, no code of the app names the kind (it was in spec.py, __init__.py, info.py and
    script.py, each with its own if-branch)."""
    found = [
        path.relative_to(ROOT).as_posix()
        for folder in ("core", "gui")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if _string_constants(path, "sequences")
    ]
    assert found == ["core/datasets/sequences.py"]


def test_a_new_source_is_one_registry_entry(monkeypatch) -> None:
    """A source registered from outside the package is parsed, loaded, described, exported and listed."""

    def load(spec: DataSpec, request: object) -> tuple:
        x = torch.linspace(0, 1, 40).reshape(20, 2)
        return x, torch.arange(20) % 2, None, None, ["a", "b"]

    def script(spec: DataSpec, settings: object, shape: tuple, tokens: bool) -> ScriptLoad:
        values = {"SAMPLES": 20, "NOISE": 0.1}  # its template's placeholders
        return ScriptLoad([points.xor_points, points.point_arrays], "read_builtin.xor", values=values)

    ramp = Source(
        kind="ramp",
        names=("ramp",),
        group="built in",
        help="ramp",
        parse=lambda key, rest, text: named(key, rest, text, "ramp"),
        text=lambda spec: spec.name,
        load=load,
        script=script,
        describe=lambda spec: DataInfo("ramp", (2,), 2),
        ask="list",
        list_label="built in",
        rank=9,
    )
    monkeypatch.setitem(SOURCES, "ramp", ramp)
    assert parse_spec("ramp") == DataSpec("ramp", "ramp")
    assert load_dataset("ramp", input_shape=(2,)).count("train") == 16
    assert dataset_info("ramp") == DataInfo("ramp", (2,), 2)
    script_text = generate_script(mlp_project([2], 4, 2, dataset="ramp")).source
    assert "raw = xor_points(20, 0.1, SEED)" in script_text
    assert [s.kind for s in sources() if s.ask == "list"] == ["table", "points", "ramp", "vision"]  # the panel's list
