"""The training form's "3. Train" state: which of Train, Pause, Resume and Stop work now, why Train is off (the
data's problem first, then the network's), and a run's progress, log and failure from its start to its end.

``TrainingPanel`` (gui.training.panel) mixes this in: it owns the buttons, the progress bar, the log and the
``RunReport`` these methods drive; the dashboard calls them as a run starts, reports and ends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.settings import TrainingSettings
from core.training.precheck import check_before_training
from gui.training.panel_form import NOT_STARTED

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QGroupBox, QLabel, QProgressBar, QPushButton

    from gui.training.panel_form import KerasLog
    from gui.training.panel_run import RunReport


class PanelState:
    """The state half of ``TrainingPanel``: the attributes below are the panel's, set as it builds the form."""

    _graph_problem: str | None
    _data_problem: str | None
    _state: str
    _run_message: str
    report: RunReport
    settings_boxes: tuple[QGroupBox, ...]
    train_button: QPushButton
    pause_button: QPushButton
    resume_button: QPushButton
    stop_button: QPushButton
    reason: QLabel
    progress: QProgressBar
    log: KerasLog
    availability_changed: SignalInstance
    _said_before_training: tuple[str, ...] = ()  # the check's warnings, logged as the run begins

    def set_graph_problem(self, problem: str | None) -> None:
        self._graph_problem = problem
        self._update_buttons()

    def set_data_problem(self, problem: str | None) -> None:
        self._data_problem = problem
        self._update_buttons()

    def set_state(self, state: str) -> None:
        """idle | running | paused | stopping."""
        was, self._state = self._state, state
        if state == "paused":
            self.report.pause()
        elif was == "paused" and state == "running":
            self.report.resume()
        self.report.paused = state == "paused"
        for box in self.settings_boxes:
            box.setEnabled(state == "idle")
        self._update_buttons()

    @property
    def state(self) -> str:
        return self._state

    def blocked_reason(self) -> str:
        """Why Train cannot start now ('' when it can): the data's problem first, then the network's."""
        blocked = " Also ".join(p for p in (self._data_problem, self._graph_problem) if p)
        if self._state != "idle":
            return "A training run is in progress."
        return f"Train is off until this is fixed: {blocked}" if blocked else ""

    def _update_buttons(self) -> None:
        idle = self._state == "idle"
        blocked = self._graph_problem or self._data_problem
        self.train_button.setEnabled(idle and not blocked)
        self.train_button.setToolTip(self.blocked_reason() or "Train the network on the chosen dataset")
        self.availability_changed.emit(idle and not blocked, self.blocked_reason())
        self.pause_button.setEnabled(self._state == "running")
        self.resume_button.setEnabled(self._state == "paused")
        self.stop_button.setEnabled(self._state in ("running", "paused"))
        self.pause_button.setVisible(self._state != "paused")
        self.resume_button.setVisible(self._state == "paused")
        if idle and blocked:
            self.reason.setText(self.blocked_reason())
        elif not idle:
            self.reason.setStyleSheet("color: #555;")
            self.reason.setText("Training uses a copy of the network taken when you pressed Train.")
            return
        else:
            self.reason.setText(self._run_message)
        self.reason.setStyleSheet("color: #b00020;")

    def refuses(self, project: Any) -> bool:
        """Train pressed: the check ``torchcanvas train`` runs first (``core.training.precheck``), on the copy
        that would train. Its errors refuse the run in the CLI's words, under the buttons and in the log (the
        network's analysis may be older than the files on disk); its warnings are logged as the run begins."""
        found = check_before_training(project)
        self._said_before_training = tuple(found.warnings)
        if not found.errors:
            return False
        self._run_message = f"Cannot train: {found.refusal()}"
        self.log.add(self._run_message)
        self._update_buttons()
        return True

    # -- progress and log -----------------------------------------------------------------------------
    def begin_run(self, settings: TrainingSettings) -> None:
        self._run_message = ""
        self.report.begin(settings)
        for warning in self._said_before_training:  # as the CLI prints them before the first epoch
            self.log.add(f"warning: {warning}")
        self._said_before_training = ()

    def on_event(self, event: Any) -> None:
        self.report.show(event)

    def forget_run(self) -> None:
        """Another project: no progress, log or failure of the last run (which was the old project's)."""
        self._run_message = ""
        self.report.paused = False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(NOT_STARTED)
        self.log.clear()
        self._update_buttons()

    def end_run(self, result: Any) -> None:
        failure = self.report.end(result)
        if failure:
            self._run_message = f"Training failed: {failure}"
        self.set_state("idle")
