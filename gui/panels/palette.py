"""The layer palette: the catalog grouped by category, filtered as you type; drag a layer onto the canvas or
double-click it (or press Enter in the search box: the exact name first, then names that start with the text)
to add it next to the selection."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDrag, QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from core.model.builtin_blocks import BUILTINS
from core.model.catalog import by_category
from gui import style
from gui.canvas.view import BLOCK_PREFIX, LAYER_MIME

LAYER_ROLE = Qt.ItemDataRole.UserRole
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerTree(QTreeWidget):
    """A tree whose layer rows drag out as ``LAYER_MIME`` with the layer id."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        layer_ids = [i.data(0, LAYER_ROLE) for i in items if i.data(0, LAYER_ROLE)]
        if layer_ids:
            mime.setData(LAYER_MIME, layer_ids[0].encode("utf-8"))
            mime.setText(layer_ids[0])
        return mime

    def startDrag(self, supported: Qt.DropAction) -> None:
        item = self.currentItem()
        if item is None or not item.data(0, LAYER_ROLE):
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        parent = item.parent()
        drag.setPixmap(_drag_pixmap(item.text(0), parent.text(0) if parent is not None else ""))
        drag.exec(Qt.DropAction.CopyAction)


def _group_hidden(item: QTreeWidgetItem) -> bool:
    """Whether the category row holding a layer row is hidden (a row with no category counts as shown)."""
    group = item.parent()
    return group is not None and group.isHidden()


def _drag_pixmap(text: str, category: str) -> QPixmap:
    """A small node-like chip under the cursor while a layer is dragged."""
    f = style.font(10, bold=True)
    width = int(QFontMetrics(f).horizontalAdvance(text)) + 24
    pixmap = QPixmap(width, 28)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(style.category_color(category))
    painter.drawRoundedRect(0, 0, width, 28, 6, 6)
    painter.setPen(QColor("white"))
    painter.setFont(f)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


class Palette(QWidget):
    layer_activated = Signal(str)  # double-click / Enter: add this layer id next to the selection

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…  (e.g. conv, relu, pool)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree = LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.setToolTip("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.block_items: dict[str, QTreeWidgetItem] = {}
        self.blocks_group: QTreeWidgetItem | None = None
        self._blocks_key: list[tuple[str, bool]] = []
        self._build()
        self.set_blocks({})

    def _build(self) -> None:
        bold = QFont()
        bold.setBold(True)
        for category, specs in by_category().items():
            if not specs:
                continue
            group = QTreeWidgetItem([category])
            group.setFont(0, bold)
            group.setIcon(0, style.category_icon(category))
            group.setForeground(0, QBrush(style.category_color(category)))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(group)
            for spec in specs:
                item = QTreeWidgetItem([spec.display])
                item.setData(0, LAYER_ROLE, spec.id)
                item.setData(0, SEARCH_ROLE, f"{spec.id} {spec.display} {category} {spec.help}".lower())
                item.setToolTip(
                    0,
                    f"<b>{spec.display}</b> ({spec.category})<br>{spec.help}<br><br>"
                    "<i>Drag onto the canvas, or double-click to add after the selected layer.</i>",
                )
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                group.addChild(item)
                self.items[spec.id] = item
            group.setExpanded(True)

    def set_blocks(self, library: dict) -> None:
        """The Blocks section: the project's block definitions, then the built-in ones it does not have yet."""
        names = [(n, library[n].description, True) for n in sorted(library)]
        names += [(n, "", False) for n in BUILTINS if n not in library]
        key = [(n, own) for n, _, own in names]
        if self.blocks_group is not None and key == self._blocks_key:
            return
        self._blocks_key = key
        if self.blocks_group is None:
            bold = QFont()
            bold.setBold(True)
            self.blocks_group = QTreeWidgetItem(["Blocks"])
            self.blocks_group.setFont(0, bold)
            self.blocks_group.setIcon(0, style.category_icon("Block"))
            self.blocks_group.setForeground(0, QBrush(style.category_color("Block")))
            self.blocks_group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(self.blocks_group)
        group = self.blocks_group
        group.takeChildren()
        self.block_items.clear()
        for name, about, own in names:
            item = QTreeWidgetItem([name if own else f"{name} (built-in)"])
            item.setData(0, LAYER_ROLE, BLOCK_PREFIX + name)
            item.setData(0, SEARCH_ROLE, f"{name} block {about}".lower())
            where = "a block of this project" if own else "a built-in block (added to the project when used)"
            hint = "<i>Drag onto the canvas or double-click.</i>"
            item.setToolTip(0, f"<b>{name}</b>: {where}.<br>{about}<br><br>{hint}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
            self.block_items[name] = item
        group.setExpanded(True)
        self.filter(self.search.text())

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None:
                continue
            shown = 0
            for j in range(group.childCount()):
                item = group.child(j)
                if item is None:
                    continue
                visible = all(w in item.data(0, SEARCH_ROLE) for w in words)
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)
            group.setExpanded(True)
        if words:  # the row Enter adds is the current one (an empty search leaves the user's row alone)
            hits = self.ranked_hits()
            self.tree.setCurrentItem(self._item(hits[0]) if hits else None)  # type: ignore[arg-type]

    def visible_layers(self) -> list[str]:
        return [lid for lid, item in self.items.items() if not item.isHidden() and not _group_hidden(item)]

    def ranked_hits(self) -> list[str]:
        """The shown entries (layers, then blocks) in the order Enter picks from: the one whose name or id is the
        typed text first ("output" means Output, not the Linear whose help mentions outputs), then those that
        start with it, then the rest as listed."""
        typed = " ".join(self.search.text().lower().split())
        shown = [*self.visible_layers()]
        shown += [BLOCK_PREFIX + n for n, item in self.block_items.items() if not item.isHidden()]

        def rank(entry: str) -> int:
            item = self._item(entry)
            names = {item.text(0).lower(), entry.removeprefix(BLOCK_PREFIX).lower()}
            names.add(item.text(0).lower().removesuffix(" (built-in)"))
            if typed in names:
                return 0
            return 1 if any(n.startswith(typed) for n in names) else 2

        return sorted(shown, key=rank)  # stable: within a rank, the palette's own order

    def _item(self, entry: str) -> QTreeWidgetItem:
        if entry.startswith(BLOCK_PREFIX):
            return self.block_items[entry[len(BLOCK_PREFIX) :]]
        return self.items[entry]

    def _on_double_click(self, item: QTreeWidgetItem, column: int) -> None:
        layer_id = item.data(0, LAYER_ROLE)
        if layer_id:
            self.layer_activated.emit(layer_id)
            self.search.clear()  # the next search starts afresh, the whole palette shown

    def _activate_first(self) -> None:
        hits = self.ranked_hits()
        if hits:
            self.layer_activated.emit(hits[0])
            self.search.clear()
