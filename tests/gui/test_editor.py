"""The editor driven through its real widgets: palette, canvas mouse gestures, inspector, menus, files."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox, QSpinBox

from core.files import project as project_io
from core.model.node import Edge
from gui.canvas.items import NodeItem
from gui.style import NODE_WIDTH
from tests.gui.mouse import click, drag, drop_mime


def scene_center(window) -> QPointF:
    return window.view.mapToScene(window.view.viewport().rect().center())


def test_starts_with_the_example_valid_and_unmodified(window):
    graph = window.document.graph
    assert [n.type for n in graph.nodes] == ["Input", "Flatten", "Linear", "ReLU", "Linear", "Output"]
    assert set(window.scene.nodes) == {n.id for n in graph.nodes}
    assert set(window.scene.wires) == set(graph.edges)
    assert window.problems.messages() == ["No problems: the network is valid and its code is ready."]
    assert "class Net(nn.Module)" in window.code_view.text()
    assert "nn.Linear(64, 128)" in window.code_view.text()
    assert window.windowTitle().startswith("Digits MLP (unsaved)")
    assert not window.isWindowModified()
    assert "Parameters: 9,610" in window.params_label.text()
    assert "[N, 10]" in window.output_label.text()


def test_drag_a_layer_from_the_palette_and_drop_it_on_the_canvas(window, qtbot):
    before = len(window.document.graph)
    item = window.palette.items["Dropout"]
    mime = window.palette.tree.mimeData([item])
    target = scene_center(window) + QPointF(0, 220)
    assert drop_mime(window.view, mime, target)
    graph = window.document.graph
    assert len(graph) == before + 1
    node = graph.nodes[-1]
    assert node.type == "Dropout"
    assert abs(node.pos[0] + NODE_WIDTH / 2 - target.x()) < 2  # dropped where the mouse was (centred on the header)
    assert window.scene.nodes[node.id].isSelected()
    assert window.isWindowModified()
    assert window.document.undo_stack.count() == 1


def test_mouse_drag_out_of_the_palette_drops_on_the_canvas(window, monkeypatch):
    """Press and move on the palette row starts the palette's own QDrag; the platform's drag loop (which an
    offscreen session lacks) is stood in for by delivering that drag's data to the canvas as a drop."""
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    import gui.panels.palette

    target = scene_center(window) + QPointF(0, 250)
    drags = []

    class PlatformDrag(gui.panels.palette.QDrag):
        def exec(self, *args):
            drags.append(self.pixmap().width())
            assert drop_mime(window.view, self.mimeData(), target)
            return Qt.DropAction.CopyAction

    monkeypatch.setattr(gui.panels.palette, "QDrag", PlatformDrag)
    tree = window.palette.tree
    item = window.palette.items["LayerNorm"]
    tree.scrollToItem(item)
    start = tree.visualItemRect(item).center()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        event = QMouseEvent(
            kind,
            QPointF(pos),
            QPointF(tree.viewport().mapToGlobal(pos)),
            button,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(tree.viewport(), event)

    send(QEvent.Type.MouseButtonPress, start, left, left)
    for k in range(1, 15):
        send(QEvent.Type.MouseMove, start + QPoint(4 * k, 0), none, left)
    send(QEvent.Type.MouseButtonRelease, start + QPoint(56, 0), left, none)
    assert drags and drags[0] > 20  # a chip follows the cursor
    node = window.document.graph.nodes[-1]
    assert node.type == "LayerNorm"
    assert window.document.undo_stack.count() == 1


def test_refuses_a_drop_of_something_else(window):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setText("hello")
    assert not drop_mime(window.view, mime, scene_center(window))
    assert window.document.undo_stack.count() == 0


def test_palette_search_filters_as_you_type(window, qtbot):
    qtbot.keyClicks(window.palette.search, "pool")
    shown = window.palette.visible_layers()
    assert "MaxPool2d" in shown and "AvgPool1d" in shown
    assert "Linear" not in shown and "ReLU" not in shown
    window.palette.search.clear()
    assert "Linear" in window.palette.visible_layers()


def test_double_click_in_palette_adds_after_the_selection_and_wires_it(window, qtbot):
    graph = window.document.graph
    window.scene.select_nodes(["n3"])  # fc1
    item = window.palette.items["BatchNorm1d"]
    window.palette.tree.scrollToItem(item)
    rect = window.palette.tree.visualItemRect(item)
    qtbot.mouseClick(window.palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    node = graph.nodes[-1]
    assert node.type == "BatchNorm1d"
    assert Edge("n3", node.id) in graph.edges
    assert window.document.undo_stack.count() == 1  # add + connect is one step
    window.document.undo_stack.undo()
    assert node.id not in graph and len(graph.edges) == 5


def add_layers(window, *layer_ids):
    """Add layers through the palette (double-click path) in free space, return their ids."""
    ids = []
    for layer_id in layer_ids:
        window.scene.clearSelection()
        ids.append(window.editor.add_after_selection(layer_id).id)
    return ids


def test_connect_ports_with_the_mouse_and_see_the_shape_label(empty_window, qtbot):
    window = empty_window
    x, fc = add_layers(window, "Input", "Linear")
    window.view.fit_all()
    start = window.scene.nodes[x].outputs[0].scenePos()
    end = window.scene.nodes[fc].inputs[0].scenePos()
    drag(window.view, start, end)
    graph = window.document.graph
    assert graph.edges == [Edge(x, fc)]
    wire = window.scene.wires[Edge(x, fc)]
    item = window.scene.nodes[fc]
    qtbot.waitUntil(lambda: item.shape_text == "[N, 1, 8, 64]", timeout=10_000)  # after the 0 ms re-analysis
    assert wire.label == "[N, 1, 8, 8]"  # a new Input takes the shape of the project's dataset (digits)
    assert "in_features: 8 (auto)" in item.lines
    assert window.document.undo_stack.count() == 3


def test_invalid_targets_are_refused_visibly(window, qtbot):
    from PySide6.QtCore import QEvent

    from tests.gui.mouse import NONE, send_mouse

    graph = window.document.graph
    view = window.view
    edges = graph.edges
    # fc2's output back into flatten's (occupied) input: refused, port shown red, reason next to the cursor
    start = window.scene.nodes["n5"].outputs[0].scenePos()
    target = window.scene.nodes["n2"].inputs[0]
    send_mouse(view, QEvent.Type.MouseButtonPress, start)
    send_mouse(view, QEvent.Type.MouseMove, target.scenePos(), NONE)
    assert target.state == "refuse"
    assert "cycle" in view.mode.hint.text() or "already connected" in view.mode.hint.text()
    send_mouse(view, QEvent.Type.MouseButtonRelease, target.scenePos(), buttons=NONE)
    assert graph.edges == edges
    assert target.state == ""
    # a node's output into its own input
    own = window.scene.nodes["n4"]
    drag(view, own.outputs[0].scenePos(), own.inputs[0].scenePos())
    assert graph.edges == edges
    assert window.document.undo_stack.count() == 0
    assert "connected" in window.statusBar().currentMessage() or "itself" in window.statusBar().currentMessage()


def test_dragging_a_wire_off_its_input_removes_it(window):
    graph = window.document.graph
    port = window.scene.nodes["n4"].inputs[0]  # relu1 input, fed by fc1
    drag(window.view, port.scenePos(), port.scenePos() + QPointF(0, 300))
    assert Edge("n3", "n4") not in graph.edges
    window.document.undo_stack.undo()
    assert Edge("n3", "n4") in graph.edges


def test_mismatch_shows_badge_and_problem_then_fixed_in_inspector(window, qtbot):
    graph = window.document.graph
    click(window.view, window.scene.nodes["n3"].sceneBoundingRect().center())
    assert window.scene.selected_node_ids() == ["n3"]
    inspector = window.inspector
    assert inspector.node_id == "n3"
    pin = inspector.pins["in_features"]
    assert pin.text() == "Auto"
    qtbot.mouseClick(pin, Qt.MouseButton.LeftButton)  # pin: keep 64 even if the input changes
    assert graph.node("n3").params["in_features"] == 64
    spin = inspector.editors["in_features"].widget
    assert isinstance(spin, QSpinBox) and spin.isEnabled()
    spin.setValue(100)  # a wrong value: the flattened input has 64 features
    window.document.refresh()
    item = window.scene.nodes["n3"]
    assert item.error and "64" in item.error
    assert "fc1" in item.toolTip()
    assert any("fc1" in m for m in window.problems.messages())
    assert "problem" in window.valid_label.text()
    assert "Fix the problems" in window.code_view.status.text()
    # click the problem: the node is selected and centred
    window.scene.clearSelection()
    row = next(i for i, m in enumerate(window.problems.messages()) if "fc1" in m)
    it = window.problems.item(row)
    qtbot.mouseClick(
        window.problems.viewport(), Qt.MouseButton.LeftButton, pos=window.problems.visualItemRect(it).center()
    )
    assert window.scene.selected_node_ids() == ["n3"]
    # fix: unpin (back to auto)
    qtbot.mouseClick(inspector.pins["in_features"], Qt.MouseButton.LeftButton)
    window.document.refresh()
    assert "in_features" not in graph.node("n3").params
    assert item.error is None
    assert window.problems.messages()[0].startswith("No problems")
    # undo and redo walk through the same states
    stack = window.document.undo_stack
    stack.undo()
    window.document.refresh()
    assert item.error
    stack.redo()
    window.document.refresh()
    assert item.error is None


def test_inspector_edits_parameters_and_rename(window, qtbot):
    graph = window.document.graph
    window.scene.select_nodes(["n5"])
    inspector = window.inspector
    spin = inspector.editors["out_features"].widget
    spin.setValue(3)
    assert graph.node("n5").params["out_features"] == 3
    window.document.refresh()
    assert "[N, 3]" in window.output_label.text()
    assert "nn.Linear(128, 3)" in window.code_view.text()
    inspector.name_edit.setText("classifier")
    inspector.name_edit.editingFinished.emit()
    assert graph.node("n5").name == "classifier"
    inspector.name_edit.setText("class")  # a Python keyword is refused in plain words
    inspector.name_edit.editingFinished.emit()
    assert graph.node("n5").name == "classifier"
    assert "keyword" in inspector.message.text()
    assert window.document.undo_stack.count() == 2


def test_moving_a_node_with_the_mouse_is_one_undo_step(window):
    graph = window.document.graph
    item = window.scene.nodes["n4"]
    before = graph.node("n4").pos
    start = item.sceneBoundingRect().center()
    drag(window.view, start, start + QPointF(30, 120), steps=12)
    after = graph.node("n4").pos
    assert after != before
    assert (item.pos().x(), item.pos().y()) == after
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()
    assert graph.node("n4").pos == before
    assert (item.pos().x(), item.pos().y()) == before


def test_snap_to_grid(window):
    window.action_map["snap"].setChecked(True)
    item = window.scene.nodes["n4"]
    start = item.sceneBoundingRect().center()
    drag(window.view, start, start + QPointF(33, 47))
    x, y = window.document.graph.node("n4").pos
    assert x % 20 == 0 and y % 20 == 0


def test_rubber_band_selects_and_delete_key_removes(window, qtbot):
    graph = window.document.graph
    r = window.scene.nodes["n3"].sceneBoundingRect().united(window.scene.nodes["n4"].sceneBoundingRect())
    drag(window.view, r.topLeft() - QPointF(20, 30), r.bottomRight() + QPointF(10, 20))
    assert window.scene.selected_node_ids() == ["n3", "n4"]
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert "n3" not in graph and "n4" not in graph
    assert len(graph.edges) == 2
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()
    assert project_io.dumps(window.document.project) == project_io.dumps(fresh_example(window))


def fresh_example(window):
    from core.cli import DEFAULT_EXAMPLE
    from core.model.layout import layered_layout
    from gui.canvas.editor import COLUMN_GAP, ROW_GAP

    project = project_io.load(DEFAULT_EXAMPLE)
    for nid, pos in layered_layout(project.graph, "lr", COLUMN_GAP, ROW_GAP, (0.0, 0.0)).items():
        project.graph.set_pos(nid, pos)
    return project


def test_copy_paste_keeps_internal_wires(window):
    graph = window.document.graph
    window.scene.select_nodes(["n3", "n4", "n5"])
    window.action_map["copy"].trigger()
    window.action_map["paste"].trigger()
    assert len(graph) == 9
    pasted = window.scene.selected_node_ids()
    assert len(pasted) == 3
    names = [graph.node(n).name for n in pasted]
    assert len(set(names) | {"fc1", "relu1", "fc2"}) == 6  # fresh names
    internal = [e for e in graph.edges if e.src in pasted and e.dst in pasted]
    assert len(internal) == 2
    assert window.document.undo_stack.count() == 1
    window.action_map["duplicate"].trigger()
    assert len(graph) == 12
    window.action_map["cut"].trigger()
    assert len(graph) == 9
    window.document.undo_stack.undo()
    window.document.undo_stack.undo()
    window.document.undo_stack.undo()
    assert len(graph) == 6


def test_auto_layout_is_one_command_and_orders_by_layer(window):
    graph = window.document.graph
    for node in graph.nodes:
        graph.set_pos(node.id, (0.0, 0.0))
    window.document.undo_stack.clear()
    window.action_map["layout"].trigger()
    xs = [graph.node(nid).pos[0] for nid in graph.topological_order()]
    assert xs == sorted(xs) and len(set(xs)) == 6
    assert window.document.undo_stack.count() == 1


def test_zoom_and_fit(window):
    view = window.view
    view.fit_all()
    zoom = view.zoom
    window.action_map["zoom_in"].trigger()
    assert view.zoom > zoom
    window.action_map["zoom_out"].trigger()
    window.action_map["zoom_out"].trigger()
    assert view.zoom < zoom
    window.action_map["fit"].trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.items_rect())


def test_undo_all_returns_exactly_to_the_start(window):
    start = project_io.dumps(window.document.project)
    editor = window.editor
    node = editor.add_layer("Dropout", (300.0, 400.0))
    editor.connect(Edge("n4", node.id))
    editor.set_param(node.id, "p", 0.25)
    editor.rename(node.id, "drop")
    editor.move({node.id: (node.pos, (320.0, 420.0))})
    window.scene.select_nodes(["n2"])
    editor.delete_selection()
    editor.auto_layout()
    end = project_io.dumps(window.document.project)
    stack = window.document.undo_stack
    assert stack.count() == 7
    while stack.canUndo():
        stack.undo()
    assert project_io.dumps(window.document.project) == start
    assert not window.isWindowModified()
    while stack.canRedo():
        stack.redo()
    assert project_io.dumps(window.document.project) == end


def test_save_and_reopen_gives_the_same_graph(window, tmp_path):
    editor = window.editor
    node = editor.add_layer("Dropout", (300.0, 400.0))
    editor.connect(Edge("n4", node.id))
    path = tmp_path / "net.json"
    assert window.save_as(path)
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("net.json")
    saved = window.document.graph.to_dict()
    window.document.new()
    assert len(window.document.graph) == 0
    assert window.open_file(path)
    assert window.document.graph.to_dict() == saved
    assert set(window.scene.nodes) == {n["id"] for n in saved["nodes"]}
    assert window.recent_files()[0] == str(path.resolve())
    editor.move({"n1": ((0.0, 0.0), (5.0, 5.0))})
    assert window.isWindowModified() and window.windowTitle().startswith("net.json")
    assert window.save()
    assert project_io.load(path).graph.node("n1").pos == (5.0, 5.0)


def test_open_reports_a_bad_file_in_plain_words(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(window, "show_error", lambda title, text: shown.append(text))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert not window.open_file(bad)
    assert "not valid JSON" in shown[0]
    assert len(window.document.graph) == 6


def test_closing_with_unsaved_changes_asks(window, monkeypatch):
    window.editor.add_layer("ReLU", (0.0, 300.0))
    asked = []

    def answer(*args, **kwargs):
        asked.append(args)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert not window.close()
    assert asked and window.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.close()


def test_export_code(window, tmp_path):
    path = tmp_path / "model.py"
    assert window.export_code(path)
    source = path.read_text()
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    import torch

    model = namespace["Net"]()
    assert tuple(model(torch.zeros(2, 1, 8, 8)).shape) == (2, 10)


def test_scene_items_show_node_text(window):
    item = window.scene.nodes["n3"]
    assert isinstance(item, NodeItem)
    assert item.name == "fc1" and item.layer == "Linear"
    assert "in_features: 64 (auto)" in item.lines and "out_features: 128" in item.lines
    assert item.shape_text == "[N, 128]"


def test_editing_can_be_locked_while_training(window):
    window.set_editing_locked(True)
    assert not window.view.isInteractive()
    assert not window.palette.isEnabled() and not window.action_map["delete"].isEnabled()
    window.set_editing_locked(False)
    assert window.view.isInteractive() and window.action_map["delete"].isEnabled()


def test_unexpected_errors_are_logged_and_shown_in_plain_words(tmp_path, monkeypatch, capsys):
    from gui.shell import app

    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path))
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        app.excepthook(type(exc), exc, exc.__traceback__)
    log = (tmp_path / "torchcanvas.log").read_text()
    assert "Traceback" in log and "ZeroDivisionError" in log
    shown = capsys.readouterr().err
    assert "Something went wrong" in shown and "Traceback" not in shown


def test_click_a_wire_and_delete_it(window, qtbot):
    graph = window.document.graph
    wire = window.scene.wires[Edge("n3", "n4")]
    click(window.view, wire.path_midpoint())
    assert window.scene.selected_edges() == [Edge("n3", "n4")]
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert Edge("n3", "n4") not in graph.edges and "n3" in graph and "n4" in graph
    window.document.refresh()
    assert any("relu1" in m for m in window.problems.messages())


def test_clicking_code_selects_its_node(window):
    code = window.code_view
    line = next(n for n, nid in code.code.line_to_node.items() if nid == "n5")
    cursor = code.editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.Start)
    cursor.movePosition(cursor.MoveOperation.Down, n=line - 1)
    code.editor.setTextCursor(cursor)
    assert window.scene.selected_node_ids() == ["n5"]


def test_example_gallery_lists_and_opens_examples(window):
    from gui.panels.gallery import ExampleGallery

    gallery = ExampleGallery(window)
    assert gallery.list.count() >= 6
    names = [gallery.list.item(i).text() for i in range(gallery.list.count())]
    row = next(i for i, text in enumerate(names) if text.startswith("Residual CNN"))
    gallery.list.setCurrentRow(row)
    assert window.open_example(gallery.chosen())
    graph = window.document.graph
    assert any(n.type == "Add" for n in graph.nodes)
    assert window.document.path is None and not window.isWindowModified()
    assert set(window.scene.nodes) == {n.id for n in graph.nodes}


def test_pan_with_middle_mouse_and_space_drag_and_wheel_zoom_around_cursor(window, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = window.view
    view.set_zoom(1.0)

    def centre():
        return view.mapToScene(view.viewport().rect().center())

    before = centre()
    drag(view, before, before + QPointF(100, 0), button=Qt.MouseButton.MiddleButton)
    assert centre().x() < before.x() - 50  # the canvas followed the mouse
    graph_before = window.document.graph.to_dict()
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    assert view.space_held
    start = centre()
    drag(view, start, start + QPointF(0, 80))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert centre().y() < start.y() - 40
    assert window.document.graph.to_dict() == graph_before  # panning moved no node
    # wheel: the scene point under the cursor stays under the cursor
    spot = QPoint(200, 150)
    under = view.mapToScene(spot)
    wheel = QWheelEvent(
        QPointF(spot),
        QPointF(view.viewport().mapToGlobal(spot)),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom > 1.2
    after = view.mapToScene(spot)
    assert abs(after.x() - under.x()) < 3 and abs(after.y() - under.y()) < 3


def test_a_layer_type_from_a_newer_version_is_shown_not_crashing(window, tmp_path):
    project = fresh_example(window)
    raw = project.to_dict()
    raw["graph"]["nodes"].append(
        {
            "id": "n99",
            "type": "FancyAttention",
            "name": "attn",
            "params": {"heads": 4},
            "pos": [0, 300],
            "ports": [1, 1],
        }
    )
    path = tmp_path / "newer.json"
    path.write_text(__import__("json").dumps(raw))
    assert window.open_file(path)
    item = window.scene.nodes["n99"]
    assert len(item.inputs) == 1 and len(item.outputs) == 1
    window.document.refresh()
    assert item.error and "unknown layer type" in item.error
    window.scene.select_nodes(["n99"])
    assert window.inspector.node_id is None  # a plain explanation instead of a form


def test_each_edit_and_its_undo_emit_only_their_own_node_signal(window):
    """The scene redraws a box on params_changed/name_changed and moves it on pos_changed: each editor command,
    done and undone, emits exactly its own signal once."""
    graph = window.document.graph
    stack = window.document.undo_stack
    fc = graph.nodes_of_type("Linear")[0]
    seen: list[tuple[str, str]] = []
    for kind in ("params", "name", "pos"):
        getattr(graph, f"{kind}_changed").connect(lambda nid, kind=kind: seen.append((kind, nid)))
    x, y = fc.pos
    edits = [
        (lambda: window.editor.set_param(fc.id, "out_features", 64), "params"),
        (lambda: window.editor.rename(fc.id, "hidden"), "name"),
        (lambda: window.editor.move({fc.id: ((x, y), (x + 40.0, y))}), "pos"),
    ]
    for edit, kind in edits:
        seen.clear()
        assert edit() is None
        assert seen == [(kind, fc.id)]
        seen.clear()
        stack.undo()
        assert seen == [(kind, fc.id)]
        stack.redo()
    item = window.scene.nodes[fc.id]
    assert (item.pos().x(), item.pos().y()) == (x + 40.0, y)
    assert graph.node(fc.id).name == "hidden"


def test_the_editor_asks_core_before_a_repeat_or_a_rename_and_shows_its_reason(empty_window):
    """The editor had its own copy of the repeat rule, looser than core's: a repeat of 2.5 passed it, and core
    refused inside the undo stack's redo. Now the editor asks Graph.check_repeat / check_rename and shows their
    words; a refused edit adds no undo step."""
    from core.errors import TorchCanvasError

    editor, graph = empty_window.editor, empty_window.document.graph
    node = editor.add_block("BasicBlock", (0.0, 0.0))
    assert node is not None
    steps = empty_window.document.undo_stack.count()
    messages: list[str] = []
    editor.message.connect(messages.append)
    assert editor.set_repeat(node.id, 2.5) == f"{node.name}: repeat must be a whole number from 1 to 64."
    assert editor.set_repeat(node.id, 65) == messages[-1]
    for name in ("class", "2x", node.name.upper() + " "):
        reason = editor.rename(node.id, name)
        try:
            graph.check_rename(node.id, name)
        except TorchCanvasError as exc:
            assert reason == str(exc) == messages[-1]
        else:
            raise AssertionError(f"core accepted {name!r}")
    assert empty_window.document.undo_stack.count() == steps and graph.node(node.id).repeat == 1
    assert editor.set_repeat(node.id, 3) is None and graph.node(node.id).repeat == 3


def test_a_block_that_would_contain_itself_is_refused_and_the_library_stays(empty_window):
    """Adding BasicBlockDown inside Downsample (which BasicBlockDown uses) is refused; the project file, library
    included, is as before, and an allowed add brings only the definitions it needs (the editor now tries the
    built-in on core's own copy instead of adding and popping definitions in the project's library)."""
    from core.files import project as project_io

    window = empty_window
    assert window.editor.add_block("BasicBlockDown", (0.0, 0.0)) is not None
    graph = window.document.graph
    assert sorted(graph.blocks) == ["BasicBlockDown", "Downsample"]
    assert all(defn.graph.blocks is graph.blocks for defn in graph.blocks.values())
    tab = window.canvas_tabs.open_block("Downsample")
    before, steps = project_io.dumps(window.document.project), window.document.undo_stack.count()
    assert tab.editor.add_block("BasicBlockDown", (0.0, 0.0)) is None
    assert tab.editor.add_block("Downsample", (0.0, 0.0)) is None
    assert project_io.dumps(window.document.project) == before
    assert window.document.undo_stack.count() == steps
    node = tab.editor.add_block("VGGBlock", (0.0, 300.0))
    assert node is not None and node.id in graph.blocks["Downsample"].graph
    assert "VGGBlock" in graph.blocks and graph.blocks["VGGBlock"].graph.blocks is graph.blocks
    window.document.undo_stack.undo()
    assert project_io.dumps(window.document.project) == before
