"""The summary dock: check's table in the window, following edits and the batch size, sortable by number."""

from __future__ import annotations

from core.cli import DEFAULT_EXAMPLE
from core.files.project import load
from gui.commands.training import SetTrainingSettings
from gui.inspect.summary_dock import COLUMNS, SummaryDock, output_bytes
from gui.shell.document import Document

MEMORY = COLUMNS.index("Memory / batch")
PARAMS = COLUMNS.index("Params")


def make(qtbot) -> tuple[Document, SummaryDock]:
    document = Document(load(DEFAULT_EXAMPLE))
    dock = SummaryDock(document)
    qtbot.addWidget(dock)
    return document, dock


def test_the_dock_shows_checks_rows_with_each_outputs_memory_for_one_batch(qtbot) -> None:
    document, dock = make(qtbot)
    assert dock.column_texts(0) == ["x", "flatten", "fc1", "relu1", "fc2", "output"]
    assert dock.column_texts(2)[2] == "[N, 128]"
    assert dock.column_texts(PARAMS)[2] == "8,320"
    assert document.project.training.batch_size == 32
    assert dock.column_texts(MEMORY)[2] == "16.0 KB"  # 32 samples x 128 floats x 4 bytes
    assert dock.column_texts(MEMORY)[0] == "8.0 KB"  # 32 x 1 x 8 x 8 x 4
    assert "Parameters: 9,610" in dock.totals.text()


def test_a_batch_size_change_and_its_undo_change_the_memory_column(qtbot) -> None:
    document, dock = make(qtbot)
    document.undo_stack.push(SetTrainingSettings(document.project, {"batch_size": 256}))
    qtbot.waitUntil(lambda: dock.column_texts(MEMORY)[2] == "128.0 KB")
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: dock.column_texts(MEMORY)[2] == "16.0 KB")


def test_an_edit_is_shown_after_one_analysis(qtbot) -> None:
    document, dock = make(qtbot)
    before = dock.shown_analyses
    graph = document.graph
    node = graph.add("Dropout", "drop")
    qtbot.waitUntil(lambda: "drop" in dock.column_texts(0))
    assert dock.shown_analyses == before + 1  # the document's one analysis, not one of the dock's own
    graph.set_name(node.id, "dropout_1")
    qtbot.waitUntil(lambda: "dropout_1" in dock.column_texts(0))
    assert dock.shown_analyses == before + 2


def test_sorting_by_parameters_and_memory_is_by_number_and_survives_an_edit(qtbot) -> None:
    document, dock = make(qtbot)
    dock.sort_by(PARAMS, ascending=False)
    assert dock.column_texts(0)[:2] == ["fc1", "fc2"]  # 8,320 before 1,290 (as text "1,290" > "8,320" fails)
    dock.sort_by(MEMORY, ascending=False)
    assert dock.column_texts(0)[:2] in (["fc1", "relu1"], ["relu1", "fc1"])  # 16 KB each, above 8 KB
    document.undo_stack.push(SetTrainingSettings(document.project, {"batch_size": 64}))
    qtbot.waitUntil(lambda: "32.0 KB" in dock.column_texts(MEMORY))
    assert dock.column_texts(MEMORY)[0] == "32.0 KB"  # still sorted by memory, largest first


def test_clicking_a_row_names_its_node(qtbot) -> None:
    document, dock = make(qtbot)
    row = dock.column_texts(0).index("fc1")
    with qtbot.waitSignal(dock.node_activated) as blocker:
        dock.table.itemClicked.emit(dock.table.item(row, 0))
    assert document.graph.node(blocker.args[0]).name == "fc1"


def test_output_bytes_knows_dtypes_and_unknown_sizes() -> None:
    assert output_bytes((None, 20), "int64", 4) == 4 * 20 * 8
    assert output_bytes((None, None, 16), "float32", 4) is None
    assert output_bytes(None, "float32", 4) is None


def test_the_main_window_docks_the_summary_and_a_click_selects_the_node(window, qtbot) -> None:
    dock = window.docks["summary"].widget()
    row = dock.column_texts(0).index("fc2")
    dock.table.itemClicked.emit(dock.table.item(row, 0))
    assert [window.document.graph.node(i).name for i in window.scene.selected_node_ids()] == ["fc2"]


def test_the_totals_say_trainable_and_non_trainable_params_and_follow_a_freeze(qtbot) -> None:
    from gui.commands.graph import SetTrainableCommand

    document, dock = make(qtbot)
    assert "Trainable params: 9,610 · Non-trainable params: 0" in dock.totals.text()
    fc1 = document.graph.by_name("fc1")  # 8,320 parameters: 64 x 128 + 128
    document.undo_stack.push(SetTrainableCommand(document.graph, {fc1.id: False}, "Freeze fc1"))
    qtbot.waitUntil(lambda: "Trainable params: 1,290 · Non-trainable params: 8,320" in dock.totals.text())
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: "Non-trainable params: 0" in dock.totals.text())
