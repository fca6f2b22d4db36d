"""The project file: one JSON document holding the graph, node positions and training settings.

It is the single source of truth for everything the app shows, runs and exports. Loading trusts nothing:
every field is type-checked, names and parameters are validated against the catalog, and any problem becomes
one ``ProjectLoadError`` naming the file and the field. Nothing in a file is ever executed or imported.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.catalog import LAYERS
from core.errors import ProjectLoadError, ProjectSaveError, TorchCanvasError
from core.graph import Edge, Graph, Node, validate_params
from core.names import name_problem
from core.settings import TrainingSettings

FORMAT = "torchcanvas-project"
SCHEMA_VERSION = 1
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_NODES = 5000


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    name: str = "Untitled"
    description: str = ""
    training: TrainingSettings = field(default_factory=TrainingSettings)
    extra: dict[str, Any] = field(default_factory=dict)  # fields of a newer minor version, kept on re-save

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        data.update(
            {
                "format": FORMAT,
                "schema_version": SCHEMA_VERSION,
                "name": self.name,
                "description": self.description,
                "graph": self.graph.to_dict(),
                "training": self.training.to_dict(),
            }
        )
        return data


def dumps(project: Project) -> str:
    """Canonical JSON: sorted keys, two-space indent, LF, a final newline."""
    return json.dumps(project.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def save(project: Project, path: str | os.PathLike[str]) -> None:
    """Write atomically: a temporary file in the same folder, flushed and fsynced, then ``os.replace``."""
    target = Path(path)
    text = dumps(project).encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise ProjectSaveError(f"Could not save {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ProjectSaveError(f"Could not save {target}: {exc.strerror or exc}") from exc
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent or ".", os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def load(path: str | os.PathLike[str]) -> Project:
    where = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ProjectLoadError(f"the file is too large ({size} bytes) to be a project", where)
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProjectLoadError(f"could not read the file: {exc.strerror or exc}", where) from None
    return loads(raw, where)


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed in a project file")


def loads(raw: bytes | str, where: str = "<project>") -> Project:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ProjectLoadError("the file is not UTF-8 text; is it really a TorchCanvas project?", where) from None
    except RecursionError:
        raise ProjectLoadError("the file is nested too deeply to be a project", where) from None
    except ValueError as exc:
        raise ProjectLoadError(f"the file is not valid JSON ({exc})", where) from None
    try:
        return from_dict(data, where)
    except ProjectLoadError:
        raise
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where) from None
    except RecursionError:
        raise ProjectLoadError("the file is nested too deeply to be a project", where) from None


def _expect(value: Any, kind: type | tuple[type, ...], where: str, field_name: str, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
        raise ProjectLoadError(f"expected {what}, found {type(value).__name__}", where, field_name)
    return value


def from_dict(data: Any, where: str = "<project>") -> Project:
    _expect(data, dict, where, "top level", "a JSON object")
    if data.get("format") != FORMAT:
        raise ProjectLoadError(
            'this is not a TorchCanvas project file (no "format": "torchcanvas-project")', where, "format"
        )
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectLoadError("schema_version must be a whole number", where, "schema_version")
    if version > SCHEMA_VERSION:
        raise ProjectLoadError(
            f"the file was made by a newer TorchCanvas (schema version {version}); this version reads up to "
            f"{SCHEMA_VERSION}: update TorchCanvas to open it",
            where,
            "schema_version",
        )
    if version < 1:
        raise ProjectLoadError(f"unknown schema version {version}", where, "schema_version")
    name = _expect(data.get("name", "Untitled"), str, where, "name", "text")
    description = _expect(data.get("description", ""), str, where, "description", "text")
    graph = graph_from_dict(_expect(data.get("graph"), dict, where, "graph", "an object"), where)
    training_data = _expect(data.get("training", {}), dict, where, "training", "an object")
    try:
        training = TrainingSettings.from_dict(training_data)
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where, "training") from None
    except TypeError as exc:
        raise ProjectLoadError(f"bad training settings ({exc})", where, "training") from None
    known = {"format", "schema_version", "name", "description", "graph", "training"}
    extra = {k: v for k, v in data.items() if k not in known}
    return Project(graph, name[:200], description[:10_000], training, extra)


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def graph_from_dict(data: dict[str, Any], where: str = "<project>") -> Graph:
    graph = Graph()
    nodes = _expect(data.get("nodes", []), list, where, "graph.nodes", "a list")
    edges = _expect(data.get("edges", []), list, where, "graph.edges", "a list")
    if len(nodes) > MAX_NODES:
        raise ProjectLoadError(f"too many nodes ({len(nodes)}; at most {MAX_NODES})", where, "graph.nodes")
    for i, item in enumerate(nodes):
        at = f"graph.nodes[{i}]"
        _expect(item, dict, where, at, "an object")
        node_id = _expect(item.get("id"), str, where, f"{at}.id", "text")
        if not node_id or len(node_id) > 64 or not node_id.isprintable():
            raise ProjectLoadError("a node id must be short printable text", where, f"{at}.id")
        layer = _expect(item.get("type"), str, where, f"{at}.type", "text")
        name = item.get("name")
        problem = name_problem(name)
        if problem:
            raise ProjectLoadError(f"the node name {name!r} is not allowed: {problem}", where, f"{at}.name")
        params = _expect(item.get("params", {}), dict, where, f"{at}.params", "an object")
        pos = item.get("pos", [0, 0])
        if not (isinstance(pos, list) and len(pos) == 2 and all(_finite_number(v) and abs(v) < 1e9 for v in pos)):
            raise ProjectLoadError("pos must be two finite numbers", where, f"{at}.pos")
        spec = LAYERS.get(layer)
        if spec is not None:
            try:
                params = validate_params(spec, params, name)
            except TorchCanvasError as exc:
                raise ProjectLoadError(str(exc), where, f"{at}.params") from None
        else:
            if len(layer) > 100 or not layer.isprintable():
                raise ProjectLoadError("a layer type must be short printable text", where, f"{at}.type")
            params = json.loads(json.dumps(params))  # plain data only; kept as is for an unknown layer
        try:
            graph.add_node(Node(node_id, layer, name, params, (float(pos[0]), float(pos[1]))))
        except TorchCanvasError as exc:
            raise ProjectLoadError(str(exc), where, at) from None
    for i, item in enumerate(edges):
        at = f"graph.edges[{i}]"
        _expect(item, dict, where, at, "an object")
        src = _expect(item.get("src"), str, where, f"{at}.src", "a node id")
        dst = _expect(item.get("dst"), str, where, f"{at}.dst", "a node id")
        ports = []
        for key in ("dst_port", "src_port"):
            port = item.get(key, 0)
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 64:
                raise ProjectLoadError(f"{key} must be a small whole number", where, f"{at}.{key}")
            ports.append(port)
        if src not in graph or dst not in graph:
            raise ProjectLoadError("the wire names a node that does not exist", where, at)
        try:
            graph.connect(Edge(src, dst, ports[0], ports[1]))
        except TorchCanvasError as exc:
            raise ProjectLoadError(str(exc), where, at) from None
    graph.sync_ids()
    return graph
