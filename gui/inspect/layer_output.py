"""Layer output: select a node and see what it outputs for one chosen sample of the dataset (feature maps, bars,
a heat map, its range and share of zeros), with the weights training starts from before training (an imported or
pretrained network's own, else random ones: ``core.inspect.start``, and the words say which), live about once a
second while the network trains, and the trained weights after a run of the network as it is drawn.

The numbers are ``core.inspect.activations`` (one forward pass of the generated model with a hook on the node).
Before and after a run they are computed in a thread of this dock (the newest request replaces a waiting one:
the GUI thread never runs torch). While a run trains, ``LiveOutputs`` (a ``core.training.watch`` Watcher) computes
them on the training thread between two batches, never while the model trains, at most every ``LIVE_S``, and
sends a copy without the full tensor (both in ``gui.inspect.output_feed``). One "Sample" picker serves every
node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gui.inspect.output_feed import LIVE_S, LiveOutputs, OutputComputer, OutputFeed, sample_for
from gui.inspect.output_pictures import OutputPicture

RETRY_MS = 1000  # while the dataset is still loading, look again this often


class LayerOutputDock(QWidget):
    """``show_node(id)`` follows the canvas selection; ``output`` is the summary shown (None: none yet)."""

    shown = Signal()  # after an output (or a reason why none) is shown

    def __init__(self, document: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.dataset_source: Callable[[], Any] = lambda: None  # the previewed dataset (the dashboard's)
        self.trained_source: Callable[[], tuple[Any, Any] | None] = lambda: None  # (run project, model)
        self.node_id: str | None = None
        self.select_node: Callable[[str], None] | None = None  # the window's, once installed
        self.output: Any = None
        self.words = ""
        self.running = False
        self.live_interval = LIVE_S  # a run's watcher computes at most this often (s); read when a run starts
        self.version = 0  # counts analyses: the network may have changed, the random model is built again
        self.feed = OutputFeed(self)
        self.feed.arrived.connect(self._arrived)
        self.feed.running.connect(self.set_running)
        self._computer: OutputComputer | None = None
        self._sizer: _FirstShow | None = None  # sizes the inspector/output split once, when installed
        self._stale = False  # a node was chosen while the dock was closed
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.numbers = QLabel()
        self.numbers.setWordWrap(True)
        self.sample = QSpinBox()
        self.sample.setPrefix("Sample ")
        self.sample.setToolTip("Which test sample goes through the network (the same for every node).")
        self.sample.valueChanged.connect(self.refresh)
        self.sample_note = QLabel()
        self.picture = OutputPicture()
        row = QHBoxLayout()
        row.addWidget(self.sample)
        row.addWidget(self.sample_note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.numbers)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self.refresh)
        document.analyzed.connect(self._network_changed)
        self.show_node(None)

    # -- what to show ------------------------------------------------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.output = None
        if node_id is None or node_id not in {n.id for n in self.document.graph.nodes}:
            self.node_id = None
            self.title.setText("<b>Layer output</b>")
            self.numbers.setText("")
            self.picture.show_text("Select a layer on the canvas to see what it outputs for one sample.")
            self.feed.request = None
            return
        self.title.setText(f"<b>{self.document.graph.node(node_id).name}</b>: its output for one sample")
        self.refresh()

    def _network_changed(self, _analysis: Any) -> None:
        self.version += 1
        if self.node_id is not None and self.node_id not in {n.id for n in self.document.graph.nodes}:
            self.show_node(None)
        elif self.node_id is not None and not self.running:
            self.refresh()

    def refresh(self) -> None:
        """Ask for the output of the node and sample chosen now (a thread answers; nothing waits here)."""
        if self.node_id is None:
            return
        if not self.isVisible():  # a closed dock computes nothing; it catches up when shown again
            self._stale = True
            self.feed.request = None
            return
        self._stale = False
        data = self.dataset_source()
        if data is None:
            self.picture.show_text("Waiting for the dataset (chosen in the Training dock) to load…")
            self._retry.start()
            return
        count = _test_count(data)
        self.sample.blockSignals(True)
        self.sample.setMaximum(max(0, count - 1))
        self.sample.blockSignals(False)
        project = self.document.project
        try:
            sample = sample_for(data, self.sample.value(), project)
        except Exception as exc:
            self._arrived(None, str(exc))
            return
        self.sample_note.setText(_label_words(data, self.sample.value(), count))
        self.feed.request = (self.node_id, sample)
        if self.running:
            return  # the run's watcher answers within live_interval
        trained, path = self.trained_source(), None
        key: tuple[object, ...]  # what the computed outputs depend on, to reuse them
        if trained is not None and _drawn(trained[0].graph) == _drawn(project.graph):
            key, model, words = ("trained", id(trained[1])), trained[1], "trained weights (the last run)"
            project = trained[0]
        else:  # the weights training starts from: imported, pretrained or initial ones, else random
            path = getattr(self.document, "path", None)
            s = project.training
            start = (path, s.fine_tune, s.initial_weights, s.seed, project.extra.get("initial_weights"))
            key, model, words = ("start", self.version, start), None, ""
            project = self.document.snapshot()
        if self._computer is None:
            self._computer = OutputComputer(self.feed)
        self._computer.ask(key, project, model, self.node_id, sample, words, path)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    # -- a run ---------------------------------------------------------------------------------------------
    def watchers_for(self, project: Any) -> list[Any]:
        """The live watcher for a run of ``project`` (the dashboard's health view hands it over)."""
        return [LiveOutputs(project, self.feed, interval=self.live_interval)]

    def set_running(self, running: bool) -> None:
        """While a run looks, its watcher answers; after it, the last live output stays until the dashboard has
        the trained model (``attach_dashboard`` refreshes on ``run_finished``)."""
        self.running = running

    # -- showing -------------------------------------------------------------------------------------------
    def _arrived(self, output: Any, words: str) -> None:
        if output is not None and output.node_id != self.node_id:
            return  # an answer for a node no longer selected
        self.output, self.words = output, words
        if output is None:
            self.picture.show_text(words)
            self.numbers.setText("")
        else:
            self.picture.show_output(output)
            if output.zeros >= 1.0 and output.kind != "value":
                self.picture.show_text("Every value is 0 for this sample: none of its units fires.")
            shape = "[" + ", ".join(str(s) for s in output.shape) + "]"
            shown = len(output.maps) if output.maps is not None else 0
            more = f" (the first {shown} of {output.channels} maps)" if 0 < shown < output.channels else ""
            if output.kind == "sequence":
                more = " (down: positions, across: features)"
            self.numbers.setText(
                f"{shape}{more} · range {output.minimum:.3g} … {output.maximum:.3g} · mean {output.mean:.3g} · "
                f"zeros {output.zeros:.0%}<br><i>{words}</i>"
            )
        self.shown.emit()


def _drawn(graph: Any) -> Any:
    """The network as it computes: the graph's file form without the boxes' positions (a box moved after a run
    still has the run's weights)."""
    form = graph.to_dict()
    for node in form.get("nodes", []):
        node.pop("pos", None)
    return form


def _test_count(data: Any) -> int:
    tensor = getattr(data, "x_test", None)
    if tensor is not None:
        return len(tensor)
    held = getattr(data, "test_set", None)
    return len(held) if held is not None else 0


def _label_words(data: Any, index: int, count: int) -> str:
    labels = getattr(data, "y_test", None)
    names = getattr(data, "class_names", None) or []
    if labels is None or index >= len(labels) or getattr(data, "task", "") == "regression":
        return f"of {count:,} test samples"
    label = int(labels[index])
    return f"of {count:,} test samples · class {names[label] if label < len(names) else label}"


def install(window: Any) -> LayerOutputDock:
    """Dock it under the inspector; it follows the canvas selection and, once the dashboard is there, its data."""
    dock = LayerOutputDock(window.document)
    window.add_dock("Layer output", dock, Qt.DockWidgetArea.RightDockWidgetArea, "layer_output")
    if "inspector" in window.docks:
        pair = [window.docks["inspector"], window.docks["layer_output"]]
        window.splitDockWidget(*pair, Qt.Orientation.Vertical)
        dock._sizer = _FirstShow(window, pair)  # the inspector's form keeps most of the height
    scene = window.scene

    def selection() -> None:
        try:
            ids = scene.selected_node_ids()
        except RuntimeError:  # the scene is being deleted with the window
            return
        if len(ids) == 1 and ids[0] != dock.node_id:
            dock.show_node(ids[0])

    scene.selectionChanged.connect(selection)
    dock.select_node = window.select_node  # what a view that names a node (a health diagnosis) selects with
    window.document.project_replaced.connect(lambda: dock.show_node(None))
    return dock


class _FirstShow(QObject):
    """Gives the inspector two thirds of the right column when the window is first shown (sizes set before the
    window has its size are lost)."""

    def __init__(self, window: Any, pair: list[Any]) -> None:
        super().__init__(window)
        self.pair = pair
        window.installEventFilter(self)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if event.type() == QEvent.Type.Show:
            watched.removeEventFilter(self)
            height = max(300, watched.height() * 2 // 3)
            watched.resizeDocks(self.pair, [height, max(200, height // 2)], Qt.Orientation.Vertical)
        return False


def attach_dashboard(dock: LayerOutputDock, dashboard: Any) -> None:
    """Samples from the dashboard's previewed dataset, the trained model after a run, live outputs while one runs;
    a diagnosis clicked selects its node; another project clears the inspect tabs."""
    dock.dataset_source = dashboard.dataset_when_ready  # loads in a thread (torch) and is asked again
    dock.trained_source = lambda: (
        (dashboard.run_project, dashboard.last_model) if dashboard.last_model is not None else None
    )
    dashboard.health.more.append(dock.watchers_for)
    if dock.select_node is not None:
        dashboard.health.node_activated.connect(dock.select_node)  # a diagnosis clicked: its node on the canvas
    dashboard.run_finished.connect(lambda _result: dock.refresh())

    def forget() -> None:  # another project: the last run's health, curve and projection are the old one's
        if not dashboard.is_running():
            dashboard.health.clear()
            dashboard.lr_finder.reset()
            dashboard.projection.clear()

    dock.document.project_replaced.connect(forget)
