"""The training form's "Transfer learning" group: the weights training starts from (a file or an earlier run's
folder), and fine-tuning in two phases (the backbone frozen for the first epochs, then everything at a smaller
learning rate). Each field is one undoable edit through the panel (``edited``); the group shows what the chosen
weights will load into the current network, matched by name and shape as training matches them.

That preview builds the network and reads the weights file (half a second for resnet18, more for a big file), so
it is made in a background thread on a copy of the project; only the newest request's answer is shown."""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.errors import TorchCanvasError
from core.files.project import from_dict
from core.training.run_folder import default_runs_dir
from gui.panels.wrapping import let_wrap
from gui.training.runs import project_runs
from gui.widgets.thread_cores import one_core_in_this_thread

NO_WEIGHTS = "Fresh random weights"
MATCHING = "Matching the weights to the network…"
log = logging.getLogger(__name__)


def nothing_frozen(graph: Any) -> bool:
    """No layer is frozen, here or inside a block's definition: a first phase would train everything anyway."""
    graphs = [graph, *(getattr(defn, "graph", None) for defn in graph.blocks.values())]
    return all(node.trainable for g in graphs if g is not None for node in g.nodes)


def will_load(project: Any, path: str) -> str:
    """'N tensors will load, M new (fc.weight, fc.bias).' for ``path`` against the current network, or why it
    cannot be used (nothing fits, an unreadable file, a network with problems), as training would say it."""
    # deferred for start-up: both import torch; an idle window has none
    from core.code.script_transfer import initial_file
    from core.training.setup import new_listing, start_by_name

    try:
        model = shapes_only(project)
        loaded, new = start_by_name(model, None, initial_file(path), "these weights", load=False)  # as training
    except TorchCanvasError as exc:
        return f"<span style='color:#b00020'>{exc}</span>"
    return f"{len(loaded)} tensors will load, {len(new)} new" + (f" ({new_listing(new)})." if new else ".")


def shapes_only(project: Any) -> Any:
    """The network with its tensors' names and shapes but no values (torch's meta device), which is all the
    matching needs. Built normally, its layers' random starting weights came from torch's global generator and
    build_model seeded it: a run started while this preview was made got other numbers each time (tester's H)."""
    # deferred for start-up: torch and the model builder (which imports it) load when weights are previewed
    import torch

    from core.files.built_model import generated_code

    code, _analysis = generated_code(project)
    namespace: dict[str, Any] = {"__name__": "torchcanvas_preview"}
    exec(compile(code.source, "<torchcanvas preview>", "exec"), namespace)
    with torch.device("meta"):  # this thread only: a run's thread meanwhile builds on the CPU as before
        return namespace[code.class_name]()


def ask_weights_path(parent: QWidget, folder: bool, start: str = "") -> str:
    """Weights to start training from: a .pt/.pth/.safetensors file or, with ``folder``, an earlier run's folder;
    '' when none was chosen (tests replace this; with no screen to answer on nothing is chosen)."""
    if QApplication.platformName() in ("offscreen", "minimal"):
        return ""
    if folder:
        return QFileDialog.getExistingDirectory(parent, "Start from an earlier run's folder", start)
    path, _ = QFileDialog.getOpenFileName(
        parent, "Start from weights", start, "Weights (*.pt *.pth *.safetensors);;All files (*)"
    )
    return path


class TransferBox(QGroupBox):
    """``edited(field, value)``: the user changed one setting (the panel makes it one undo step)."""

    edited = Signal(str, object)
    preview_made = Signal(int, str)  # request number, the preview's text (from the preview's thread)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Transfer learning", parent)
        self.project: Any = None
        self._preview_request = 0  # only the newest preview's answer is shown
        self.preview_made.connect(self._show_preview)
        self._graph: Any = None  # the network whose edits make the preview again
        self._previewed: tuple[str, int] | None = None  # the weights and network the preview was made for
        self._remake = QTimer(self)  # a burst of network edits builds the network once, after the last
        self._remake.setSingleShot(True)
        self._remake.setInterval(400)
        self._remake.timeout.connect(self.remake_preview)
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.weights_name = let_wrap(QLabel(NO_WEIGHTS))
        self.weights_name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Start from", self.weights_name)
        buttons = QWidget(self)
        # two rows, not one: three buttons side by side made the form wider than a 1280-pixel window leaves it
        row = QGridLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.choose_file = QPushButton("Weights file…", buttons)
        self.choose_file.setToolTip("A .pt, .pth or .safetensors file: its tensors that fit by name and shape load.")
        self.choose_run = QPushButton("From a run…", buttons)
        self.choose_run.setToolTip("An earlier run of this project: training starts from its final weights.")
        self.runs_menu = QMenu(self.choose_run)
        self.runs_menu.aboutToShow.connect(self.fill_runs_menu)
        self.choose_run.setMenu(self.runs_menu)
        self.clear = QPushButton("Clear", buttons)
        self.clear.setToolTip("Start from fresh random weights.")
        row.addWidget(self.choose_file, 0, 0)
        row.addWidget(self.choose_run, 0, 1)
        row.addWidget(self.clear, 1, 0)
        row.setColumnStretch(2, 1)
        form.addRow(buttons)
        self.preview = let_wrap(QLabel(""))
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("color: #555;")
        form.addRow(self.preview)
        self.freeze_epochs = QSpinBox()
        self.freeze_epochs.setRange(0, 100_000)
        self.freeze_epochs.setSuffix(" epochs")
        self.freeze_epochs.setSpecialValueText("0 (one phase)")
        self.freeze_epochs.setToolTip(
            "Phase one: the frozen layers (the backbone) stay fixed for this many epochs while the rest learns; "
            "then everything trains. 0: one phase, the frozen layers stay frozen."
        )
        form.addRow("Backbone-frozen", self.freeze_epochs)
        self.lr_factor = QDoubleSpinBox()
        self.lr_factor.setDecimals(4)
        self.lr_factor.setRange(0.0001, 1.0)
        self.lr_factor.setSingleStep(0.05)
        self.lr_factor.setToolTip("Phase two's learning rate: the learning rate times this (0.1 is usual).")
        form.addRow("then learning rate ×", self.lr_factor)
        self.freeze_note = let_wrap(QLabel(""))
        self.freeze_note.setStyleSheet("color: #8a5a00;")
        form.addRow(self.freeze_note)
        self.choose_file.clicked.connect(lambda: self._ask(folder=False))
        self.clear.clicked.connect(lambda: self.edited.emit("initial_weights", ""))
        self.freeze_epochs.valueChanged.connect(lambda v: self.edited.emit("freeze_epochs", v))
        self.lr_factor.valueChanged.connect(lambda v: self.edited.emit("unfreeze_lr_factor", round(v, 6)))

    def fields(self) -> tuple[QWidget, ...]:
        """The widgets whose signals the panel blocks while it shows the settings."""
        return (self.freeze_epochs, self.lr_factor)

    def fill_runs_menu(self) -> None:
        """This project's saved runs, newest first (each sets the weights to its folder), then any run folder."""
        self.runs_menu.clear()
        runs = [run for run in self.earlier_runs() if run.run_dir is not None][-15:]
        for run in reversed(runs):
            label = run.name + (f" · test accuracy {run.test_accuracy:.1%}" if run.test_accuracy is not None else "")
            action = self.runs_menu.addAction(label)
            action.setToolTip(str(run.run_dir))
            action.triggered.connect(lambda _=False, p=run.run_dir: self.edited.emit("initial_weights", str(p)))
        if not runs:
            self.runs_menu.addAction("No saved runs of this project yet").setEnabled(False)
        self.runs_menu.addSeparator()
        self.runs_menu.addAction("Another run folder…").triggered.connect(lambda: self._ask(folder=True))

    def earlier_runs(self) -> list[Any]:
        """The saved runs of this project, oldest first, from the runs folder the dashboard above saves into."""
        if self.project is None:
            return []
        holder = self.parentWidget()
        while holder is not None and not hasattr(holder, "runs_root"):
            holder = holder.parentWidget()
        root = getattr(holder, "runs_root", None) or default_runs_dir()
        return project_runs(Path(root), self.project.name)

    def _ask(self, folder: bool) -> None:
        current = self.project.training.initial_weights if self.project is not None else ""
        path = ask_weights_path(self, folder, str(Path(current).parent) if current else "")
        if path:
            self.edited.emit("initial_weights", str(Path(path).resolve()))

    def show_settings(self, project: Any) -> None:
        """Mirror the project's settings; the preview is made again when the weights or the network changed."""
        self.project = project
        if project.graph is not self._graph:
            if self._graph is not None:
                self._graph.changed.disconnect(self._graph_changed)
            self._graph = project.graph
            self._graph.changed.connect(self._graph_changed)
        s = project.training
        self.weights_name.setText(Path(s.initial_weights).name if s.initial_weights else NO_WEIGHTS)
        self.weights_name.setToolTip(s.initial_weights)
        self.clear.setEnabled(bool(s.initial_weights))
        self.freeze_epochs.setValue(s.freeze_epochs)
        self.lr_factor.setValue(s.unfreeze_lr_factor)
        self.lr_factor.setEnabled(s.freeze_epochs > 0)
        self.freeze_note.setText(
            "Nothing is frozen, so both phases train everything: freeze the backbone's layers (right-click the last "
            "backbone layer, Freeze everything before this) for a first phase that trains only the rest."
            if s.freeze_epochs > 0 and nothing_frozen(project.graph)
            else ""
        )
        self.freeze_note.setVisible(bool(self.freeze_note.text()))
        key = (s.initial_weights, id(project.graph))
        if not s.initial_weights:
            self._previewed = None
            self._preview_request += 1  # a preview still being made is not wanted any more
            self.preview.setText("")
        elif key != self._previewed:
            self._previewed = key
            self.preview.setText(MATCHING)
            self._make_preview(project, s.initial_weights)
        self.preview.setVisible(bool(self.preview.text()))

    def _make_preview(self, project: Any, path: str) -> None:
        """``will_load`` in a daemon thread, on a copy of the project (edits made meanwhile do not reach it)."""
        self._preview_request += 1
        number, snapshot = self._preview_request, from_dict(copy.deepcopy(project.to_dict()))

        def work() -> None:
            one_core_in_this_thread()  # no OpenMP team beside a run's
            try:
                text = will_load(snapshot, path)
            except Exception as exc:  # not plain words: say what failed, the log has the rest
                log.error("The transfer preview failed: %s", exc, exc_info=exc)
                text = f"<span style='color:#b00020'>Could not match {Path(path).name} to the network: {exc}</span>"
            try:
                self.preview_made.emit(number, text)  # queued to the GUI thread
            except RuntimeError:  # the form was closed meanwhile
                pass

        threading.Thread(target=work, name="torchcanvas-transfer-preview", daemon=True).start()

    def _show_preview(self, number: int, text: str) -> None:
        if number == self._preview_request:
            self.preview.setText(text)
            self.preview.setVisible(bool(text))

    def _graph_changed(self, *_: Any) -> None:
        """The network changed (a new head, a layer removed): what the weights load into changed with it."""
        try:
            if self.project is not None and self.project.training.initial_weights:
                self._remake.start()
        except RuntimeError:  # the form was closed while the network lives on
            pass

    def remake_preview(self) -> None:
        if self.project is not None:
            self._previewed = None
            self.show_settings(self.project)
