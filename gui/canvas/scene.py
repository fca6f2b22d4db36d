"""The canvas scene: mirrors a ``core.model.graph.Graph`` one to one and never decides what exists.

It connects to the model's signals, keeps node id -> item and edge -> item maps, and shows the latest
``Analysis`` (shapes on wires, errors on nodes). All edits go through commands, never through the scene.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPointF, QRect, QRectF
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene

from core.model.analysis import Analysis
from core.model.graph import Graph
from core.model.node import Edge, Node
from core.model.shape_rules import fmt
from core.signals import Signal as ModelSignal
from gui import style
from gui.canvas.items import NodeItem, PortItem, WireItem


class GraphScene(QGraphicsScene):
    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.graph: Graph | None = None
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[Edge, WireItem] = {}
        self.analysis: Analysis | None = None
        self.snap_to_grid = False
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setSceneRect(QRectF(-20000, -20000, 40000, 40000))
        if graph is not None:
            self.set_graph(graph)

    # --- binding -------------------------------------------------------------------------------------------
    def _bindings(self, graph: Graph) -> list[tuple[ModelSignal, Callable[..., None]]]:
        """Each model signal the scene mirrors, with its handler."""
        return [
            (graph.node_added, self._on_node_added),
            (graph.node_removed, self._on_node_removed),
            (graph.edge_added, self._on_edge_added),
            (graph.edge_removed, self._on_edge_removed),
            (graph.params_changed, self._on_node_text_changed),
            (graph.name_changed, self._on_node_text_changed),
            (graph.pos_changed, self._on_pos_changed),
        ]

    def set_graph(self, graph: Graph | None) -> None:
        if self.graph is not None:
            for signal, handler in self._bindings(self.graph):
                signal.disconnect(handler)
        for wire in list(self.wires.values()):
            self.removeItem(wire)
        for item in list(self.nodes.values()):
            self.removeItem(item)
        self.nodes.clear()
        self.wires.clear()
        self.analysis = None
        self.graph = graph
        if graph is None:
            return
        for node in graph.nodes:
            self._on_node_added(node)
        for edge in graph.edges:
            self._on_edge_added(edge)
        for signal, handler in self._bindings(graph):
            signal.connect(handler)

    # --- model signals -------------------------------------------------------------------------------------
    def _on_node_added(self, node: Node) -> None:
        item = NodeItem(node)
        item.snap = self.snap_to_grid
        self.nodes[node.id] = item
        self.addItem(item)
        if self.analysis is not None:
            self._apply_node(node)

    def _on_node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id)
        self.removeItem(item)

    def _on_edge_added(self, edge: Edge) -> None:
        wire = WireItem(edge, self.nodes[edge.src], self.nodes[edge.dst])
        self.wires[edge] = wire
        self.addItem(wire)
        self._update_ports(edge)
        if self.analysis is not None:
            self._apply_wire(wire)

    def _on_edge_removed(self, edge: Edge) -> None:
        wire = self.wires.pop(edge)
        wire.detach()
        self.removeItem(wire)
        self._update_ports(edge)

    def _on_pos_changed(self, node_id: str) -> None:
        assert self.graph is not None
        item = self.nodes[node_id]
        node = self.graph.node(node_id)
        if (item.pos().x(), item.pos().y()) != node.pos:
            snap, item.snap = item.snap, False
            item.setPos(QPointF(*node.pos))
            item.snap = snap

    def _on_node_text_changed(self, node_id: str) -> None:
        """Parameters or name: the box's lines (and so its size and port places) follow."""
        assert self.graph is not None
        item = self.nodes[node_id]
        info = self.analysis.nodes.get(node_id) if self.analysis else None
        item.update_from_model(self.graph.node(node_id), info)
        for wire in item.wires:
            wire.update_path()

    def _update_ports(self, edge: Edge) -> None:
        assert self.graph is not None
        for node_id in (edge.src, edge.dst):
            item = self.nodes.get(node_id)
            if item is None:
                continue
            used_out = {e.src_port for e in self.graph.consumers(node_id)}
            used_in = {e.dst_port for e in self.graph.inputs_of(node_id) if e is not None}
            for port in item.outputs:
                port.connected = port.index in used_out
                port.update()
            for port in item.inputs:
                port.connected = port.index in used_in
                port.update()

    # --- analysis ------------------------------------------------------------------------------------------
    def set_analysis(self, analysis: Analysis) -> None:
        assert self.graph is not None
        self.analysis = analysis
        for node in self.graph.nodes:
            self._apply_node(node)
        for wire in self.wires.values():
            self._apply_wire(wire)

    def _apply_node(self, node: Node) -> None:
        assert self.analysis is not None
        item = self.nodes[node.id]
        item.set_analysis(node, self.analysis.nodes.get(node.id), self.analysis.problems_of(node.id))
        for wire in item.wires:
            wire.update_path()

    def _apply_wire(self, wire: WireItem) -> None:
        assert self.analysis is not None
        info = self.analysis.nodes.get(wire.edge.src)
        shape = info.out_shape if info else None
        dst = self.analysis.nodes.get(wire.edge.dst)
        wire.set_label(fmt(shape) if shape is not None else "", error=bool(dst and dst.error))

    # --- queries for the view and the modes -----------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        order = {nid: i for i, nid in enumerate(self.nodes)}
        ids = [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]
        return sorted(ids, key=order.__getitem__)

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, WireItem)]

    def select_nodes(self, node_ids: list[str] | set[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            item = self.nodes.get(node_id)
            if item is not None:
                item.setSelected(True)

    def port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, PortItem):
                return item.node_item
        return None

    def set_snap_to_grid(self, on: bool) -> None:
        self.snap_to_grid = on
        for item in self.nodes.values():
            item.snap = on

    def items_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        for wire in self.wires.values():  # a wire from the end of one band to the next loops out at the sides
            rect = rect.united(wire.sceneBoundingRect())
        return rect

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.fillRect(rect, style.CANVAS_BACKGROUND)
        scale = painter.worldTransform().m11()
        step = style.GRID if scale > 0.6 else style.GRID * 5
        if scale < 0.15:
            return
        painter.setPen(QPen(style.GRID_COLOR, 0))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        lines = []
        from PySide6.QtCore import QLineF

        x = left
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)
