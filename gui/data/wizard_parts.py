"""The data wizard's tables: the classes with their counts, a table's columns with the kind each is used as (a list
the user may change), and a table's first rows. Plain widgets filled from a ``Survey``; the wizard connects them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

# what a feature column may be used as, in words (the label column is chosen apart)
KIND_WORDS = {
    "number": "a number",
    "category": "a category",
    "text": "text",
    "ignore": "not used",
}
LOOKS_WORDS = {**KIND_WORDS, "label": "the label", "ignore": "empty or an identifier"}


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
    item.setToolTip(text)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    """A cell's text, "" for a cell never filled (Qt answers None there, not an empty item)."""
    item = table.item(row, column)
    return item.text() if item is not None else ""


def fit_rows(table: QTableWidget, most: int) -> None:
    """As tall as its rows, up to ``most`` of them (then it scrolls)."""
    rows = min(table.rowCount(), most)
    height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(rows)) + 2 * table.frameWidth()
    table.setFixedHeight(height + (0 if table.rowCount() <= most else 2))


class ClassTable(QTableWidget):
    """Class, samples, share of all samples."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["Class", "Samples", "Share"])
        for header, mode in ((self.verticalHeader(), None), (self.horizontalHeader(), QHeaderView.ResizeMode.Stretch)):
            if mode is None:
                header.hide()
            else:
                header.setSectionResizeMode(mode)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

    def show_classes(self, classes: Any) -> None:
        total = sum(c.count for c in classes) or 1
        self.setRowCount(len(classes))
        for row, c in enumerate(classes):
            self.setItem(row, 0, _item(c.name))
            self.setItem(row, 1, _item(f"{c.count:,}", True))
            self.setItem(row, 2, _item(f"{c.count / total:.0%}", True))
        fit_rows(self, 8)

    def counts(self) -> dict[str, int]:
        return {cell_text(self, r, 0): int(cell_text(self, r, 1).replace(",", "")) for r in range(self.rowCount())}


class ColumnTable(QTableWidget):
    """A table's columns: what each looks like, what it is used as (a list to change it), missing cells,
    different values and how it is encoded. ``kind_chosen(column, kind)`` when the user changes a list."""

    kind_chosen = Signal(str, str)
    HEADERS = ("Column", "Looks like", "Used as", "Missing", "Different", "Encoding")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().hide()
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.combos: dict[str, QComboBox] = {}

    def show_columns(self, columns: Any) -> None:
        self.setRowCount(len(columns))
        self.combos = {}
        for row, column in enumerate(columns):
            self.setItem(row, 0, _item(column.name))
            self.setItem(row, 1, _item(LOOKS_WORDS.get(column.detected, column.detected)))
            if column.kind == "label":
                self.setItem(row, 2, _item("the label (to predict)"))
                self.removeCellWidget(row, 2)
            else:
                self.setItem(row, 2, _item(""))
                self.setCellWidget(row, 2, self._combo(column.name, column.kind))
            self.setItem(row, 3, _item(f"{column.missing:,}", True))
            self.setItem(row, 4, _item(f"{column.distinct:,}", True))
            encoding = column.encoding + (f" · {column.note}" if column.note else "")
            self.setItem(row, 5, _item(encoding))
        fit_rows(self, 10)

    def _combo(self, name: str, kind: str) -> QComboBox:
        combo = QComboBox()
        for value, words in KIND_WORDS.items():
            combo.addItem(words, value)
        combo.setCurrentIndex(max(0, combo.findData(kind)))
        combo.setToolTip(f"How the column {name!r} is fed to the network")
        combo.activated.connect(lambda _i, n=name, c=combo: self.kind_chosen.emit(n, c.currentData()))
        self.combos[name] = combo
        return combo

    def used_as(self) -> dict[str, str]:
        """Column -> kind as shown ('label' for the label column)."""
        kinds = {}
        for row in range(self.rowCount()):
            name = cell_text(self, row, 0)
            combo = self.combos.get(name)
            kinds[name] = combo.currentData() if combo is not None else "label"
        return kinds


class HeadTable(QTableWidget):
    """A table's first rows as they are in the file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 0, parent)
        self.verticalHeader().hide()
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def show_rows(self, columns: list[str], rows: list[list[str]]) -> None:
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels(columns)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.setItem(r, c, _item(value))
        fit_rows(self, len(rows))
