"""Undoable edits the training panel makes to the project, and the settings it suggests for a dataset.

Like every edit in the editor, each is a small ``QUndoCommand`` whose ``redo``/``undo`` touch only the model
(here the project's ``TrainingSettings``; the Input shape goes through the editor's ``gui.canvas.commands.set_param``);
the panel mirrors the model afterwards.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from core.settings import TrainingSettings

SETTINGS_ID = 0x7C5E  # lets consecutive changes of one field (typing in a spin box) merge into one undo step


class SetTrainingSettings(QUndoCommand):
    """Replace some training settings of a project: ``changes`` is {field: new value}."""

    def __init__(self, project: Any, changes: dict[str, Any], text: str = "") -> None:
        field = next(iter(changes)) if len(changes) == 1 else ""
        super().__init__(text or f"Change training {field or 'settings'}")
        self.project = project
        self.field = field
        self.old = project.training.to_dict()
        self.new = {**self.old, **changes}

    def redo(self) -> None:
        self.project.training = TrainingSettings.from_dict(self.new)

    def undo(self) -> None:
        self.project.training = TrainingSettings.from_dict(self.old)

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


def input_node_id(graph: Any) -> str | None:
    inputs = graph.nodes_of_type("Input")
    return inputs[0].id if len(inputs) == 1 else None


def ends_with_log_softmax(graph: Any) -> bool:
    """Whether the layer feeding the Output is LogSoftmax (then NLLLoss is the matching loss)."""
    for out in graph.nodes_of_type("Output"):
        for edge in graph.inputs_of(out.id):
            if edge is not None and graph.node(edge.src).type == "LogSoftmax":
                return True
    return False


def suggest(dataset: Any, graph: Any, current: TrainingSettings) -> dict[str, Any]:
    """Settings that suit ``dataset`` and the network: loss from the task and the last layer, batch size and
    epochs from the dataset size. Only fields that differ from ``current`` are returned."""
    if getattr(dataset, "task", "classification") == "regression":
        loss = "MSELoss"
    elif ends_with_log_softmax(graph):
        loss = "NLLLoss"
    else:
        loss = "CrossEntropyLoss"
    try:
        n_train = len(dataset.y_train)
    except TypeError:
        n_train = 0
    values: dict[str, Any] = {"loss": loss}
    if getattr(dataset, "is_2d", False):
        values.update(batch_size=32, epochs=max(current.epochs, 30))
    else:
        values["batch_size"] = 32 if n_train < 5000 else 128
    old = current.to_dict()
    return {k: v for k, v in values.items() if k in old and old[k] != v}
