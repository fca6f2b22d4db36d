"""The problems list: every error and warning of the latest analysis; clicking one selects its node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from core.model.analysis import Analysis
from gui import style

NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsList(QListWidget):
    node_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        # messages wrap to the dock's width, laid out again when it changes: never a sideways scroll bar
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setAlternatingRowColors(True)
        self.setUniformItemSizes(False)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)

    def set_analysis(self, analysis: Analysis) -> None:
        self.clear()
        problems = sorted(analysis.problems, key=lambda p: p.severity != "error")
        for problem in problems:
            item = QListWidgetItem(style.status_icon(problem.severity), problem.message)
            item.setData(NODE_ROLE, problem.node_id)
            item.setToolTip(problem.message + ("\n\nClick to show the layer." if problem.node_id else ""))
            self.addItem(item)
        if not problems:
            item = QListWidgetItem(style.status_icon("ok"), "No problems: the network is valid and its code is ready.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(item)

    def messages(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def _clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_activated.emit(node_id)
