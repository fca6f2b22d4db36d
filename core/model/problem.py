"""One thing wrong with a network, in words a beginner can act on, and the two words a node's badge shows for it.

The wiring check, the shape inference, the in-place and padding checks and the check against the data each report
problems; the editor, the CLI and the trainer show them. A problem is its own small type below all of them, so
each check can make one without importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
# What kind of problem, so a view can say it in two words (``status``): a gap in the wiring, a shape that does not
# fit a layer, the network against its dataset and loss, or the graph's structure (no Input, a cycle, ...).
Kind = Literal["structure", "unconnected", "shape", "task"]
STATUS: dict[str, str] = {
    "unconnected": "not connected",
    "shape": "shape error",
    "task": "does not fit the data",
    "structure": "problem",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the graph, in words a beginner can act on."""

    message: str
    node_id: str | None = None
    severity: Severity = "error"
    kind: Kind = "structure"


def status(problems: list[Problem]) -> str | None:
    """Two words for a node's badge line: "not connected", "shape error", ... (None when it has no error)."""
    kinds = {p.kind for p in problems if p.severity == "error"}
    for kind in ("unconnected", "shape", "task", "structure"):
        if kind in kinds:
            return STATUS[kind]
    return None
