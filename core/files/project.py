"""The project file: one JSON document holding the graph, node positions and training settings.

It is the single source of truth for everything the app shows, runs and exports. Loading trusts nothing:
every field is type-checked, names and parameters are validated against the catalog, and any problem becomes
one ``ProjectLoadError`` naming the file and the field. Nothing in a file is ever executed or imported.

Saving writes canonical JSON (sorted keys, two-space indent, ``repr`` floats, LF, UTF-8, final newline), so
load + save reproduces a canonical file byte for byte, and is atomic: a crash or a full disk leaves the old file.
Versioning (``schema_version`` = major, ``schema_minor`` = minor) is described in ``core.files.migrations``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from typing import Any

from core.errors import ProjectLoadError, ProjectSaveError, TorchCanvasError
from core.files.file_errors import FileWriteError
from core.files.fileio import STALE_TEMP_SECONDS, atomic_write_bytes, remove_stale_temps
from core.files.fileread import FileReadError, read_regular_file
from core.files.migrations import BLOCKS_MINOR, OLDEST_VERSION, SCHEMA_MINOR, SCHEMA_VERSION, MigrationError, migrate
from core.files.project_graph import UnknownFields, _expect, _library_from_list, _whole, graph_from_dict
from core.files.strict_json import parse_strict
from core.model.blocks import (
    check_instances,
    expanded_size,
    library_to_list,
)
from core.model.graph import Graph
from core.model.node import Edge, Node
from core.model.task_check import new_input_params
from core.settings import TrainingSettings
from core.signals import Signal

__all__ = [
    "FORMAT",
    "SCHEMA_MINOR",
    "SCHEMA_VERSION",
    "STALE_TEMP_SECONDS",
    "Project",
    "UnknownFields",
    "dumps",
    "from_dict",
    "load",
    "loads",
    "save",
]

FORMAT = "torchcanvas-project"
MAX_FILE_BYTES = 32 * 1024 * 1024  # documented in docs/PROJECT_FORMAT.md ("Safety")

_TOP_KEYS = frozenset({"format", "schema_version", "schema_minor", "name", "description", "graph", "training"})
MAX_EXPANDED = 20_000  # layers with every block instance expanded; ResNet-152 has about 500
_GRAPH_KEYS = frozenset({"nodes", "edges", "blocks"})  # blocks inside graph: "format" stays near the top


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    name: str = "Untitled"
    description: str = ""
    training: TrainingSettings = field(default_factory=TrainingSettings)
    extra: dict[str, Any] = field(default_factory=dict)  # top-level fields of a newer minor version
    schema_minor: int = 0  # the newest minor version whose fields this project holds (blocks raise it on save)
    unknown: UnknownFields = field(default_factory=UnknownFields)  # nested fields of a newer minor version
    # Training keys the loaded file had (None for a new project: write them all). Settings added by later versions
    # are written only when set or already in the file, so opening and saving an older file leaves it unchanged.
    training_keys: frozenset[str] | None = None
    # (settings) after set_training: the training form, the preview and the analysis follow it, undo included
    training_changed: Signal = field(default_factory=Signal, init=False, repr=False, compare=False)

    def set_training(self, settings: TrainingSettings) -> None:
        """Replace the training settings and say so (the undoable edit of them calls this)."""
        self.training = settings
        self.training_changed.emit(settings)

    def new_node(self, layer_id: str, pos: tuple[float, float] = (0.0, 0.0)) -> Node:
        """A node for this project (not yet added): a new Input takes the shape and dtype of the project's dataset,
        so a fresh project trains on its default digits instead of expecting MNIST's [1, 28, 28]."""
        params = new_input_params(self.training) if layer_id == "Input" else None
        return self.graph.create_node(layer_id, pos, params=params)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; unknown fields go back where they came from (known fields always win)."""
        graph = self.graph.to_dict()
        for node in graph["nodes"]:
            kept = self.unknown.nodes.get(node["id"])
            if kept:
                node.update({k: v for k, v in kept.items() if k not in node})
        for wire in graph["edges"]:
            kept = self.unknown.edges.get(Edge(wire["src"], wire["dst"], wire["dst_port"], wire["src_port"]))
            if kept:
                wire.update({k: v for k, v in kept.items() if k not in wire})
        graph.update({k: v for k, v in self.unknown.graph.items() if k not in graph})
        training = self.training.to_dict()
        if self.training_keys is not None:
            defaults = TrainingSettings().to_dict()
            training = {k: v for k, v in training.items() if k in self.training_keys or v != defaults.get(k)}
        training.update({k: v for k, v in self.unknown.training.items() if k not in training})
        data = {k: v for k, v in self.extra.items() if k not in _TOP_KEYS}
        data.update(
            {
                "format": FORMAT,
                "schema_version": SCHEMA_VERSION,
                "name": self.name,
                "description": self.description,
                "graph": graph,
                "training": training,
            }
        )
        minor = self.schema_minor
        if self.graph.blocks:  # blocks are schema 1.1; a project without them stays a 1.0 file
            graph["blocks"] = library_to_list(self.graph.blocks)
            minor = max(minor, BLOCKS_MINOR)
        if minor:  # absent means 0, so files of minor version 0 stay as they always were
            data["schema_minor"] = minor
        return data


# --- writing -------------------------------------------------------------------------------------------------
def dumps(project: Project) -> str:
    """Canonical JSON text: sorted keys, two-space indent, shortest round-trip floats, LF, final newline.

    Floats use Python's ``repr`` (the shortest text that reads back as the same number, the same on every
    platform), ints stay ints, text is written as UTF-8 rather than ``\\u`` escapes. Raises ProjectSaveError
    when the project holds something JSON cannot represent (NaN, a lone surrogate).
    """
    try:
        text = json.dumps(project.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        raise ProjectSaveError(f"The project cannot be written as a file: {exc}") from None
    return text + "\n"


def save(project: Project, path: str | os.PathLike[str]) -> None:
    """Write atomically through ``core.files.fileio``: a temporary file in the same folder, flushed and fsynced, then
    ``os.replace``.

    Killing the process at any moment leaves the old file or the new one, never a torn file; when anything fails
    (disk full, no permission, a name too long, a symbolic-link loop) the old file is untouched, the temporary
    file is removed and ProjectSaveError names the path and the cause.
    """
    try:
        data = dumps(project).encode("utf-8")
    except ProjectSaveError as exc:
        raise ProjectSaveError(f"Could not save {path}: {exc}") from None
    try:
        target = atomic_write_bytes(path, data)
    except FileWriteError as exc:
        raise ProjectSaveError(f"Could not save {exc.path}: {exc.cause}.") from None
    remove_stale_temps(target)


# --- reading -------------------------------------------------------------------------------------------------
def load(path: str | os.PathLike[str]) -> Project:
    """Read a project file; any problem is a ProjectLoadError naming the file (and the field)."""
    where = str(path)
    try:  # refuses a device (/dev/zero), a FIFO and anything over MAX_FILE_BYTES before reading it
        raw = read_regular_file(path, MAX_FILE_BYTES, "project file")
    except FileReadError as exc:
        raise ProjectLoadError(f"could not read the file: {exc.cause}", where) from None
    return loads(raw, where)


def loads(raw: bytes | str, where: str = "<project>") -> Project:
    """Parse and validate project text; never executes anything and raises only ProjectLoadError."""
    try:
        return _loads(raw, where)
    except ProjectLoadError:
        raise
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where) from None
    except (RecursionError, MemoryError):
        raise ProjectLoadError("the file is nested too deeply or too large to be a project", where) from None
    except Exception as exc:  # a bug in a validator must still not crash the app on a bad file
        error = ProjectLoadError(f"the file could not be read (unexpected {type(exc).__name__}: {exc})", where)
        error.unexpected = True
        raise error from exc


def _loads(raw: bytes | str, where: str) -> Project:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw)
        if len(raw) > MAX_FILE_BYTES:
            raise ProjectLoadError(f"the file is too large ({len(raw)} bytes) to be a project", where)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ProjectLoadError("the file is not UTF-8 text; is it really a TorchCanvas project?", where) from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise ProjectLoadError(f"expected the file's bytes, got {type(raw).__name__}", where)
    return from_dict(parse_strict(text, where), where)


def from_dict(data: Any, where: str = "<project>") -> Project:
    """Build a project from parsed JSON data (upgrading an older schema version first)."""
    data = _upgraded(data, where)
    minor = data.get("schema_minor", 0)
    if not _whole(minor) or not 0 <= minor < 1_000_000:
        raise ProjectLoadError("schema_minor must be a whole number from 0", where, "schema_minor")
    unknown = UnknownFields()
    name = _expect(data.get("name", "Untitled"), str, where, "name", "text")
    description = _expect(data.get("description", ""), str, where, "description", "text")
    graph_data = _expect(data.get("graph"), dict, where, "graph", "an object")
    graph = _graph_with_blocks(graph_data, where, unknown)
    unknown.graph = {k: v for k, v in graph_data.items() if k not in _GRAPH_KEYS}
    training_data = _expect(data.get("training", {}), dict, where, "training", "an object")
    known_training = {f.name for f in fields(TrainingSettings)}
    training = _training_settings({k: v for k, v in training_data.items() if k in known_training}, where)
    unknown.training = {k: v for k, v in training_data.items() if k not in known_training}
    extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
    keys = frozenset(k for k in training_data if k in known_training)
    return Project(graph, name[:200], description[:10_000], training, extra, minor, unknown, keys)


def _upgraded(data: Any, where: str) -> dict[str, Any]:
    """The data at the current schema version; a file this version cannot read says which version can."""
    _expect(data, dict, where, "top level", "a JSON object")
    if data.get("format") != FORMAT:
        raise ProjectLoadError(
            'this is not a TorchCanvas project file (no "format": "torchcanvas-project")', where, "format"
        )
    version = data.get("schema_version")
    if not _whole(version):
        raise ProjectLoadError("schema_version must be a whole number", where, "schema_version")
    _check_readable_version(version, where)
    try:
        return migrate(data, SCHEMA_VERSION)
    except MigrationError as exc:
        raise ProjectLoadError(str(exc), where, "schema_version") from None


def _check_readable_version(version: int, where: str) -> None:
    """A newer file asks for an update; an older one than the migrations reach names the oldest readable."""
    if version > SCHEMA_VERSION:
        readable = (
            f"version {SCHEMA_VERSION}"
            if OLDEST_VERSION == SCHEMA_VERSION
            else f"versions {OLDEST_VERSION} to {SCHEMA_VERSION}"
        )
        raise ProjectLoadError(
            f"the file was made by a newer TorchCanvas (schema version {version}); this TorchCanvas reads schema "
            f"{readable}: update TorchCanvas to open it",
            where,
            "schema_version",
        )
    if version < OLDEST_VERSION:
        raise ProjectLoadError(
            f"schema version {version} is older than any this TorchCanvas can read (from {OLDEST_VERSION})",
            where,
            "schema_version",
        )


def _graph_with_blocks(graph_data: dict[str, Any], where: str, unknown: UnknownFields) -> Graph:
    """The network and its block definitions, bounded by its size with every block expanded: a few block
    definitions repeating each other could otherwise ask for millions of layers."""
    library = _library_from_list(graph_data.get("blocks", []), where)
    graph = graph_from_dict(graph_data, where, unknown, library)
    try:
        check_instances(graph)
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where, "graph.nodes") from None
    if expanded_size(library, graph) > MAX_EXPANDED:
        too_big = f"the network has more than {MAX_EXPANDED} layers with its blocks expanded"
        raise ProjectLoadError(too_big, where, "graph.blocks")
    return graph


def _training_settings(known: dict[str, Any], where: str) -> TrainingSettings:
    """Settings this version knows, each checked by TrainingSettings; any failure names the training field."""
    try:
        return TrainingSettings.from_dict(known)
    except TorchCanvasError as exc:
        raise ProjectLoadError(str(exc), where, "training") from None
    except (TypeError, ValueError) as exc:
        raise ProjectLoadError(f"bad training settings ({exc})", where, "training") from None
