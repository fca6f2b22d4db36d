"""The canvas view: zoom around the cursor, pan, fit, drop layers from the palette, and hand mouse gestures to
the modes in ``gui.modes``."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

from gui import style
from gui.editor import Editor
from gui.items import PortItem
from gui.modes import ConnectMode, Mode, MoveTracker, PanMode
from gui.scene import GraphScene

LAYER_MIME = "application/x-torchcanvas-layer"
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0


class GraphView(QGraphicsView):
    zoom_changed = Signal(float)

    def __init__(self, scene: GraphScene, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.editor = editor
        self.mode: Mode | None = None
        self.tracker = MoveTracker(self)
        self.space_held = False
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # the grid is drawn once, not per frame
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    # --- zoom ----------------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        """Zoom about the centre of the view (the wheel then re-centres on the cursor)."""
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.scale(factor / self.zoom, factor / self.zoom)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.25)

    def fit_all(self, max_zoom: float = 1.0) -> None:
        rect = self.graph_scene.items_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(QPointF(0, 0))
            return
        self.fit_rect(rect.adjusted(-40, -40, 40, 40), max_zoom)

    def fit_rect(self, rect: QRectF, max_zoom: float = 1.0) -> None:
        view = self.viewport().rect()
        if view.width() < 10 or view.height() < 10:
            return
        factor = min(view.width() / rect.width(), view.height() / rect.height(), max_zoom)
        self.resetTransform()
        self.set_zoom(factor)
        self.centerOn(rect.center())

    def center_on_node(self, node_id: str) -> None:
        item = self.graph_scene.nodes.get(node_id)
        if item is not None:
            self.centerOn(item.sceneBoundingRect().center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            spot = event.position().toPoint()
            before = self.mapToScene(spot)
            self.set_zoom(self.zoom * 1.0015**delta)
            shift = self.mapToScene(spot) - before  # keep the point under the cursor where it was
            self.centerOn(self.mapToScene(self.viewport().rect().center()) - shift)
        event.accept()

    # --- mouse: choose a mode -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:  # a gesture is already running: refuse a second one
            event.accept()
            return
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.space_held):
            self.mode = PanMode(self, event)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            item = self.itemAt(event.position().toPoint())
            if isinstance(item, PortItem):
                self.mode = ConnectMode(self, item)
                event.accept()
                return
        super().mousePressEvent(event)
        if button == Qt.MouseButton.LeftButton:
            self.tracker.begin()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:
            self.mode.move(event)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:
            mode, self.mode = self.mode, None
            mode.release(event)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.tracker.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.mode is not None:
            self.mode.cancel()
            self.mode = None
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # --- drop layers from the palette ----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        layer_id = bytes(event.mimeData().data(LAYER_MIME).data()).decode("utf-8")
        pos = self.mapToScene(event.position().toPoint())
        x, y = pos.x() - style.NODE_WIDTH / 2, pos.y() - style.HEADER_HEIGHT / 2
        if self.graph_scene.snap_to_grid:
            x, y = round(x / style.GRID) * style.GRID, round(y / style.GRID) * style.GRID
        self.editor.add_layer(layer_id, (x, y))
        event.acceptProposedAction()
        self.setFocus()
