"""Nothing hidden at 1600x1000 and 1280x800: with every example open, each label of the inspector, the problems
list and the training dashboard shows its whole text, no dock needs a horizontal scroll bar, and the key
training settings (epochs, learning rate, optimizer, batch size) are in view without scrolling.

"Cut" is measured, not eyeballed: a label's text is laid out at the label's width (wrapped when the label
wraps) and must fit inside the label, and the label must lie inside every widget around it (a dock, a scroll
area's viewport) horizontally. One window per size is reused for all examples, so the test stays fast.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6 import QtGui
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QScrollArea,
    QSpinBox,
    QWidget,
)

from core.cli import EXAMPLES_DIR
from gui.shell.mainwindow import MainWindow

# the quick tier draws the smaller screen only: a second window costs seconds
SIZES = [pytest.param((1600, 1000), marks=pytest.mark.slow), (1280, 800)]
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))
SLACK = 2  # pixels of rounding between QTextDocument and QLabel's own layout


def settle() -> None:
    """Let layouts finish: a wrapped label's new height reaches its scroll area over a few event-loop turns."""
    for _ in range(8):
        QApplication.processEvents()


def global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def visible_width(widget: QWidget) -> int:
    """How much of the widget's width its ancestors leave on screen (each parent clips its children)."""
    rect = global_rect(widget)
    parent = widget.parentWidget()
    while parent is not None:
        rect = rect.intersected(global_rect(parent))
        parent = parent.parentWidget()
    return max(0, rect.width())


def vertically_in_view(widget: QWidget) -> bool:
    """Some of the widget is inside its scroll area's viewport (rows scrolled out of view are not 'cut')."""
    rect = global_rect(widget)
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
            clip = global_rect(parent)
            if rect.bottom() < clip.top() or rect.top() > clip.bottom():
                return False
        parent = parent.parentWidget()
    return True


def text_size(label: QLabel, width: int) -> tuple[float, float]:
    """(width, height) the label's text needs when laid out at ``width`` (or unwrapped)."""
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setDocumentMargin(0)
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(label.text())
    )
    if rich:
        doc.setHtml(label.text())
    else:
        doc.setPlainText(label.text())
    if label.wordWrap():
        doc.setTextWidth(width)
    return doc.idealWidth(), doc.size().height()


def label_problem(label: QLabel) -> str | None:
    if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    inner = label.contentsRect().adjusted(label.margin(), label.margin(), -label.margin(), -label.margin())
    need_w, need_h = text_size(label, inner.width())
    if need_w > inner.width() + SLACK:
        return f"needs {need_w:.0f} px but has {inner.width()} px"
    if label.wordWrap():  # the height is the label's own answer (mixed font sizes make a document's differ)
        need_h = label.heightForWidth(label.width())
        if need_h > label.height() + SLACK:
            return f"wrapped, needs {need_h:.0f} px of height but has {label.height()} px"
    return None


def cut_things(root: QWidget) -> list[str]:
    """Every visible label, button, choice or number field under ``root`` whose text does not show in full."""
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root.window()) or not widget.isVisible() or widget.width() <= 0:
            continue
        name = f"{type(widget).__name__} {widget_text(widget)!r}"
        if isinstance(widget, QLabel | QAbstractButton | QComboBox | QSpinBox) and vertically_in_view(widget):
            seen = visible_width(widget)
            if seen < widget.width() - SLACK:
                found.append(f"{name}: only {seen} of its {widget.width()} px are inside the dock")
                continue
        if isinstance(widget, QLabel):
            problem = label_problem(widget)
            if problem:
                found.append(f"{name}: {problem}")
        elif isinstance(widget, QAbstractButton | QComboBox | QSpinBox):
            need = widget.minimumSizeHint().width()
            if isinstance(widget, QComboBox | QSpinBox):  # the text must fit beside the arrow(s)
                need = QFontMetrics(widget.font()).horizontalAdvance(widget_text(widget)) + 28
            if widget.width() + SLACK < need:
                found.append(f"{name}: {widget.width()} px wide, its text needs {need} px")
        elif isinstance(widget, QAbstractScrollArea) and not isinstance(widget, QPlainTextEdit):
            if widget.horizontalScrollBar().isVisible():
                found.append(f"{type(widget).__name__} {widget.objectName()!r} needs a horizontal scroll bar")
            inner = widget.widget() if isinstance(widget, QScrollArea) else None
            if inner is not None and inner.width() > widget.viewport().width() + SLACK:
                found.append(
                    f"a scroll area's content is {inner.width()} px wide in {widget.viewport().width()} px: cut"
                )
    return found


def caption_problems(grid: QListWidget) -> list[str]:
    """An image grid (``gui.widgets.images.ImageGrid``) whose captions the list view elides ('tri…') or cuts
    at the bottom of the cell ('(true: squ'): each line must fit the cell's width, all lines its height below
    the picture."""
    found = []
    cell = grid.gridSize()
    for i in range(grid.count()):
        item = grid.item(i)
        if item.isHidden():
            continue
        metrics = QFontMetrics(item.font())
        lines = item.text().split("\n")
        widest = max(metrics.horizontalAdvance(line) for line in lines)
        room = cell.width() - 4  # the delegate's margins
        tall = grid.iconSize().height() + 6 + len(lines) * metrics.lineSpacing()
        if widest > room:
            found.append(f"caption {item.text()!r} needs {widest} px, the cell gives {room}: elided or wrapped")
        elif tall > cell.height():
            found.append(f"caption {item.text()!r} needs {tall} px of height, the cell has {cell.height()}: cut")
    return found


def progress_problem(bar: QProgressBar) -> str | None:
    """The text inside a progress bar must fit on one line (a longer one is clipped or wrapped inside it)."""
    text = bar.text()
    need = QFontMetrics(bar.font()).horizontalAdvance(text) + 8
    if bar.isVisible() and text and need > bar.width():
        return f"progress bar text {text!r} needs {need} px, the bar is {bar.width()} px wide"
    return None


def widget_text(widget: QWidget) -> str:
    if isinstance(widget, QLabel | QAbstractButton):
        return widget.text()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QSpinBox):
        return widget.text() if widget.value() != widget.minimum() or not widget.specialValueText() else ""
    return ""


def cut_problems(problems: QListWidget) -> list[str]:
    """Problem messages wrap inside the list; a word too long for the row, or a row too short, is cut."""
    found = []
    if problems.horizontalScrollBar().isVisible():
        found.append("the problems list needs a horizontal scroll bar")
    metrics = QFontMetrics(problems.font())
    for i in range(problems.count()):
        item = problems.item(i)
        rect = problems.visualItemRect(item)
        room = rect.width() - problems.iconSize().width() - 12
        longest = max(metrics.horizontalAdvance(word) for word in item.text().split())
        need = metrics.boundingRect(QRect(0, 0, room, 10_000), Qt.TextFlag.TextWordWrap, item.text()).height()
        if longest > room or need > rect.height() + SLACK or rect.right() > problems.viewport().width() + SLACK:
            found.append(f"problem {item.text()!r} is cut ({rect.width()}x{rect.height()} px)")
    return found


def key_fields_out_of_view(window: MainWindow) -> list[str]:
    panel = window.training_dashboard.panel
    dock = window.docks["training"]
    out = []
    for name in ("epochs", "lr", "optimizer", "batch_size"):
        field: QWidget = getattr(panel, name)
        rect = global_rect(field)
        clip = global_rect(dock)
        parent = field.parentWidget()
        while parent is not None and parent is not dock:
            clip = clip.intersected(global_rect(parent))
            parent = parent.parentWidget()
        if not field.isVisible() or not clip.contains(rect):
            out.append(f"{name} is not in view (field {rect.getRect()}, visible area {clip.getRect()})")
    return out


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """MNIST is never downloaded: an empty data folder and a network that refuses (the long message that
    explains it is part of what must fit)."""
    from core.datasets import vision

    def no_network(*args, **kwargs):
        raise OSError("no network in tests")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCHCANVAS_DATA", str(tmp_path_factory.mktemp("data")))
        patch.setattr(vision, "urlopen", no_network)
        yield


@pytest.fixture(scope="module", params=SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def sized_window(request, qapp, tmp_path_factory, offline):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path_factory.mktemp("settings") / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.install_training()
    window.resize(*request.param)
    window.show()
    settle()
    yield window
    window.document.undo_stack.setClean()
    window.close()
    window.deleteLater()
    settle()


def open_example(window: MainWindow, path) -> None:
    window.open_example(path)
    window.training_dashboard.refresh_dataset()
    window.docks["training"].show()
    window.docks["training"].raise_()
    settle()


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_nothing_is_cut_with_each_example(sized_window, example):
    window = sized_window
    open_example(window, example)
    found = [f"problems: {p}" for p in cut_problems(window.problems)]
    found += [f"training panel: {p}" for p in cut_things(window.training_dashboard.panel)]
    found += key_fields_out_of_view(window)
    for node in list(window.document.graph.nodes):
        window.scene.select_nodes([node.id])
        settle()
        found += [f"inspector ({node.type} {node.name}): {p}" for p in cut_things(window.inspector)]
    assert not found, "\n".join(found)


def test_the_window_is_as_wide_as_asked(sized_window, request):
    """The docks' least widths add up to no more than the screen: a dashboard tab wider than its share (the
    Layer health tab's boxes side by side) made the window 1362 px wide in 1280, off the screen, and squeezed
    the problems list to a word a line."""
    window = sized_window
    open_example(window, EXAMPLES_DIR / "mnist_cnn.json")
    asked = request.node.callspec.params["sized_window"]
    assert (window.width(), window.height()) == asked, f"least size {window.minimumSizeHint().toTuple()}"


def test_inspector_errors_show_in_full(sized_window):
    window = sized_window
    open_example(window, EXAMPLES_DIR / "mnist_cnn.json")
    conv = next(n.id for n in window.document.graph.nodes if n.type == "Conv2d")
    window.scene.select_nodes([conv])
    settle()
    field = window.inspector.editors["kernel_size"].widget
    field.setText("-5")
    field.editingFinished.emit()
    settle()
    assert "-5" in window.inspector.message.text()
    found = cut_things(window.inspector)
    field.setText("abc")  # a longer message, wrapped over several lines
    field.editingFinished.emit()
    settle()
    assert "abc" in window.inspector.message.text()
    found += cut_things(window.inspector)
    assert not found, "\n".join(found)


def test_training_results_are_not_cut(sized_window):
    window = sized_window
    open_example(window, EXAMPLES_DIR / "digits_mlp.json")
    dash = window.training_dashboard
    names = [str(i) for i in range(10)]
    result = SimpleNamespace(
        status="finished",
        message="",
        history=[{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7, "lr": 0.001}],
        test_loss=0.4,
        test_accuracy=0.86,
        confusion=[[10 if i == j else 1 for j in range(10)] for i in range(10)],
        class_names=names,
        per_class_accuracy=[0.8 + 0.01 * i for i in range(10)],
        misclassified=[],
        run_dir=None,
        summary={},
        device="cpu",
    )
    dash.panel.end_run(result)
    dash.results.show_result(result)
    dash.tabs.setCurrentWidget(dash.results)
    settle()
    found = [f"results: {p}" for p in cut_things(dash.results)]
    found += [f"training panel: {p}" for p in cut_things(dash.panel)]
    found += key_fields_out_of_view(window)
    per_class = dash.results.per_class
    if per_class.isVisible():  # a plot with its class names apart ...
        if per_class.height() < 120:
            found.append(f"the per-class accuracy plot is only {per_class.height()} px high")
        axis = per_class.getPlotItem().getAxis("left")
        names = [name for _, name in dash.results.shown_class_ticks]
        if len(names) * QFontMetrics(axis.font()).height() > per_class.getPlotItem().vb.height() + SLACK:
            found.append(f"{len(names)} class names on a {axis.height()} px axis overlap")
    elif not dash.results.confusion.show_accuracy:  # ... or a column of the confusion matrix
        found.append("the per-class accuracy is not shown")
    found += plot_problems([p for p in (per_class, dash.results.boundary) if p.isVisible()])
    dash.plots.set_history(result.history * 3)
    dash.tabs.setCurrentWidget(dash.curves_page)
    settle()
    found += [f"live curves: {p}" for p in cut_things(dash.plots)]
    found += plot_problems([dash.plots.loss_widget, dash.plots.acc_widget, dash.plots.lr_widget])
    assert not found, "\n".join(found)


@pytest.mark.slow  # draws resnet_small and its dataset at each size: seconds
def test_class_names_and_sample_captions_are_not_cut(sized_window):
    """The shapes dataset (class names such as 'triangle'): the data preview's captions, the predictions under
    the test samples ('triangle' over '(true: circle)'), and a long progress text while a run goes."""
    window = sized_window
    open_example(window, EXAMPLES_DIR / "resnet_small.json")
    dash = window.training_dashboard
    dataset = dash.dataset
    names = list(dataset.class_names)
    assert max(len(n) for n in names) >= 8, names
    labels = [int(v) for v in dataset.y_test]
    k = len(names)
    confusion = [[0] * k for _ in range(k)]
    for label in labels:
        confusion[label][2] += 1  # everything predicted as the third class
    result = SimpleNamespace(
        status="finished",
        message="",
        history=[{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7, "lr": 0.001}],
        test_loss=0.4,
        test_accuracy=labels.count(2) / len(labels),
        confusion=confusion,
        class_names=names,
        per_class_accuracy=[1.0 if i == 2 else 0.0 for i in range(k)],
        misclassified=[i for i, label in enumerate(labels) if label != 2],
        run_dir=None,
        summary={},
        device="cpu",
    )
    import numpy as np

    dash.results.show_result(result, dataset, lambda x: np.full(len(x), 2))
    dash.tabs.setCurrentWidget(dash.results)
    for _ in range(20):
        settle()
    found = [f"data preview: {p}" for p in caption_problems(dash.panel.preview.grid)]
    samples = dash.results.samples
    assert any("(true:" in c for c in samples.captions())
    found += [f"test samples: {p}" for p in caption_problems(samples)]
    found += [f"results: {p}" for p in cut_things(dash.results)]
    bar = dash.panel.progress
    dash.panel.begin_run(dash.project.training)
    batch = SimpleNamespace(
        kind="batch", epoch=12, epochs=20, batch=130, batches=133, step=1593, samples_per_s=12345.0, eta_s=65.0
    )
    dash.panel.on_event(batch)
    settle()
    found += [problem for problem in [progress_problem(bar)] if problem]
    if "Epoch 12/20" not in bar.text() or "ETA 1:05" not in bar.text() or "12,345 samples/s" not in bar.toolTip():
        found.append(f"the progress bar says {bar.text()!r} (tooltip {bar.toolTip()!r})")
    dash.panel.forget_run()
    assert not found, "\n".join(found)


def plot_problems(plots) -> list[str]:
    """A plot whose title is wider than the plot (pyqtgraph then widens it past its widget), or with a legend
    drawn over its curves."""
    found = []
    for plot in plots:
        item = plot.getPlotItem()
        title = item.titleLabel.text
        need = max(item.titleLabel.item.boundingRect().width(), item.width())  # a long title widens the plot
        if need > plot.width() + SLACK:
            found.append(f"the plot {title!r} needs {need:.0f} px, has {plot.width()}: cut")
        if item.legend is not None:
            found.append(f"the legend of {title!r} is drawn over its curves")
    return found


@pytest.mark.slow
def test_the_inspector_shows_every_layer_type_whole(sized_window):
    """Every layer of the catalog, not only those in the examples (long names such as track_running_stats)."""
    from core.model.catalog import LAYERS

    window = sized_window
    window.document.new()
    graph = window.document.graph
    found = []
    for layer_id in LAYERS:
        node = window.editor.add_layer(layer_id, (0.0, 0.0))
        window.scene.select_nodes([node.id])
        settle()
        found += [f"inspector ({layer_id}): {p}" for p in cut_things(window.inspector)]
        window.editor.delete([node.id])
    assert graph.nodes == []
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_screenshot_size_option(qapp, tmp_path, monkeypatch):
    """``torchcanvas --screenshot FILE --size 1280x800`` renders the smaller window (used to look at it)."""
    import sys

    from PySide6.QtGui import QImage

    from core.cli import _gui_parser
    from gui.shell.app import run_app

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_app installs its own; keep pytest's
    target = tmp_path / "small.png"
    args = _gui_parser().parse_args(["--screenshot", str(target), "--size", "1280x800"])
    assert args.size == (1280, 800)
    assert run_app(args) == 0
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1280, 800)
    with pytest.raises(SystemExit):
        _gui_parser().parse_args(["--size", "big"])
