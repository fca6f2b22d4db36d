"""Project files: canonical round trip, failed saves, versions, unknown fields and unknown layer types."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core.files.project as project_module
import core.files.project_graph as project_graph
from core.code.codegen import CodegenError, generate_model
from core.errors import PortError, ProjectLoadError, ProjectSaveError
from core.files.project import Project, dumps, load, loads, save
from core.model.analysis import analyze
from core.model.node import Edge

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))
FIXTURES = sorted((Path(__file__).parent / "fixtures" / "projects").glob("v*/*.json"))
V1 = Path(__file__).parent / "fixtures" / "projects" / "v1"


def test_there_is_something_to_round_trip() -> None:
    assert len(EXAMPLES) >= 6
    assert len(FIXTURES) >= 6


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES + FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_load_save_reproduces_the_file_byte_for_byte(path: Path, tmp_path: Path) -> None:
    original = path.read_bytes()
    out = tmp_path / path.name
    save(load(path), out)
    assert out.read_bytes() == original
    assert b"\r" not in original and original.endswith(b"\n")


def test_canonical_form_is_sorted_lf_utf8_and_stable() -> None:
    project = load(V1 / "unicode_and_floats.json")
    text = dumps(project)
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "数字" in text and "\\u" not in text.replace("\\u2028", "")  # real UTF-8, not escapes
    assert dumps(loads(text.encode("utf-8"))) == text  # a second round changes nothing
    assert "-0.0" in text and "1e-07" in text and "0.123456789012345" in text


def test_non_canonical_input_is_normalised_once() -> None:
    data = json.loads((V1 / "minimal.json").read_text(encoding="utf-8"))
    messy = json.dumps(data, indent=None).replace(", ", ",") + "\r\n"
    first = dumps(loads(messy.encode()))
    assert first == (V1 / "minimal.json").read_text(encoding="utf-8")


# --- failed saves --------------------------------------------------------------------------------------------
def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_save_without_permission_keeps_old_file_and_names_path(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "net.json"
    save(load(V1 / "minimal.json"), target)
    before = target.read_bytes()

    real_open = os.open

    def denied(path, *args, **kwargs):  # creating the temporary file beside the target is refused
        if Path(path).parent == tmp_path:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(ProjectSaveError) as info:
        save(load(V1 / "residual_merge.json"), target)
    monkeypatch.undo()
    assert str(target) in str(info.value) and "permission denied" in str(info.value)
    assert target.read_bytes() == before


def test_save_into_missing_folder_names_path(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "net.json"
    with pytest.raises(ProjectSaveError, match=r"net\.json"):
        save(Project(), target)


@pytest.mark.parametrize("stage", ["fsync", "replace"])
def test_disk_full_keeps_old_file_and_removes_temp(tmp_path: Path, monkeypatch, stage: str) -> None:
    target = tmp_path / "net.json"
    save(load(V1 / "minimal.json"), target)
    before = target.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(project_module.os, stage, full)
    with pytest.raises(ProjectSaveError) as info:
        save(load(V1 / "every_layer.json"), target)
    monkeypatch.undo()
    assert str(target) in str(info.value) and "the disk is full" in str(info.value)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_real_write_failure_from_file_size_limit(tmp_path: Path) -> None:
    """A real kernel error (EFBIG from RLIMIT_FSIZE, the same path as a full disk), in a child process."""
    target = tmp_path / "net.json"
    save(load(V1 / "minimal.json"), target)
    before = target.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from core.errors import ProjectSaveError
        from core.files.project import load, save
        project = load({str(V1 / "every_layer.json")!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
        try:
            save(project, {str(target)!r})
        except ProjectSaveError as exc:
            print("SAVE-ERROR", exc)
            sys.exit(0)
        sys.exit(3)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SAVE-ERROR" in result.stdout and str(target) in result.stdout
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_unwritable_content_is_a_save_error_and_writes_nothing(tmp_path: Path) -> None:
    project = load(V1 / "unknown_layer.json")
    project.graph.node("n3").params["bad"] = float("nan")
    target = tmp_path / "net.json"
    with pytest.raises(ProjectSaveError, match=r"net\.json"):
        save(project, target)
    assert not target.exists() and _leftovers(tmp_path) == []


def test_save_keeps_file_mode_and_never_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    save(Project(), real)
    os.chmod(real, 0o640)
    save(load(V1 / "minimal.json"), real)
    assert real.read_bytes() == (V1 / "minimal.json").read_bytes()
    assert (real.stat().st_mode & 0o777) == 0o640
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with pytest.raises(ProjectSaveError, match=r"link\.json: it is a link to"):  # issue 22: see test_fileio
        save(Project(), link)
    assert link.is_symlink() and real.read_bytes() == (V1 / "minimal.json").read_bytes()


# --- versions ------------------------------------------------------------------------------------------------
def _v1(**changes) -> bytes:
    data = json.loads((V1 / "minimal.json").read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data).encode()


def test_newer_major_version_is_refused_naming_both_versions() -> None:
    with pytest.raises(ProjectLoadError) as info:
        loads(_v1(schema_version=7), "net.json")
    message = str(info.value)
    assert "net.json" in message and "schema version 7" in message and "reads schema version 1" in message
    assert "update" in message


@pytest.mark.parametrize("bad", [0, -1, "1", 1.0, True, None])
def test_bad_schema_versions_are_refused(bad) -> None:
    with pytest.raises(ProjectLoadError, match="schema_version"):
        loads(_v1(schema_version=bad))


@pytest.mark.parametrize("bad", [-1, "2", 1.5, True])
def test_bad_minor_versions_are_refused(bad) -> None:
    with pytest.raises(ProjectLoadError, match="schema_minor"):
        loads(_v1(schema_minor=bad))


def test_unknown_fields_of_newer_minor_version_survive_an_edit_and_resave() -> None:
    project = load(V1 / "newer_minor.json")
    assert project.schema_minor == 3
    project.graph.set_param("n2", "out_features", 12)
    data = json.loads(dumps(project))
    assert data["schema_minor"] == 3
    assert data["future_top"] == {"theme": "dark", "list": [1, 2.5, "three"]}
    assert data["graph"]["groups"] == [{"name": "encoder", "nodes": ["n2"]}]
    nodes = {n["id"]: n for n in data["graph"]["nodes"]}
    assert nodes["n2"]["collapsed"] is True and nodes["n2"]["params"] == {"out_features": 12}
    assert nodes["n1"]["color"] == "#ff8800"
    assert data["graph"]["edges"][0]["label"] == "features"
    assert data["training"]["future_setting"] == "on"


def test_unknown_fields_of_a_deleted_node_or_wire_go_with_it() -> None:
    project = load(V1 / "newer_minor.json")
    project.graph.disconnect(Edge("n1", "n2"))
    project.graph.disconnect(Edge("n2", "n3"))
    project.graph.remove_node("n2")
    data = json.loads(dumps(project))
    assert [n["id"] for n in data["graph"]["nodes"]] == ["n1", "n3"]
    assert data["graph"]["edges"] == []
    assert data["future_top"]["theme"] == "dark"


def test_known_fields_win_over_kept_unknown_ones() -> None:
    project = load(V1 / "newer_minor.json")
    project.extra["name"] = "sneaky"
    project.unknown.training["lr"] = 99
    data = json.loads(dumps(project))
    assert data["name"] == "From v1.3" and data["training"]["lr"] == 0.001


def test_new_project_writes_minor_zero_as_absent() -> None:
    data = json.loads(dumps(Project()))
    assert data["format"] == "torchcanvas-project" and data["schema_version"] == 1
    assert "schema_minor" not in data


# --- unknown layer types -------------------------------------------------------------------------------------
def test_unknown_layer_keeps_params_ports_and_wires(tmp_path: Path) -> None:
    project = load(V1 / "unknown_layer.json")
    node = project.graph.node("n3")
    assert node.type == "FancyAttention" and node.spec is None
    assert node.params["nested"] == {"a": [1, {"b": None}]}
    assert (node.input_count(), node.output_count()) == (2, 1)
    assert {(e.src, e.dst, e.dst_port) for e in project.graph.edges_of("n3")} == {
        ("n2", "n3", 0),
        ("n1", "n3", 1),
        ("n3", "n4", 0),
    }
    out = tmp_path / "again.json"
    save(project, out)
    assert out.read_bytes() == (V1 / "unknown_layer.json").read_bytes()
    copy = project.graph.copy()
    assert copy.node("n3").ports == (2, 1) and len(copy.edges) == len(project.graph.edges)


def test_unknown_layer_is_reported_not_generated() -> None:
    project = load(V1 / "unknown_layer.json")
    problems = analyze(project.graph).problems_of("n3")
    assert problems and "FancyAttention" in problems[0].message
    with pytest.raises(CodegenError, match="FancyAttention"):
        generate_model(project.graph)


def test_unknown_layer_ports_come_from_wires_when_not_stored() -> None:
    data = json.loads((V1 / "unknown_layer.json").read_text(encoding="utf-8"))
    del data["graph"]["nodes"][2]["ports"]
    project = loads(json.dumps(data).encode())
    assert project.graph.node("n3").ports == (2, 1)
    assert len(project.graph.edges) == 5
    assert json.loads(dumps(project))["graph"]["nodes"][2]["ports"] == [2, 1]


def test_unknown_layer_has_no_ports_beyond_its_count() -> None:
    project = load(V1 / "unknown_layer.json")
    with pytest.raises(PortError):
        project.graph.connect(Edge("n2", "n3", dst_port=2))


@pytest.mark.parametrize("ports", [[1], [1, 2, 3], [-1, 1], [1, 65], ["1", 1], [True, 1], {"in": 1}])
def test_bad_stored_ports_are_refused(ports) -> None:
    data = json.loads((V1 / "unknown_layer.json").read_text(encoding="utf-8"))
    data["graph"]["nodes"][2]["ports"] = ports
    with pytest.raises(ProjectLoadError, match=r"graph\.nodes\[2\]\.ports"):
        loads(json.dumps(data).encode())


def test_ports_of_a_known_layer_are_not_trusted() -> None:
    data = json.loads((V1 / "minimal.json").read_text(encoding="utf-8"))
    data["graph"]["nodes"][1]["ports"] = [5, 5]
    data["graph"]["edges"].append({"src": "n1", "dst": "n2", "dst_port": 3, "src_port": 0})
    with pytest.raises(ProjectLoadError, match="no input 4"):
        loads(json.dumps(data).encode())


# --- one clear error -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[]", "top level"),
        (b'{"format": "something-else"}', "format"),
        (b'{"format": "torchcanvas-project", "schema_version": 1, "graph": {}, "name": NaN}', "NaN"),
        (b'{"format": "torchcanvas-project", "schema_version": 1, "graph": {}, "x": 1e999}', "too large"),
        (b'{"format": "torchcanvas-project", "schema_version": 1, "graph": {}, "x": ' + b"9" * 5000 + b"}", "digits"),
        (b'{"format": "torchcanvas-project", "format": "torchcanvas-project"}', "twice"),
        (b'{"format": "torchcanvas-project", "schema_version": 1, "graph": {}, "name": "\\ud800"}', "surrogate"),
        (b"[" * 100_000, "deeply"),
        (b'{"a": ' * 40 + b"1" + b"}" * 40, "nested"),
    ],
)
def test_malformed_files_give_one_clear_error(raw: bytes, needle: str) -> None:
    with pytest.raises(ProjectLoadError, match=needle) as info:
        loads(raw, "broken.json")
    assert str(info.value).startswith("broken.json: ")
    assert not info.value.unexpected


def test_missing_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectLoadError, match="could not read"):
        load(tmp_path / "nope.json")


def test_save_removes_old_temporaries_of_killed_saves_only(tmp_path: Path) -> None:
    target = tmp_path / "net.json"
    old = tmp_path / ".net.json.abc123.tmp"
    fresh = tmp_path / ".net.json.def456.tmp"
    other = tmp_path / ".other.json.abc123.tmp"
    for path in (old, fresh, other):
        path.write_text("{", encoding="utf-8")
    long_ago = project_module.STALE_TEMP_SECONDS + 60
    for path in (old, other):
        stamp = path.stat().st_mtime - long_ago
        os.utime(path, (stamp, stamp))
    save(Project(), target)
    assert not old.exists() and fresh.exists() and other.exists()


def _chain(n: int, reverse: bool) -> bytes:
    nodes = [{"id": "n1", "type": "Input", "name": "x", "params": {"shape": [4]}, "pos": [0.0, 0.0]}]
    nodes += [{"id": f"n{i}", "type": "ReLU", "name": f"r{i}", "params": {}, "pos": [0.0, 0.0]} for i in range(2, n)]
    nodes.append({"id": f"n{n}", "type": "Output", "name": "output", "params": {}, "pos": [0.0, 0.0]})
    edges = [{"dst": f"n{i + 1}", "dst_port": 0, "src": f"n{i}", "src_port": 0} for i in range(1, n)]
    data = {
        "description": "",
        "format": "torchcanvas-project",
        "graph": {"edges": edges[::-1] if reverse else edges, "nodes": nodes},
        "name": "chain",
        "schema_version": 1,
        "training": {},
    }
    return json.dumps(data).encode()


def test_wire_order_of_the_file_is_kept_whatever_order_they_are_connected_in() -> None:
    project = loads(_chain(30, reverse=True))
    data = json.loads(dumps(project))
    assert [e["src"] for e in data["graph"]["edges"]] == [f"n{i}" for i in range(29, 0, -1)]
    assert dumps(loads(dumps(project).encode())) == dumps(project)
    assert analyze(project.graph).ok


@pytest.mark.slow
def test_the_largest_allowed_project_loads_quickly_and_a_larger_one_is_refused(monkeypatch) -> None:
    from core.model.graph import Graph

    visited: list[int] = []
    original = Graph.downstream

    def counting(self: Graph, node_id: str) -> set[str]:
        found = original(self, node_id)
        visited.append(len(found))
        return found

    monkeypatch.setattr(Graph, "downstream", counting)
    project = loads(_chain(project_graph.MAX_NODES, reverse=True))
    assert len(project.graph.nodes) == project_graph.MAX_NODES
    assert sum(visited) == 0  # each cycle check finds nothing downstream yet: linear, not quadratic
    with pytest.raises(ProjectLoadError, match="too many nodes"):
        loads(_chain(project_graph.MAX_NODES + 1, reverse=False))
