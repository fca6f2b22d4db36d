"""The canvas items: a node box with its ports, and a wire with its shape label.

Items only draw what they are told (by ``GraphScene``); they never change the model. A node item moved by the
mouse reports nothing itself: the move mode in ``gui.canvas.modes`` turns a finished drag into one undo command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from core.model.analysis import status
from core.model.catalog import LAYERS
from core.model.node import Edge, Node
from core.model.shape_rules import fmt
from gui import style
from gui.canvas.node_paint import paint_node
from gui.canvas.node_text import (
    LABEL_POINTS,
    MIN_LABEL_POINTS,
    block_label,
    fitting_font,
    key_param_lines,
    label_metrics,
)

if TYPE_CHECKING:
    from core.model.analysis import NodeInfo, Problem


class _Hover:
    """Ports and wires draw bolder while the mouse is over them (``_hover``, read by their ``paint``)."""

    _hover = False

    def hoverEnterEvent(self, event: Any) -> None:
        self._hover = True
        self.update()  # type: ignore[attr-defined]

    def hoverLeaveEvent(self, event: Any) -> None:
        self._hover = False
        self.update()  # type: ignore[attr-defined]


class PortItem(_Hover, QGraphicsItem):
    """A round connector on a node's left (inputs) or right (outputs) edge."""

    def __init__(self, node_item: NodeItem, is_output: bool, index: int) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.is_output = is_output
        self.index = index
        self.state = ""  # "", "accept" or "refuse" while a wire is dragged over it
        self.connected = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        what = "output" if is_output else (f"input {index + 1}" if node_item.input_count > 1 else "input")
        self.setToolTip(f"{what.capitalize()}: drag to {'an input' if is_output else 'an output'} to connect")

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def boundingRect(self) -> QRectF:
        r = style.PORT_RADIUS + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())  # a generous hit area
        return path

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = {"accept": style.OK, "refuse": style.ERROR}.get(
            self.state, style.category_color(self.node_item.category)
        )
        r = style.PORT_RADIUS + (2 if self._hover or self.state else 0)
        painter.setPen(QPen(color.darker(130), 1.5))
        painter.setBrush(color if (self.connected or self.state) else QColor("white"))
        painter.drawEllipse(QPointF(0, 0), r, r)


class NodeItem(QGraphicsObject):
    """A layer on the canvas: header with name and type, key parameters, output shape, ports, error badge."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node_id = node.id
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.wires: set[WireItem] = set()
        self.inputs: list[PortItem] = []
        self.outputs: list[PortItem] = []
        self.name = node.name
        self.layer = node.type
        self.repeat = 1
        spec = LAYERS.get(node.type)
        self.category = spec.category if spec else ""
        self.help = spec.help if spec else "This layer type is unknown to this version of TorchCanvas."
        if node.block is not None:
            self.category = "Block"
            self.help = "A block: double-click to open its definition; Ungroup (Block menu) puts its layers here."
        self.lines: list[str] = []
        self.shape_text = ""
        self.error: str | None = None
        self.warning: str | None = None
        self.status_text = ""  # the error line under the parameters (see set_analysis)
        self.snap = False
        self.frozen = False  # drawn iced: its weights do not change while training (Node.trainable off)
        self._height = 80.0
        self.input_count = 0
        self.update_from_model(node, None)
        self.setPos(QPointF(*node.pos))

    # --- model -> item -------------------------------------------------------------------------------------
    def update_from_model(self, node: Node, info: NodeInfo | None) -> None:
        self.prepareGeometryChange()
        self.name = node.name
        if node.block is not None:
            self.layer, self.repeat = block_label(node), node.repeat
        self.lines = key_param_lines(node, info)
        self.frozen = not node.trainable
        count = node.input_count()
        if count != len(self.inputs) or (not self.outputs and node.output_count()):
            self._rebuild_ports(count, node.output_count())
        self._layout()
        self.update()

    def set_analysis(self, node: Node, info: NodeInfo | None, problems: list[Problem]) -> None:
        errors = [p.message for p in problems if p.severity == "error"]
        if info is not None and info.error and info.error not in errors:
            errors.insert(0, info.error)
        warnings = [p.message for p in problems if p.severity == "warning"]
        shape = info.out_shape if info else None
        self.shape_text = fmt(shape) if shape is not None else ""
        self.error = "\n".join(errors) or None
        self.warning = "\n".join(warnings) or None
        # the badge line says what kind of problem: "not connected", "does not fit the data", "shape error"
        self.status_text = (status(problems) or "shape error") if self.error else ""
        self.update_from_model(node, info)
        tip = f"<b>{self.name}</b> ({self.layer}): {self.help}"
        if self.frozen:
            tip += "<br><br><b>Frozen:</b> its weights do not change while training (Trainable is off)."
        if self.error:
            tip += f"<br><br><span style='color:#d93025'><b>Problem:</b> {self.error}</span>"
        elif self.warning:
            tip += f"<br><br><span style='color:#b06000'><b>Note:</b> {self.warning}</span>"
        self.setToolTip(tip.replace("\n", "<br>"))

    def _rebuild_ports(self, inputs: int, outputs: int) -> None:
        for port in self.inputs + self.outputs:
            port.setParentItem(None)  # type: ignore[arg-type]  # Qt takes None (unparent); the stub says it cannot
            if port.scene() is not None:
                port.scene().removeItem(port)
        self.input_count = inputs
        self.inputs = [PortItem(self, False, i) for i in range(inputs)]
        self.outputs = [PortItem(self, True, i) for i in range(outputs)]

    def _layout(self) -> None:
        ports = max(len(self.inputs), len(self.outputs), 1)
        body = style.HEADER_HEIGHT + 8 + style.LINE_HEIGHT * (len(self.lines) + 1) + 6
        self._height = max(body, style.PORT_Y0 + (ports - 1) * style.PORT_SPACING + 18)
        for i, port in enumerate(self.inputs):
            port.setPos(0, style.PORT_Y0 + i * style.PORT_SPACING)
        for i, port in enumerate(self.outputs):
            port.setPos(style.NODE_WIDTH, style.PORT_Y0 + i * style.PORT_SPACING)

    @property
    def height(self) -> float:
        return self._height

    def port(self, is_output: bool, index: int) -> PortItem | None:
        ports = self.outputs if is_output else self.inputs
        return ports[index] if 0 <= index < len(ports) else None

    # --- Qt ------------------------------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(-4, -12, style.NODE_WIDTH + 16, self._height + 24)  # room for the stack and the badges

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, style.NODE_WIDTH, self._height), 8, 8)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.snap:
            g = style.GRID
            return QPointF(round(value.x() / g) * g, round(value.y() / g) * g)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for wire in self.wires:
                wire.update_path()
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        paint_node(painter, self)


class WireItem(_Hover, QGraphicsItem):
    """A smooth curve from an output port to an input port, labelled with the tensor shape it carries."""

    def __init__(self, edge: Edge, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.edge = edge
        self.src = src
        self.dst = dst
        self.label = ""
        self.error = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._label_points = LABEL_POINTS
        src.wires.add(self)
        dst.wires.add(self)
        self.update_path()

    def detach(self) -> None:
        self.src.wires.discard(self)
        self.dst.wires.discard(self)

    def endpoints(self) -> tuple[QPointF, QPointF]:
        a = self.src.port(True, self.edge.src_port)
        b = self.dst.port(False, self.edge.dst_port)
        p1 = a.scenePos() if a else self.src.scenePos()
        p2 = b.scenePos() if b else self.dst.scenePos()
        return p1, p2

    def update_path(self) -> None:
        self.prepareGeometryChange()
        p1, p2 = self.endpoints()
        self._path = bezier(p1, p2)
        self._place_label()

    def path_midpoint(self) -> QPointF:
        return self._path.pointAtPercent(0.5)

    @property
    def label_rect(self) -> QRectF:
        """Where the shape label sits, in item coordinates (empty without a label): tests check that no label
        hides under a layer box."""
        return QRectF(self._label_rect)

    def set_label(self, text: str, error: bool = False) -> None:
        if text != self.label or error != self.error:
            self.prepareGeometryChange()
            self.label = text
            self.error = error
            self._place_label()
            self.update()

    def _place_label(self) -> None:
        if not self.label:
            self._label_rect = QRectF()
            return
        p1, p2 = self.endpoints()
        room = float("inf")
        if p2.x() > p1.x() and abs(p2.y() - p1.y()) < 2 * style.PORT_SPACING:  # a short wire between two boxes
            room = p2.x() - p1.x() - 2 * (style.PORT_RADIUS + 3)
        self._label_points = LABEL_POINTS
        text_width = label_metrics().horizontalAdvance(self.label)
        if text_width + 8 > room:  # layers placed closer than auto-layout does: a smaller label, still whole
            self._label_points = max(MIN_LABEL_POINTS, int(4 * LABEL_POINTS * (room - 8) / text_width) / 4)
        metrics = QFontMetricsF(style.font(self._label_points))
        width = metrics.horizontalAdvance(self.label) + 8
        height = metrics.height() + 2
        mid = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(mid.x() - width / 2, mid.y() - height / 2, width, height)

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-6, -6, 6, 6).united(self._label_rect.adjusted(-2, -2, 2, 2))

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        path = stroker.createStroke(self._path)
        if not self._label_rect.isNull():
            path.addRect(self._label_rect)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = style.SELECTED if self.isSelected() else style.ERROR if self.error else style.WIRE
        width = 3.0 if self.isSelected() or self._hover else 2.0
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setPen(QPen(color, 1))
            painter.setBrush(QBrush(QColor("white")))
            painter.drawRoundedRect(self._label_rect, 6, 6)
            painter.setFont(fitting_font(self._label_points, self.label, self._label_rect.width() - 6, painter))
            painter.setPen(style.ERROR if self.error else style.TEXT)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


def bezier(p1: QPointF, p2: QPointF) -> QPainterPath:
    """A horizontal S-curve from p1 (an output) to p2 (an input)."""
    path = QPainterPath(p1)
    dx = max(abs(p2.x() - p1.x()) * 0.5, 40.0)
    path.cubicTo(QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2)
    return path
