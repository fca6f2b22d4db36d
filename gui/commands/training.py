"""The undoable edit of a project's training settings, and ``push`` for a panel that may have no undo stack.

Like every edit, ``redo``/``undo`` touch only the model: ``Project.set_training``, whose ``training_changed`` the
training form, the dataset preview and the document's analysis follow (so an undo refreshes them too). The Input
shape a chosen dataset sets goes through ``gui.commands.graph.set_param``, in the same undo step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from core.settings import TrainingSettings

if TYPE_CHECKING:
    from core.files.project import Project

SETTINGS_ID = 0x7C5E  # lets consecutive changes of one field (typing in a spin box) merge into one undo step
# Edit > Undo names a field in words
WORDS = {"lr": "learning rate", "val_fraction": "validation split", "distributed": "several-process setting"}


class SetTrainingSettings(QUndoCommand):
    """Replace some training settings of a project: ``changes`` is {field: new value}."""

    def __init__(self, project: Project, changes: dict[str, Any], text: str = "") -> None:
        field = next(iter(changes)) if len(changes) == 1 else ""
        words = WORDS.get(field, field.replace("_", " "))
        super().__init__(text or f"Change training {words or 'settings'}")
        self.project = project
        self.field = field
        self.old = project.training.to_dict()
        self.new = {**self.old, **changes}

    def redo(self) -> None:
        self.project.set_training(TrainingSettings.from_dict(self.new))

    def undo(self) -> None:
        self.project.set_training(TrainingSettings.from_dict(self.old))

    def id(self) -> int:
        return SETTINGS_ID if self.field else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetTrainingSettings) or other.field != self.field or other.project is not self.project:
            return False
        self.new = other.new
        return True


def push(stack: QUndoStack | None, command: QUndoCommand) -> None:
    """Push onto the window's undo stack, or just apply when there is none (a bare dashboard in tests)."""
    if stack is not None:
        stack.push(command)
    else:
        command.redo()
