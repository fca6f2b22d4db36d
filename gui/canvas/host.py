"""What the canvas needs of the open document, as a protocol on the canvas' own floor: the shell's ``Document``
satisfies it (the type checker says so where the window hands its document to an ``Editor``), and the canvas never
imports the shell above it (docs/CONTRACTS.md, "Floors")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QUndoStack

    from core.files.project import Project
    from core.model.analysis import Analysis
    from core.model.graph import Graph


class CanvasDocument(Protocol):
    """The project being edited, its one undo stack (every canvas pushes its commands there), the network's latest
    analysis (shapes for the boxes and the inspector) and ``schedule_analysis`` (a block definition's graph changed:
    the network's shapes follow at the next event-loop turn). ``analyzed`` carries each new analysis;
    ``project_replaced`` says New or Open swapped the project."""

    @property
    def project(self) -> Project: ...

    @property
    def graph(self) -> Graph: ...

    @property
    def undo_stack(self) -> QUndoStack: ...

    @property
    def analysis(self) -> Analysis: ...

    @property
    def analyzed(self) -> SignalInstance: ...

    @property
    def project_replaced(self) -> SignalInstance: ...

    def schedule_analysis(self) -> None: ...
