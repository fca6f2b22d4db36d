"""The canvas view: zoom around the cursor, pan, fit, drop layers from the palette, and hand mouse gestures to
the modes in ``gui.canvas.modes``."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from gui import style
from gui.canvas.editor import Editor
from gui.canvas.items import PortItem
from gui.canvas.modes import ConnectMode, Mode, MoveTracker, PanMode
from gui.canvas.node_menu import node_menu
from gui.canvas.scene import GraphScene

LAYER_MIME = "application/x-torchcanvas-layer"
BLOCK_PREFIX = "block:"  # a palette entry of the Blocks section: "block:BasicBlock"
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0


class GraphView(QGraphicsView):
    zoom_changed = Signal(float)
    block_open_requested = Signal(str)  # double-click on a block instance: its node id

    def __init__(self, scene: GraphScene, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.editor = editor
        self.mode: Mode | None = None
        self.tracker = MoveTracker(self)
        self.space_held = False
        self.context_menu: QMenu | None = None  # the node menu last opened (right-click)
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
        editor.placed.connect(self.reveal_nodes)
        editor.laid_out.connect(self.fit_all)

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

    # --- new layers land in view ---------------------------------------------------------------------------
    def visible_rect(self) -> QRectF:
        """The part of the scene the canvas shows now."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def add_from_palette(self, layer_id: str) -> str:
        """Double-click in the palette: after the selected layer (wired in), else in a free spot of the visible
        canvas; either way the view then shows the new layer (the editor's ``placed``: a layer added out of sight
        looks like nothing)."""
        if layer_id.startswith(BLOCK_PREFIX):
            block = self.editor.add_block(layer_id[len(BLOCK_PREFIX) :], self.free_spot_in_view())
            return "" if block is None else block.id
        if self.graph_scene.selected_node_ids():
            node = self.editor.add_after_selection(layer_id)
        else:
            node = self.editor.add_layer(layer_id, self.free_spot_in_view())
        return node.id

    def free_spot_in_view(self) -> tuple[float, float]:
        """The first place, reading the visible canvas row by row, where a new layer overlaps no other; the
        centre of the view when it is full."""
        view = self.visible_rect().adjusted(20, 20, -20, -20)
        size = QRectF(0, 0, style.NODE_WIDTH, 110)
        taken = [item.sceneBoundingRect().adjusted(-30, -20, 30, 20) for item in self.graph_scene.nodes.values()]
        y = view.top()
        while y + size.height() <= view.bottom():
            x = view.left()
            while x + size.width() <= view.right():
                spot = size.translated(x, y)
                if not any(spot.intersects(other) for other in taken):
                    return self._snapped(x, y)
                x += style.GRID
            y += style.GRID
        centre = view.center()
        return self._snapped(centre.x() - size.width() / 2, centre.y() - size.height() / 2)

    def _snapped(self, x: float, y: float) -> tuple[float, float]:
        if self.graph_scene.snap_to_grid:
            return round(x / style.GRID) * style.GRID, round(y / style.GRID) * style.GRID
        return x, y

    def reveal_nodes(self, node_ids: list[str]) -> None:
        """Scroll just enough that the layers an edit added are in view (a paste or a layer added after a node
        near the edge would otherwise land out of sight); zoom out only when they cannot fit as they are."""
        rects = [self.graph_scene.nodes[n].sceneBoundingRect() for n in node_ids if n in self.graph_scene.nodes]
        if not rects:
            return
        rect = rects[0]
        for other in rects[1:]:
            rect = rect.united(other)
        view = self.visible_rect()
        if rect.width() + 60 > view.width() or rect.height() + 60 > view.height():
            self.fit_rect(rect.adjusted(-40, -40, 40, 40), self.zoom)
        else:
            self.ensureVisible(rect, 30, 30)

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

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self.graph_scene.node_at(self.mapToScene(event.position().toPoint()))
        graph = self.editor.graph
        if item is not None and item.node_id in graph and graph.node(item.node_id).block is not None:
            self.block_open_requested.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right-click on a node: its menu (Trainable, Freeze everything before this); nothing while read-only."""
        item = self.graph_scene.node_at(self.mapToScene(event.pos()))
        if item is None or not self.isInteractive() or self.mode is not None:
            super().contextMenuEvent(event)
            return
        if item.node_id not in self.graph_scene.selected_node_ids():
            self.graph_scene.select_nodes([item.node_id])
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        self.context_menu = node_menu(self.editor, item.node_id, self)
        self.context_menu.popup(event.globalPos())  # not exec(): no nested event loop, nothing modal
        event.accept()

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
        view = self.visible_rect()
        # the whole box inside the canvas, even when dropped at its edge
        x = min(max(pos.x() - style.NODE_WIDTH / 2, view.left() + 10), view.right() - style.NODE_WIDTH - 10)
        y = min(max(pos.y() - style.HEADER_HEIGHT / 2, view.top() + 10), view.bottom() - 90)
        if layer_id.startswith(BLOCK_PREFIX):
            self.editor.add_block(layer_id[len(BLOCK_PREFIX) :], self._snapped(x, y))
        else:
            self.editor.add_layer(layer_id, self._snapped(x, y))
        event.acceptProposedAction()
        self.setFocus()
