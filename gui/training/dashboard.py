"""The training dashboard: settings on the left; live curves, results and past runs on the right.

It drives one ``TrainingRun`` at a time on a snapshot of the project, so the run never sees half-made edits;
while it runs, the editor is locked (``running_changed``) and closing the window asks first, then stops the run
cleanly. ``gui.training.window.install(host)`` docks it into the editor's main window.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.files.export_formats import EXPORT_FORMATS
from core.files.initial_weights import initial_weights
from core.files.project import Project, from_dict
from core.model.analysis import Analysis, analyze
from core.settings import TrainingSettings
from core.training.events import TrainEvent, TrainResult
from core.training.run_folder import default_runs_dir
from gui.inspect import lr_finder, projection_view
from gui.inspect.health_view import HealthView
from gui.training import actions
from gui.training.dashboard_data import DashboardData
from gui.training.data_load import PreviewLoader
from gui.training.panel import TrainingPanel
from gui.training.plots import LivePlots
from gui.training.results import IDLE_SUMMARY, ResultsView
from gui.training.runs import RunsView
from gui.training.tryit import TryItView
from gui.training.worker import STARTING_TORCH, TrainerFactory, TrainingRun, torch_ready, warm_up

if TYPE_CHECKING:
    from core.datasets import Dataset
    from gui.shell.document import Document
    from gui.training.data_load import ShownData

log = logging.getLogger(__name__)
PROGRESS_MS = 250
LOG_LINES = 500


class TrainingDashboard(DashboardData, QWidget):
    running_changed = Signal(bool)
    run_finished = Signal(object)  # the TrainResult, once every view shows it

    def __init__(self, parent: QWidget | None = None, *, trainer_factory: TrainerFactory | None = None) -> None:
        super().__init__(parent)
        self.trainer_factory = trainer_factory
        self.runs_root: Path = default_runs_dir()  # each run gets a folder in here (see core.training.run_folder)
        self.document: Document | None = None
        self.project: Project | None = None
        self.stack: QUndoStack | None = None
        self.run: TrainingRun | None = None
        self.shown_data: ShownData | None = None  # what the preview shows: a Dataset, or a LightDataset
        self._full: Dataset | None = None  # the shown dataset as the trainer sees it (tensors): see ``dataset``
        self._full_loading = False
        self._preview_settings: TrainingSettings | None = None  # the settings the shown preview was loaded for
        self._dataset_key: tuple | None = None
        self.last_result: TrainResult | None = None
        self.event_count: dict[str, int] = {}

        self.run_project: Project | None = None  # the snapshot the last run trained
        self.last_model: Any = None
        self._pending_progress: TrainEvent | None = None  # the newest batch event the progress bar has not shown yet

        self.panel = TrainingPanel()
        self.plots = LivePlots()
        self.results = ResultsView()
        self.runs = RunsView()
        self.tryit = TryItView()  # builds the run's model only when opened (the trainer's is released)
        self.health = HealthView()  # gui.inspect: the layer health tab
        self.lr_finder = lr_finder.attach(self)  # gui.inspect: the learning-rate range test
        self.projection = projection_view.attach(self)  # gui.inspect: the test set by the last hidden layer
        self._arrange()
        self._data_timer = self._timer(0, self._load_in_background)  # after the window is painted, off its thread
        self.preview_loader = PreviewLoader(self, light=True)  # the example's digits are drawn without torch
        self.preview_loader.loaded.connect(self._preview_loaded)
        self.full_loader = PreviewLoader(self)  # the tensors behind a light preview, once something needs them
        self.full_loader.loaded.connect(self._full_loaded)
        self.choice_loader = PreviewLoader(self)  # a dataset chosen in the window, loaded before it is used
        self.choice_loader.loaded.connect(self._choice_loaded)
        self._choice_project: Project | None = None
        self._loading = False  # a background load for _dataset_key is under way
        self._progress_timer = self._timer(PROGRESS_MS, self._show_progress)  # batch progress, PROGRESS_MS apart
        # An opaque progress bar repaints alone; otherwise each update repaints its six parents' backgrounds too
        # (the window, the dock, the dashboard, ...), a third of the GUI thread's work while a run trains.
        self.panel.progress.setAutoFillBackground(True)
        # The log keeps its newest lines: each line costs Qt ~7 KB, so 3,000 epochs grew the app by 22 MB (the
        # whole history stays in the run's metrics.csv and the curves).
        self.panel.log.setMaximumBlockCount(LOG_LINES)
        self.panel.installEventFilter(self)  # the pointer over the form (Train included): see prepare_to_train
        self._connect()

    def _arrange(self) -> None:
        """The form on the left; on the right the tabs: live curves (the Keras-like log under them), results,
        Try it and past runs."""
        curves = QSplitter(Qt.Orientation.Vertical)
        curves.addWidget(self.plots)
        curves.addWidget(self.panel.log)
        curves.setStretchFactor(0, 1)
        curves.setSizes([600, 60])  # the log: three lines, the curves get the height
        self.tabs = QTabWidget()
        self.tabs.addTab(curves, "Live curves")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.tryit, "Try it")
        self.tabs.addTab(self.health, "Layer health")
        self.tabs.addTab(self.lr_finder, "Find LR")
        self.tabs.addTab(self.projection, "What it learned")
        self.tabs.addTab(self.runs, "Runs")
        self.curves_page = curves
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.panel)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.panel and event.type() == QEvent.Type.Enter:
            self.prepare_to_train()
        return super().eventFilter(watched, event)

    def _timer(self, interval_ms: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        return timer

    def _connect(self) -> None:
        self.results.filled.connect(self._results_filled)
        self.panel.train_clicked.connect(self.start_training)
        self.panel.pause_clicked.connect(self.pause)
        self.panel.resume_clicked.connect(self.resume)
        self.panel.stop_clicked.connect(self.stop)
        self.panel.dataset_chosen.connect(self.choose_in_background)
        self.results.export_requested.connect(self._export)
        self.results.open_folder.connect(lambda: actions.open_folder(self, self.last_result))

    def _export(self, fmt_id: str) -> None:
        """A result button: the run's network (and weights) when the format uses them, else the current one."""
        uses_run = EXPORT_FORMATS[fmt_id].uses_weights
        project = self.run_project if uses_run else self.run_project or self.project
        actions.export_as(self, fmt_id, self.last_result, project, self.document.path if self.document else None)

    # -- the project ----------------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Follow an editor ``Document``: its project, undo stack, analysis, settings changes and project swaps."""
        self.document = document
        document.project_replaced.connect(self._project_replaced)
        document.analyzed.connect(self._analyzed)
        document.training_changed.connect(self._training_changed)
        document.path_changed.connect(lambda: self.panel.set_path(document.path))
        self._project_replaced()

    def set_project(self, project: Project, stack: QUndoStack | None = None) -> None:
        """Use a bare project (no editor around it), optionally with an undo stack: the dashboard follows its
        graph and training settings itself."""
        if self.project is not None and self.document is None:
            self.project.graph.changed.disconnect(self._graph_changed)
            self.project.training_changed.disconnect(self._training_changed)
        self.project, self.stack = project, stack
        self.panel.set_project(project, stack)
        project.graph.changed.connect(self._graph_changed)
        project.training_changed.connect(self._training_changed)
        self._graph_changed()
        self.schedule_dataset()
        self.runs.set_project(project, self.runs_root)

    def _project_replaced(self) -> None:
        doc = self.document
        assert doc is not None
        if self.project is not None and doc.project is not self.project:
            self.forget_run()
        self.project, self.stack = doc.project, doc.undo_stack
        self.panel.set_project(self.project, self.stack, doc.path)
        self._analyzed(doc.analysis)
        self.schedule_dataset()
        self.runs.set_project(self.project, self.runs_root)

    def _graph_changed(self) -> None:
        """A bare dashboard (no editor document) analyses the network against its dataset itself."""
        if self.project is not None:
            self._analyzed(analyze(self.project.graph, self.project.training))

    def _analyzed(self, analysis: Analysis) -> None:
        errors = analysis.errors
        if not errors:
            self.panel.set_graph_problem(None)
            return
        first = errors[0].message
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        self.panel.set_graph_problem(f"the network has a problem: {first}{more}")

    def _training_changed(self, *_: Any) -> None:
        """The settings were set (an edit, its undo or redo): another dataset or split loads for the preview, and
        a run is likely to follow (``prepare_to_train``)."""
        self.schedule_dataset()
        self.prepare_to_train()
        if self.panel.augment.is_on():  # its samples are drawn from the tensors, as training draws them
            self.dataset_when_ready()
        if self.document is None and self.project is not None:  # with an editor, its document re-analyses
            self._graph_changed()

    # -- intent to train (the dataset's preview, tensors and choice: gui.training.dashboard_data) -------------
    def prepare_to_train(self) -> None:
        """The user shows intent to train (the pointer over the form or the toolbar's Train, a settings edit):
        torch and the first run's one-time imports (``torch._dynamo``) load in a background thread now, so Train
        then starts sooner (a cold first Train takes ~2 s more to its first batch). An idle window imports none of
        it: ~800 MB less. The run loads its own data; the views that need the tensors ask ``dataset_when_ready``."""
        if self.project is not None:
            warm_up()

    def forget_run(self) -> None:
        """Another project (File > New, Open, an example): the last run belongs to the old one, so its result,
        curves, log, results and Try it go (they went on saying "Finished · test accuracy …" of a network no
        longer shown, and File > Export offered its weights). The run folder stays in Runs of the old project."""
        if self.run is not None:  # editing, New and Open included, is locked while a run goes
            return
        self.last_result = self.run_project = self.last_model = None
        self._pending_progress = None
        self.event_count = {}
        self.plots.reset()
        self.results.clear(IDLE_SUMMARY)
        self.tryit.clear()
        self.panel.forget_run()
        self.tabs.setCurrentWidget(self.curves_page)

    # -- running ---------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.run is not None

    def snapshot(self) -> Project:
        if self.document is not None:
            return self.document.snapshot()
        if self.project is None:  # start_training checks first; a caller that did not is a bug, said plainly
            raise RuntimeError("the training dashboard has no project to snapshot yet")
        return from_dict(copy.deepcopy(self.project.to_dict()))

    def start_training(self) -> TrainingRun | None:
        if self.run is not None or self.project is None or not self.panel.train_button.isEnabled():
            return None
        project = self.snapshot()
        if self.panel.refuses(project):  # what torchcanvas train refuses, in its words (core.training.precheck)
            return None
        self.run_project = project
        start = None
        if project.extra:  # may name initial weights
            start = initial_weights(project, self.document.path if self.document is not None else None)
        run = TrainingRun(project, out_dir=self.runs_root, trainer_factory=self.trainer_factory, initial_weights=start)
        run.watchers = self.health.watchers_for(project)  # layer health looks inside the run (gui.inspect)
        run.training_event.connect(self._on_event)
        run.finished.connect(self._on_finished)
        self.run = run
        self.event_count = {}
        self._pending_progress = None
        self.plots.reset()
        self.plots.set_epochs(project.training.epochs)  # the axis is drawn now, while the run starts up
        self.results.clear()
        self.tryit.clear("Training… when the run ends, try the trained network here.")
        self.panel.begin_run(project.training)
        self.panel.set_state("running")
        if not torch_ready():  # pressed cold: the run's thread imports torch first, seconds the bar says so
            self.panel.progress.setFormat(STARTING_TORCH)
        self.tabs.setCurrentWidget(self.curves_page)
        self.running_changed.emit(True)
        run.start()
        return run

    def pause(self) -> None:
        if self.run is not None:
            self.run.pause()
            self.panel.set_state("paused")

    def resume(self) -> None:
        if self.run is not None:
            self.run.resume()
            self.panel.set_state("running")

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop the run and wait up to ``timeout`` seconds for its thread; True when none is left."""
        run = self.run
        if run is None:
            return True
        self.panel.set_state("stopping")
        self.panel.progress.setFormat("Stopping…")
        ended = run.stop(timeout)
        if ended:  # nothing is lost: deliver the run's queued events (the last batches, "end") now
            QApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
            self._on_finished(run.result)
        return ended

    def _on_event(self, event: TrainEvent) -> None:
        if self.sender() is not self.run:  # a late event of a run that already ended
            return
        self.event_count[event.kind] = self.event_count.get(event.kind, 0) + 1
        self.plots.add_event(event)
        if event.kind == "batch":  # the plots keep every point; the progress bar shows the newest, 4 times a second
            self._pending_progress = event
            if not self._progress_timer.isActive():
                self._show_progress()
            return
        self._show_progress()  # a pending batch comes before an epoch's log line or the end
        self.panel.on_event(event)

    def _show_progress(self) -> None:
        """Show the newest batch progress. Painting the progress bar was two thirds of the GUI thread's work
        while a run trains (10 batch events a second, each painted twice: QProgressBar.setValue repaints at
        once, the new text once more); now it is painted at most 4 times a second, value and text together."""
        event, self._pending_progress = self._pending_progress, None
        if event is None or self.run is None:
            return
        bar = self.panel.progress
        bar.setUpdatesEnabled(False)  # no immediate repaint from setValue; enabling again schedules one paint
        try:
            self.panel.on_event(event)
        finally:
            bar.setUpdatesEnabled(True)
        self._progress_timer.start()

    def _on_finished(self, result: TrainResult | None) -> None:
        run = self.run
        if run is None or result is None or self.sender() not in (None, run):
            return
        run.wait()
        self.run = None
        self.last_result = result
        self.plots.finish()
        self.panel.end_run(result)
        self.last_model = getattr(run.trainer, "model", None)
        failed = result.status == "failed"  # its model did not learn: no predictions are drawn from it
        predict = None if failed else actions.predictor(self.last_model, run.project.training.loss)
        self.results.show_result(result, None if failed else run.data, predict)  # drawn over the next turns
        self.tryit.set_run(self.run_project, None if failed else getattr(result, "run_dir", None), run.data)
        run.release()  # the trainer, optimizer and tensors go now; the results keep only what they draw
        self.runs.add_result(result, self.run_project)
        if result.status in ("finished", "failed"):
            self.tabs.setCurrentWidget(self.results)
        if result.status == "failed":
            show_error(self, "Training failed", result.message)
        self.running_changed.emit(False)
        run.deleteLater()

    def _results_filled(self) -> None:
        if self.last_result is not None:
            self.run_finished.emit(self.last_result)

    # -- closing -----------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # a bare dashboard closed mid-run stops it, without asking
        self.stop(timeout=5.0)
        super().closeEvent(event)


def show_error(parent: QWidget, title: str, message: str) -> None:
    """A plain-language message box (never a traceback). Skipped when there is no screen to answer it."""
    if QApplication.platformName() in ("offscreen", "minimal"):
        log.info("%s: %s", title, message)
        return
    QMessageBox.warning(parent, title, message)
