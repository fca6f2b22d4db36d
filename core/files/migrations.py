"""Upgrading project files written by older TorchCanvas versions, one schema version at a time.

Versioning (also in docs/PROJECT_FORMAT.md):

- ``schema_version`` (a whole number) is the *major* version. It changes only when old readers would misread a
  file (a field renamed, its meaning changed). A file with a newer major version is refused; an older one is
  upgraded here, step by step, before it is read.
- ``schema_minor`` (a whole number, absent means 0) is the *minor* version. It changes when fields are only added
  and an older reader may ignore them. Older readers open such files and keep the fields they do not know when
  they save again.

A migration is a pure function from the plain JSON data of version ``n`` to that of version ``n + 1``: it returns
new data and never changes its argument, reads no files and imports nothing named by the file. Adding schema
version 2 is one function::

    @migration(1)
    def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(data)
        ...  # rename / reshape fields
        data["schema_version"] = 2
        return data

plus ``SCHEMA_VERSION = 2`` and a fixture folder ``tests/core/fixtures/projects/v2/`` kept forever.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 1  # the major version this TorchCanvas writes
SCHEMA_MINOR = 1  # the newest minor version this TorchCanvas knows (additive changes within the major version)
# 1.1 added block definitions (top-level "blocks") and block instances (nodes of type "Block"); a file without
# blocks is still written as 1.0, and a 1.0 reader keeps the blocks as unknown fields and refuses to build the
# instances (an unknown layer type), so it never builds a different model.
BLOCKS_MINOR = 1
OLDEST_VERSION = 1  # the oldest major version that can still be read

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# from_version -> function taking data of from_version and returning data of from_version + 1
MIGRATIONS: dict[int, Migration] = {}


class MigrationError(Exception):
    """A file cannot be upgraded; the message says why (wrapped into ProjectLoadError by core.files.project)."""


def migration(from_version: int) -> Callable[[Migration], Migration]:
    """Register ``func`` as the step from ``from_version`` to ``from_version + 1``."""

    def register(func: Migration) -> Migration:
        if from_version in MIGRATIONS:
            raise ValueError(f"a migration from schema version {from_version} is already registered")
        MIGRATIONS[from_version] = func
        return func

    return register


def migrate(
    data: dict[str, Any],
    target: int = SCHEMA_VERSION,
    registry: dict[int, Migration] | None = None,
) -> dict[str, Any]:
    """Return ``data`` upgraded to schema version ``target``; the argument is left as it was.

    ``data["schema_version"]`` must already be checked to be a whole number between OLDEST_VERSION and target.
    """
    steps = MIGRATIONS if registry is None else registry
    version = data["schema_version"]
    if version == target:
        return data
    current = copy.deepcopy(data)
    while version < target:
        step = steps.get(version)
        if step is None:
            raise MigrationError(f"no upgrade is known from schema version {version} to {version + 1}")
        current = step(current)
        if not isinstance(current, dict) or current.get("schema_version") != version + 1:
            raise MigrationError(f"the upgrade from schema version {version} did not produce version {version + 1}")
        version += 1
    return current


def missing_steps(target: int = SCHEMA_VERSION, registry: dict[int, Migration] | None = None) -> list[int]:
    """Versions with no registered step towards ``target`` (empty when every old file can be upgraded)."""
    steps = MIGRATIONS if registry is None else registry
    return [v for v in range(OLDEST_VERSION, target) if v not in steps]
