"""Editor scale benchmark: a 300-node project. Reports the time to show it, to auto-layout it, and the median
time of one node-drag step (mouse move -> item moved -> wires re-routed -> viewport repainted).

Targets: show < 2 s, auto-layout < 1 s, drag step < 16 ms (one frame at 60 Hz).
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/editor_scale.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from core.files.project import Project
from core.model.graph import Graph
from core.model.node import Edge

NODES = 300


def build_project(count: int = NODES) -> Project:
    """Input -> blocks of Linear, ReLU, Dropout with a residual Add every block -> Output; ``count`` nodes."""
    graph = Graph()
    prev = graph.add("Input", shape=[64], pos=(0.0, 0.0))
    x = 0.0
    while len(graph) < count - 5:
        x += 250
        fc = graph.add("Linear", out_features=64, pos=(x, 0.0))
        relu = graph.add("ReLU", pos=(x + 250, 0.0))
        drop = graph.add("Dropout", p=0.1, pos=(x + 500, 0.0))
        add = graph.add("Add", pos=(x + 750, 0.0))
        graph.chain([prev, fc, relu, drop, add])
        graph.connect(Edge(prev.id, add.id, 1))
        prev, x = add, x + 750
    while len(graph) < count - 1:
        x += 250
        node = graph.add("ReLU", pos=(x, 0.0))
        graph.connect(Edge(prev.id, node.id))
        prev = node
    out = graph.add("Output", pos=(x + 250, 0.0))
    graph.connect(Edge(prev.id, out.id))
    return Project(graph, name="Scale 300")


def mouse(view, kind, scene_pos, button, buttons) -> None:
    local = QPointF(view.mapFromScene(scene_pos))
    event = QMouseEvent(
        kind,
        local,
        QPointF(view.viewport().mapToGlobal(local.toPoint())),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)


def main() -> int:
    import tempfile

    from gui.shell.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    project = build_project()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)

    t0 = time.perf_counter()
    window = MainWindow(settings=settings)
    window.document.set_project(project)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.view.fit_all()
    window.view.viewport().repaint()
    show = time.perf_counter() - t0

    t0 = time.perf_counter()
    window.editor.auto_layout()
    app.processEvents()
    window.view.viewport().repaint()
    layout = time.perf_counter() - t0

    # drag one node at 100 % zoom, where its wires and neighbours are on screen
    view = window.view
    view.set_zoom(1.0)
    node_id = project.graph.nodes[len(project.graph) // 2].id
    item = window.scene.nodes[node_id]
    view.centerOn(item)
    app.processEvents()
    before = project.graph.node(node_id).pos
    start = item.sceneBoundingRect().center() + QPointF(0, -item.boundingRect().height() / 2 + 30)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    mouse(view, QEvent.Type.MouseButtonPress, start, left, left)
    steps = []
    for i in range(1, 121):
        pos = start + QPointF(i * 1.5, (i % 20) * 2.0)
        t = time.perf_counter()
        mouse(view, QEvent.Type.MouseMove, pos, none, left)
        view.viewport().repaint()
        app.processEvents()
        steps.append(time.perf_counter() - t)
    mouse(view, QEvent.Type.MouseButtonRelease, pos, left, none)
    moved = project.graph.node(node_id).pos != before
    assert window.document.undo_stack.count() == 2, "the drag should be one undo command"
    drag = statistics.median(steps)

    print(f"nodes: {len(project.graph)}, wires: {len(project.graph.edges)}")
    print(f"time to show:       {show * 1000:8.1f} ms   (target < 2000 ms)  {'OK' if show < 2 else 'SLOW'}")
    print(f"time to auto-layout:{layout * 1000:8.1f} ms   (target < 1000 ms)  {'OK' if layout < 1 else 'SLOW'}")
    print(f"median drag step:   {drag * 1000:8.2f} ms   (target < 16 ms)    {'OK' if drag < 0.016 else 'SLOW'}")
    print(f"p95 drag step:      {sorted(steps)[int(len(steps) * 0.95)] * 1000:8.2f} ms")
    window.document.undo_stack.setClean()
    window.close()
    return 0 if moved and show < 2 and layout < 1 and drag < 0.016 else 1


if __name__ == "__main__":
    sys.exit(main())
