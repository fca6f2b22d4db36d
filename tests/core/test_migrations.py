"""Schema migrations: a complete registry of pure version -> version + 1 steps, tested on the fixture corpus."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import core.files.migrations as migrations
import core.files.project as project_module
from core.files.migrations import MigrationError, migrate, missing_steps
from core.files.project import dumps, load, loads

CORPUS = Path(__file__).parent / "fixtures" / "projects"


def _versions() -> list[int]:
    return sorted(int(p.name[1:]) for p in CORPUS.glob("v*") if p.is_dir() and p.name[1:].isdigit())


def test_every_released_version_has_fixtures() -> None:
    versions = _versions()
    assert versions == list(range(migrations.OLDEST_VERSION, migrations.SCHEMA_VERSION + 1))
    for version in versions:
        files = list((CORPUS / f"v{version}").glob("*.json"))
        assert len(files) >= 3, f"v{version} needs fixture files"
        for path in files:
            assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == version, path


def test_every_old_version_has_an_upgrade_step() -> None:
    assert missing_steps() == []


@pytest.mark.parametrize("path", sorted(CORPUS.glob("v*/*.json")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_loads_at_the_current_version(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    frozen = copy.deepcopy(data)
    upgraded = migrate(data)
    assert data == frozen, "a migration changed its argument"
    assert upgraded["schema_version"] == migrations.SCHEMA_VERSION
    project = load(path)
    assert json.loads(dumps(project))["schema_version"] == migrations.SCHEMA_VERSION
    version = int(path.parent.name[1:])
    expected = CORPUS / f"expected_v{migrations.SCHEMA_VERSION}" / path.name
    if version == migrations.SCHEMA_VERSION:
        assert dumps(project) == path.read_text(encoding="utf-8")
    elif expected.exists():  # pragma: no cover - from schema version 2 on
        assert dumps(project) == expected.read_text(encoding="utf-8")


# --- the mechanism, with a pretend future -------------------------------------------------------------------
def _to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["title"] = data.pop("name")  # a renamed field: what needs a major version
    data["schema_version"] = 2
    return data


def _to_v3(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["name"] = data.pop("title").upper()
    data["schema_version"] = 3
    return data


def test_steps_chain_in_order_and_leave_the_input_alone() -> None:
    data = {"schema_version": 1, "name": "net"}
    frozen = copy.deepcopy(data)
    assert migrate(data, 3, {1: _to_v2, 2: _to_v3}) == {"schema_version": 3, "name": "NET"}
    assert migrate({"schema_version": 2, "title": "a"}, 3, {1: _to_v2, 2: _to_v3})["name"] == "A"
    assert data == frozen
    assert missing_steps(3, {1: _to_v2}) == [2]


def test_a_missing_or_wrong_step_is_an_error() -> None:
    with pytest.raises(MigrationError, match="from schema version 2"):
        migrate({"schema_version": 1, "name": "x"}, 3, {1: _to_v2})
    with pytest.raises(MigrationError, match="did not produce version 2"):
        migrate({"schema_version": 1}, 2, {1: lambda d: dict(d)})


def test_registering_a_step_twice_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", {})
    migrations.migration(1)(_to_v2)
    with pytest.raises(ValueError, match="already registered"):
        migrations.migration(1)(_to_v2)


def test_a_v2_reader_is_one_function_away(monkeypatch) -> None:
    """Pretend version 2 renamed description -> notes: one registered function upgrades every v1 fixture."""
    monkeypatch.setattr(migrations, "MIGRATIONS", {})
    monkeypatch.setattr(project_module, "SCHEMA_VERSION", 2)

    @migrations.migration(1)
    def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(data)
        data["notes"] = data.pop("description", "")
        data["schema_version"] = 2
        return data

    for path in sorted((CORPUS / "v1").glob("*.json")):
        original = json.loads(path.read_text(encoding="utf-8"))
        project = load(path)
        assert project.extra["notes"] == original["description"]  # v2 field, unknown to this reader
        assert len(project.graph.nodes) == len(original["graph"]["nodes"])
        assert json.loads(dumps(project))["schema_version"] == 2
    with pytest.raises(Exception, match="schema version 3"):
        loads(json.dumps({"format": "torchcanvas-project", "schema_version": 3, "graph": {}}).encode())
