"""The base of every command: children kept in Python, run in order by ``redo`` and in reverse by ``undo``."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand


class Command(QUndoCommand):
    """Base with children kept in Python: a QUndoCommand parent would own (and delete) a child that Python
    owns too, which crashes when the stack is destroyed. ``redo`` runs the children in order, ``undo`` in
    reverse, as QUndoCommand does."""

    def __init__(self, text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(text)
        self.children: list[QUndoCommand] = []
        if isinstance(parent, Command):
            parent.children.append(self)
        elif parent is not None:
            raise TypeError("a parent command must be one of ours")

    def redo(self) -> None:
        for child in self.children:
            child.redo()

    def undo(self) -> None:
        for child in reversed(self.children):
            child.undo()


class MacroCommand(Command):
    """A named group of child commands (paste, delete selection, add-and-connect)."""
