"""Find a learning rate: the dashboard tab that runs ``core.inspect.lr_find`` (fastai's range test) in a thread,
plots the smoothed loss against the rate on a log axis as the points come, marks the suggested rate, and sets it
as the project's learning rate with one click (one undoable edit: ``SetTrainingSettings``).

The test trains a fresh model of a snapshot of the project for at most ``STEPS`` batches (the model the user
trained is never touched); its points cross to the GUI thread through a queued signal. Find is refused while a
run trains (both would share the cores), and a run started meanwhile waits for nothing: the test is short.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.errors import plain_message
from gui.commands.training import SetTrainingSettings, push
from gui.widgets.plot_parts import make_plot

STEPS = 100
Runner = Callable[..., Any]  # lr_find(project, *, on_point) -> LrCurve


def _default_runner(project: Any, *, on_point: Callable[[float, float], None], project_path: Any = None) -> Any:
    # deferred: core.inspect.lr_find imports torch; the window paints and idles without it
    from core.inspect.lr_find import lr_find

    return lr_find(project, steps=STEPS, on_point=on_point, project_path=project_path)


class _Signals(QObject):
    point = Signal(float, float)  # rate, smoothed loss
    done = Signal(object, str)  # LrCurve or None, the failure in words


class LrFinderView(QWidget):
    """``find_rate()`` starts the test on ``context()``'s project; ``finished(curve or None)`` says it ended."""

    finished = Signal(object)

    def __init__(
        self, context: Callable[[], tuple[Any, Any]], runner: Runner | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context  # () -> (project, undo stack or None): what the suggestion is applied to
        self.snapshot: Callable[[], Any] = lambda: context()[0]  # the project the test trains (a copy)
        # the project's file: its imported weights lie beside it, and the test starts from them as training does
        self.project_path: Callable[[], Any] = lambda: None
        self.runner = runner or _default_runner
        self.curve: Any = None
        self.rates: list[float] = []
        self.losses: list[float] = []
        self.busy = False
        self.training = False
        self._signals = _Signals(self)
        self._signals.point.connect(self._point)
        self._signals.done.connect(self._done)
        self.find_button = QPushButton("Find a learning rate")
        self.find_button.setToolTip(
            f"Trains a copy of the network (from the weights training starts from) for up to {STEPS} batches with "
            "the rate rising from 1e-7 to 10, and suggests the rate where the loss falls fastest (fastai's "
            "lr_find); none when the loss does not fall at any rate."
        )
        self.find_button.clicked.connect(self.find_rate)
        self.use_button = QPushButton("Use it")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.apply)
        self.status = QLabel("Press Find: a short test run shows which learning rates make the network learn.")
        self.status.setWordWrap(True)
        self.plot = make_plot("Loss while the rate rises", "loss (smoothed)", x_label="learning rate (log scale)")
        self.plot.getPlotItem().setLogMode(x=True, y=False)
        self.line = self.plot.plot([], [], pen=pg.mkPen("#1a73e8", width=2))
        dashed = pg.mkPen("#d93025", width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        self.mark = pg.InfiniteLine(angle=90, pen=dashed, label="suggested", labelOpts={"color": "#d93025"})
        self.mark.setVisible(False)
        self.plot.addItem(self.mark)
        row = QHBoxLayout()
        row.addWidget(self.find_button)
        row.addWidget(self.use_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)

    def set_training(self, running: bool) -> None:
        """A run trains: no range test meanwhile (and applying a rate waits too: the form is locked)."""
        self.training = running
        self._buttons()

    def find_rate(self) -> bool:
        if self.busy or self.training:
            return False
        project = self.snapshot()
        path = self.project_path()
        where = {"project_path": path} if path is not None else {}
        self.busy, self.curve, self.rates, self.losses = True, None, [], []
        self.line.setData([], [])
        self.mark.setVisible(False)
        self.status.setText(f"Finding a learning rate: up to {STEPS} batches of a copy of the network…")
        self._buttons()
        signals = self._signals

        def work() -> None:
            try:
                curve = self.runner(project, on_point=lambda rate, loss: signals.point.emit(rate, loss), **where)
            except Exception as exc:  # the words of a TorchCanvasError, or one sentence for a bug
                signals.done.emit(None, plain_message(exc))
                return
            signals.done.emit(curve, "")

        threading.Thread(target=work, name="torchcanvas-lr-find", daemon=True).start()
        return True

    def reset(self) -> None:
        """Forget the last curve (another project); a test still running reports to nobody's harm."""
        if self.busy:
            return
        self.curve, self.rates, self.losses = None, [], []
        self.line.setData([], [])
        self.mark.setVisible(False)
        self.use_button.setText("Use it")
        self.status.setText("Press Find: a short test run shows which learning rates make the network learn.")
        self._buttons()

    def apply(self) -> None:
        """Set the suggested rate as the project's learning rate: one undo step."""
        project, stack = self.context()
        if self.curve is None or project is None or not math.isfinite(self.curve.suggestion):
            return
        rate = float(f"{self.curve.suggestion:.2g}")
        push(stack, SetTrainingSettings(project, {"lr": rate}, f"Use learning rate {rate:g} (found)"))
        self.status.setText(f"The learning rate is now {rate:g} (Edit > Undo puts {self.curve.current:g} back).")

    # -- answers -----------------------------------------------------------------------------------------
    def _point(self, rate: float, loss: float) -> None:
        self.rates.append(rate)
        self.losses.append(loss)
        if len(self.rates) % 5 == 0:  # a redraw every few points is enough to watch it grow
            self.line.setData(self.rates, self.losses)

    def _done(self, curve: Any, failure: str) -> None:
        self.busy = False
        self.curve = curve
        if curve is None:
            self.status.setText(f"The test could not run: {failure}")
        else:
            self.rates, self.losses = list(curve.rates), list(curve.losses)
            self.line.setData(self.rates, self.losses)
            if math.isfinite(curve.suggestion):
                self.mark.setValue(math.log10(curve.suggestion))  # the axis is log10 of the rate
                self.mark.setVisible(True)
                self.use_button.setText(f"Use {curve.suggestion:.2g}")
            self.status.setText(curve.message())
        self._buttons()
        self.finished.emit(curve)

    def _buttons(self) -> None:
        self.find_button.setEnabled(not self.busy and not self.training)
        usable = self.curve is not None and math.isfinite(self.curve.suggestion)
        self.use_button.setEnabled(usable and not self.busy and not self.training)


def attach(dashboard: Any) -> LrFinderView:
    """The dashboard's "Find LR" tab, on its project and undo stack."""
    view = LrFinderView(lambda: (dashboard.project, dashboard.stack))
    view.snapshot = dashboard.snapshot
    view.project_path = lambda: dashboard.document.path if dashboard.document is not None else None
    dashboard.running_changed.connect(view.set_training)
    return view
