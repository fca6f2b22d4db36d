"""The summary in the window: the table ``torchcanvas check`` prints (node, layer, output shape, parameters,
connected to) as a sortable dock, with the memory each node's output takes for one training batch.

It shows the document's analysis (``Document.analyzed``: one analysis per edit, shared with the canvas and the
problems list) and never analyses the graph itself; the batch size is the project's training setting, so a change
of it (an edit, an undo) re-analyses and the memory column follows. Clicking a row selects its node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from core.model.analysis import Analysis
from core.model.graph import Graph
from core.model.shape_rules import fmt
from core.model.summary import layer_label, param_split

# bytes per element of the dtypes the analysis gives a node's output
DTYPE_BYTES = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int8": 1,
    "uint8": 1,
    "bool": 1,
}
COLUMNS = ("Node", "Layer", "Output shape", "Params", "Memory / batch", "Connected to")
NODE_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class SummaryRow:
    node_id: str
    name: str
    layer: str
    shape: str
    params: int
    memory: int | None  # bytes of the node's output for one batch; None when a size is unknown or shapes failed
    connected: str


def output_bytes(shape: tuple | None, dtype: str, batch_size: int) -> int | None:
    """The bytes one batch of this output holds: the batch size times the elements of one sample times the
    dtype's size (the batch dimension itself is ``None`` in the analysis; any other unknown size gives None)."""
    if shape is None:
        return None
    sizes = list(shape[1:]) if shape and shape[0] is None else list(shape)
    if any(not isinstance(s, int) for s in sizes):
        return None
    return batch_size * math.prod(sizes) * DTYPE_BYTES.get(dtype, 4)


def summary_rows(graph: Graph, analysis: Analysis, batch_size: int) -> list[SummaryRow]:
    """The rows of ``core.model.summary.summary_table``, in the analysis' order, with the memory column; nodes the
    analysis leaves out (not connected yet) come last, so a node just dropped on the canvas shows at once."""
    rows = []
    order = list(analysis.order)
    placed = set(order)
    order += [n.id for n in graph.nodes if n.id not in placed]  # nodes not connected yet come last
    for nid in order:
        node, info = graph.node(nid), analysis.nodes.get(nid)
        shape = info.out_shape if info is not None else None
        memory = output_bytes(shape, info.dtype, batch_size) if info is not None else None
        sources = ", ".join(graph.node(e.src).name for e in graph.inputs_of(nid) if e is not None)
        rows.append(
            SummaryRow(
                nid,
                node.name,
                layer_label(node),
                fmt(shape) if shape is not None else "?",
                info.param_count if info else 0,
                memory,
                sources,
            )
        )
    return rows


def human_bytes(count: int | None) -> str:
    if count is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return "?"


class _Item(QTableWidgetItem):
    """A cell that sorts by its number (parameters, memory), not by the text "1,290"."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is not None and theirs is not None:
            return mine < theirs
        return self.text().lower() < other.text().lower()


class SummaryDock(QWidget):
    node_activated = Signal(str)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        memory = self.table.horizontalHeaderItem(COLUMNS.index("Memory / batch"))  # made by the labels above
        if memory is not None:
            memory.setToolTip(
                "The node's output for one batch of the training batch size. Training keeps these for the backward "
                "pass, plus the layers inside blocks, the gradients and the optimizer's state: it needs more."
            )
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the network's order until a header is clicked
        self.table.setSortingEnabled(True)
        self.table.itemClicked.connect(self._clicked)
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self.rows: list[SummaryRow] = []
        self.shown_analyses = 0  # how many analyses this dock has shown (one per edit)
        document.analyzed.connect(self.show_analysis)
        self.show_analysis(document.analysis)

    def show_analysis(self, analysis: Analysis) -> None:
        graph, batch = self.document.graph, self.document.project.training.batch_size
        self.rows = summary_rows(graph, analysis, batch)
        self.shown_analyses += 1
        table = self.table
        column, order = table.horizontalHeader().sortIndicatorSection(), table.horizontalHeader().sortIndicatorOrder()
        table.setSortingEnabled(False)  # filling a sorting table moves rows under the cursor
        table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            cells = [
                (row.name, None),
                (row.layer, None),
                (row.shape, None),
                (f"{row.params:,}", row.params),
                (human_bytes(row.memory), row.memory if row.memory is not None else -1),
                (row.connected, None),
            ]
            for c, (text, key) in enumerate(cells):
                item = _Item(text)
                item.setData(NODE_ROLE, row.node_id)
                if key is not None:
                    item.setData(SORT_ROLE, key)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
        table.setSortingEnabled(True)
        if column >= 0 and column < len(COLUMNS) and table.horizontalHeader().isSortIndicatorShown():
            table.sortItems(column, order)
        known = [row.memory for row in self.rows if row.memory is not None]
        trainable, frozen = param_split(graph, analysis)  # Keras' words, as check prints them
        self.totals.setText(
            f"Parameters: {analysis.total_params:,} · Trainable params: {trainable:,} · Non-trainable params: "
            f"{frozen:,} · outputs of one batch of {batch}: "
            f"{human_bytes(sum(known))}" + ("" if len(known) == len(self.rows) else " (some unknown)")
        )

    def column_texts(self, column: int) -> list[str]:
        """The cells of one column as shown, top to bottom (after sorting)."""
        items = (self.table.item(r, column) for r in range(self.table.rowCount()))
        return [item.text() if item is not None else "" for item in items]

    def sort_by(self, column: int, ascending: bool = True) -> None:
        order = Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder
        self.table.sortItems(column, order)

    def _clicked(self, item: QTableWidgetItem) -> None:
        self.node_activated.emit(item.data(NODE_ROLE))


def install(window) -> SummaryDock:
    """Dock the summary beside the problems and code (hidden at first; View > Summary shows it)."""
    dock_widget = SummaryDock(window.document)
    dock_widget.node_activated.connect(window.select_node)
    dock = window.add_dock("Summary", dock_widget, Qt.DockWidgetArea.BottomDockWidgetArea, "summary")
    if "code" in window.docks:
        window.tabifyDockWidget(window.docks["code"], dock)
        window.docks["code"].raise_()
    return dock_widget
