"""Open Example: a small gallery of the bundled example projects with their descriptions."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.cli import EXAMPLES_DIR
from core.errors import TorchCanvasError
from core.files import project as project_io
from gui import style

PATH_ROLE = Qt.ItemDataRole.UserRole


def examples() -> list[tuple[Path, str, str, int]]:
    """(path, name, description, node count) of every readable example, sorted by name."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        try:
            p = project_io.load(path)
        except TorchCanvasError:
            continue
        found.append((path, p.name, p.description, len(p.graph)))
    return sorted(found, key=lambda e: e[1])


class ExampleGallery(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Example")
        self.resize(640, 420)
        self.list = QListWidget()
        self.list.setIconSize(QSize(32, 32))
        self.list.setWordWrap(True)
        self.list.setSpacing(4)
        for path, name, description, count in examples():
            item = QListWidgetItem(style.category_icon("Input"), f"{name}  ({count} layers)\n{description}")
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(description)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> Path | None:
        item = self.list.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None
