"""Mouse modes of the canvas: what a press-move-release does. Kept apart from the view so neither grows large.

- ``ConnectMode``: drag from a port; a rubber wire follows the mouse, ports light up green (allowed) or red
  (refused, with the reason next to the cursor); release on a port connects (one undo step). Into an occupied
  input the new wire replaces the old one (said next to the cursor; still one undo step).
- ``PanMode``: middle mouse, or left mouse while Space is held, scrolls the canvas.
- ``MoveTracker``: remembers where the selected nodes were when the press began and, on release, turns the
  whole drag into one ``MoveCommand``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsSimpleTextItem

from core.errors import TorchCanvasError
from core.model.graph import Graph
from core.model.node import Edge
from gui import style
from gui.canvas.items import PortItem, bezier
from gui.commands import graph as commands

if TYPE_CHECKING:
    from gui.canvas.view import GraphView


class Mode:
    def __init__(self, view: GraphView) -> None:
        self.view = view

    def move(self, event: QMouseEvent) -> None:  # pragma: no cover - overridden
        pass

    def release(self, event: QMouseEvent) -> None:  # pragma: no cover - overridden
        pass

    def cancel(self) -> None:
        pass


class PanMode(Mode):
    def __init__(self, view: GraphView, event: QMouseEvent) -> None:
        super().__init__(view)
        self.last = event.position()
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, event: QMouseEvent) -> None:
        delta = event.position() - self.last
        self.last = event.position()
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - round(delta.x()))
        v.setValue(v.value() - round(delta.y()))

    def release(self, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.view.viewport().setCursor(
            Qt.CursorShape.OpenHandCursor if self.view.space_held else Qt.CursorShape.ArrowCursor
        )


class ConnectMode(Mode):
    """Drag a wire from an output to an input (or back from an input to an output)."""

    def __init__(self, view: GraphView, port: PortItem) -> None:
        super().__init__(view)
        self.scene = view.graph_scene
        graph = view.editor.graph
        self.replaced: Edge | None = None  # an existing wire picked up at its input end
        self.check_graph: Graph = graph
        if not port.is_output:
            existing = graph.inputs_of(port.node_id)[port.index] if port.index < port.node_item.input_count else None
            if existing is not None:  # pick up the wire: re-route it or drop it in empty space to remove it
                self.replaced = existing
                self.check_graph = graph.copy()
                self.check_graph.disconnect(existing)
                port = self.scene.nodes[existing.src].outputs[existing.src_port]
                self.scene.wires[existing].setVisible(False)
        self.start = port
        self.target: PortItem | None = None
        self.displaced: Edge | None = None  # the wire now in the target input, replaced on release
        self.allowed = False
        self.reason = ""
        self.rubber = QGraphicsPathItem()
        self.rubber.setPen(QPen(style.SELECTED, 2, Qt.PenStyle.DashLine))
        self.rubber.setZValue(5)
        self.scene.addItem(self.rubber)
        self.hint = QGraphicsSimpleTextItem()
        self.hint.setBrush(style.ERROR)
        self.hint.setFont(style.font(9, bold=True))
        self.hint.setZValue(6)
        self.scene.addItem(self.hint)
        self._draw(port.scenePos())

    def edge_to(self, port: PortItem) -> Edge | None:
        if port.is_output == self.start.is_output:
            return None
        out, inp = (self.start, port) if self.start.is_output else (port, self.start)
        return Edge(out.node_id, inp.node_id, inp.index, out.index)

    def _candidate(self, pos: QPointF) -> PortItem | None:
        port = self.scene.port_at(pos)
        if port is not None:
            return port if port.is_output != self.start.is_output else None
        node = self.scene.node_at(pos)
        if node is None or node is self.start.node_item:
            return None
        ports = node.inputs if self.start.is_output else node.outputs
        free = [p for p in ports if not p.connected or (self.replaced and self._is_replaced_port(p))]
        return free[0] if free else ports[0] if ports else None

    def _is_replaced_port(self, port: PortItem) -> bool:
        r = self.replaced
        return r is not None and not port.is_output and (port.node_id, port.index) == (r.dst, r.dst_port)

    def _draw(self, end: QPointF) -> None:
        a = self.start.scenePos()
        self.rubber.setPath(bezier(a, end) if self.start.is_output else bezier(end, a))

    def move(self, event: QMouseEvent) -> None:
        pos = self.view.mapToScene(event.position().toPoint())
        target = self._candidate(pos)
        if self.target is not None and self.target is not target:
            self.target.set_state("")
        self.target = target
        self.reason = ""
        self.allowed = False
        self.displaced = None
        note = ""
        if target is not None:
            edge = self.edge_to(target)
            try:
                if edge is None:
                    raise TorchCanvasError("Connect an output to an input.")
                self.displaced = commands.check_replacing(self.check_graph, edge)
                if self.displaced is not None:  # an occupied input: the new wire takes the place of the one there
                    note = f"replaces the wire from {self.check_graph.node(self.displaced.src).name}"
                self.allowed = True
            except TorchCanvasError as exc:
                self.reason = str(exc)
                self.displaced = None
            target.set_state("accept" if self.allowed else "refuse")
            self._draw(target.scenePos() if self.allowed else pos)
        else:
            self._draw(pos)
        pen = QPen(
            style.OK if self.allowed else style.ERROR if self.reason else style.SELECTED, 2, Qt.PenStyle.DashLine
        )
        self.rubber.setPen(pen)
        self.hint.setText(self.reason or note)
        self.hint.setBrush(style.ERROR if self.reason else style.OK)
        self.hint.setPos(pos + QPointF(14, 12))
        self.hint.setVisible(bool(self.reason or note))

    def release(self, event: QMouseEvent) -> None:
        self.move(event)
        editor = self.view.editor
        target, allowed, reason, displaced = self.target, self.allowed, self.reason, self.displaced
        self.cancel()
        edge = self.edge_to(target) if target is not None else None
        if self.replaced is not None:
            if edge == self.replaced:
                return
            if not (allowed and edge is not None) and reason:
                editor.message.emit(reason)
                return
            editor.push(commands.reroute(editor.graph, self.replaced, edge if allowed else None, displaced))
        elif allowed and edge is not None:
            editor.connect(edge)
        elif reason:
            editor.message.emit(reason)

    def cancel(self) -> None:
        if self.target is not None:
            self.target.set_state("")
        if self.replaced is not None and self.replaced in self.scene.wires:
            self.scene.wires[self.replaced].setVisible(True)
        for item in (self.rubber, self.hint):
            if item.scene() is not None:
                self.scene.removeItem(item)


class MoveTracker:
    """Turns a drag of any number of mouse moves into one Move command."""

    def __init__(self, view: GraphView) -> None:
        self.view = view
        self.start: dict[str, tuple[float, float]] = {}

    def begin(self) -> None:
        scene = self.view.graph_scene
        self.start = {nid: _pos(scene.nodes[nid]) for nid in scene.selected_node_ids()}

    def end(self) -> None:
        scene = self.view.graph_scene
        moves = {nid: (old, _pos(scene.nodes[nid])) for nid, old in self.start.items() if nid in scene.nodes}
        self.start = {}
        self.view.editor.move(moves)


def _pos(item: object) -> tuple[float, float]:
    p = item.pos()  # type: ignore[attr-defined]
    return (float(p.x()), float(p.y()))
