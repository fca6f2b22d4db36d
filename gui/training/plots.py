"""Live training curves: loss (per batch, raw and smoothed, and per epoch), accuracy, learning rate, and a line
where two-phase fine-tuning began its second phase.

Events only append to preallocated numpy buffers (doubling when full) and mark the plots dirty; a timer
redraws once a second with ``setData`` on views of those buffers. pyqtgraph downsamples to the
screen and clips to the visible range, so hundreds of thousands of points stay smooth. The x axis is in
epochs everywhere (a batch in the middle of epoch 3 sits at 2.5), so batch and epoch curves line up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.widgets.plot_parts import COLORS, Curve, format_value, legend, make_plot, number, steady_range

if TYPE_CHECKING:
    from core.training.events import TrainEvent

# One redraw a second. Each costs the GUI thread ~10 ms of Python, and on a small machine every such
# millisecond is taken from the training loop (both need the GIL): at two a second a run trained from the
# window was ~5 % slower than ``torchcanvas train``. A curve that moves each second still reads as live.
REDRAW_MS = 1000
SMOOTHING = 0.8  # exponential moving average factor for the smoothed batch loss (bias-corrected)
PHASE_TWO = "Phase two:"  # how the trainer's notice starts when two-phase fine-tuning unfreezes every layer
PHASE_COLOUR = (140, 60, 170)


class LivePlots(QWidget):
    """Three plots side by side fed by TrainEvents, with a crosshair readout and a log-scale toggle for loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.phase_lines: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []  # where fine-tuning's phase two began
        self.phase_two_at: float | None = None
        self._make_curves()
        self._arrange()
        self._ema = 0.0
        self._ema_steps = 0
        self._dirty = False
        self._add_crosshairs()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        # The loss and accuracy plots keep a round y range (``steady_range``) until the user zooms or pans one.
        self._ranged = {widget: curves for widget, curves in self.curves_of.items() if widget is not self.lr_widget}
        self._manual: set[pg.PlotWidget] = set()
        self._y_ranges: dict[pg.PlotWidget, tuple[float, float]] = {}
        for widget in self._ranged:
            widget.getPlotItem().vb.sigRangeChangedManually.connect(lambda _mask, w=widget: self._manual.add(w))

    def _make_curves(self) -> None:
        self.loss_widget = make_plot("Loss ↓ better", "loss")  # short: a title must fit over a 120 px plot area
        self.acc_widget = make_plot("Accuracy ↑ better", "accuracy %")
        self.lr_widget = make_plot("Learning rate", "lr")
        loss, acc, lr = (w.getPlotItem() for w in (self.loss_widget, self.acc_widget, self.lr_widget))
        self.batch_loss = Curve(loss, "batch loss", COLORS["batch"], width=1)
        self.smooth_loss = Curve(loss, "batch loss (smoothed)", COLORS["smooth"], width=2)
        self.epoch_loss = Curve(loss, "training loss / epoch", COLORS["train"], width=2, symbol="o")
        self.val_loss = Curve(loss, "validation loss / epoch", COLORS["val"], width=2, symbol="s")
        self.epoch_acc = Curve(acc, "training accuracy", COLORS["train"], width=2, symbol="o")
        self.val_acc = Curve(acc, "validation accuracy", COLORS["val"], width=2, symbol="s")
        self.lr = Curve(lr, "learning rate", COLORS["lr"], width=2)
        self.curves = [
            self.batch_loss,
            self.smooth_loss,
            self.epoch_loss,
            self.val_loss,
            self.epoch_acc,
            self.val_acc,
            self.lr,
        ]
        self.curves_of: dict[pg.PlotWidget, list[Curve]] = {  # each plot and its curves
            self.loss_widget: [self.batch_loss, self.smooth_loss, self.epoch_loss, self.val_loss],
            self.acc_widget: [self.epoch_acc, self.val_acc],
            self.lr_widget: [self.lr],
        }
        self.acc_widget.setXLink(self.loss_widget)
        self.lr_widget.setXLink(self.loss_widget)

    def _arrange(self) -> None:
        """The readout and the log-scale box over the three plots, side by side (the dock is wide and short,
        so the canvas keeps most of the height), and one legend under them: never over a curve."""
        self.log_scale = QCheckBox("Log scale for loss")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis: small improvements late in training show up.")
        self.log_scale.toggled.connect(self._set_log_scale)
        self.readout = QLabel("Hover over a plot to read its values.")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setStyleSheet("color: #444;")
        top = QHBoxLayout()
        top.addWidget(self.readout, 1)
        top.addWidget(self.log_scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        row = QHBoxLayout()
        row.addWidget(self.loss_widget, 3)
        row.addWidget(self.acc_widget, 3)
        row.addWidget(self.lr_widget, 2)
        layout.addLayout(row, 1)
        # One legend for all three plots: the colours mean the same in each.
        self.legend = legend([self.batch_loss, self.smooth_loss, self.epoch_loss, self.val_loss, self.lr])
        self.legend.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.legend)

    def _add_crosshairs(self) -> None:
        self._lines: list[tuple[pg.PlotWidget, pg.InfiniteLine, list[Curve]]] = []
        for widget, curves in self.curves_of.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            widget.addItem(line, ignoreBounds=True)
            self._lines.append((widget, line, curves))
            widget.scene().sigMouseMoved.connect(lambda pos, w=widget: self._hover(w, pos))

    # -- feeding -----------------------------------------------------------------------------------
    def reset(self) -> None:
        for curve in self.curves:
            curve.reset()
        for widget in (self.loss_widget, self.acc_widget, self.lr_widget):
            widget.getPlotItem().enableAutoRange()
        self._manual.clear()
        self._y_ranges.clear()
        self._ema, self._ema_steps = 0.0, 0
        self._dirty = False
        self.readout.setText("Hover over a plot to read its values.")
        for widget, line in self.phase_lines:
            widget.removeItem(line)
        self.phase_lines.clear()
        self.phase_two_at = None

    def add_event(self, event: TrainEvent) -> None:
        kind = event.kind
        if kind == "start" and event.epochs:
            self.set_epochs(event.epochs)
            return
        if kind == "batch":
            batches = event.batches or 1
            x = (event.step or 0) / batches
            loss = number(event.loss)
            self.batch_loss.series.append(x, loss)
            if math.isfinite(loss):
                self._ema = SMOOTHING * self._ema + (1 - SMOOTHING) * loss
                self._ema_steps += 1
                smooth = self._ema / (1 - SMOOTHING**self._ema_steps)
            else:
                smooth = math.nan
            self.smooth_loss.series.append(x, smooth)
            if event.lr is not None:
                self._add_lr(x, number(event.lr))
        elif kind == "epoch":
            if event.lr is not None:
                self._add_lr(float(event.epoch), number(event.lr))
            self.lr.drawn = -1  # its last point moved: draw it once an epoch
            self._add_epoch(event.epoch, event.loss, event.val_loss, event.accuracy, event.val_accuracy)
        elif kind == "notice" and event.message.startswith(PHASE_TWO):
            # the trainer says so as the epoch starts: its line goes where the previous epoch ended
            batches = event.batches or 0
            self.mark_phase_two(event.step / batches if batches and event.step else max(0.0, event.epoch - 1.0))
            return
        else:
            return
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def mark_phase_two(self, x: float) -> None:
        """A vertical line on every plot where fine-tuning's second phase began (every layer trains from there, at
        a lower learning rate): a jump in the loss or the rate there is that, not a bug."""
        self.phase_two_at = x
        for widget in (self.loss_widget, self.acc_widget, self.lr_widget):
            named = widget is self.loss_widget  # one label is enough: the three plots share the x axis
            line = pg.InfiniteLine(
                pos=x,
                angle=90,
                movable=False,
                pen=pg.mkPen(PHASE_COLOUR, width=1.5),
                label="phase two" if named else None,
                labelOpts={"position": 0.9, "color": PHASE_COLOUR, "anchors": [(0, 0.5), (0, 0.5)]},
            )
            widget.addItem(line, ignoreBounds=True)
            self.phase_lines.append((widget, line))

    def _add_lr(self, x: float, lr: float) -> None:
        """A point where the rate changes; while it stays the same the last point only moves right (the line
        looks the same, and an unchanged plot is not repainted)."""
        series = self.lr.series
        if len(series) >= 2 and series.y[-1] == lr == series.y[-2]:
            series.x[-1] = x
            return
        series.append(x, lr)

    def set_epochs(self, epochs: int) -> None:
        """Fix the x axis to the whole run: it shows how far training has come, and the axis (costly to
        redraw) stays still while points arrive."""
        for widget in (self.loss_widget, self.acc_widget, self.lr_widget):
            widget.getPlotItem().setXRange(0, max(1, epochs), padding=0.02)

    def set_history(self, history: list[dict[str, Any]]) -> None:
        """Show finished epochs only (a run loaded from disk has no batch events)."""
        self.reset()
        for row in history:
            get = row.get
            self._add_epoch(get("epoch", 0), get("loss"), get("val_loss"), get("accuracy"), get("val_accuracy"))
            if get("lr") is not None:
                self.lr.series.append(float(get("epoch", 0)), number(get("lr")))
        self._dirty = True
        self.redraw()

    def _add_epoch(self, epoch: float, loss: Any, val_loss: Any, accuracy: Any, val_accuracy: Any) -> None:
        """Per-epoch points; a figure that was not measured (no validation split, regression) is left out."""
        x = float(epoch)
        for curve, value, scale in (
            (self.epoch_loss, loss, 1),
            (self.val_loss, val_loss, 1),
            (self.epoch_acc, accuracy, 100),
            (self.val_acc, val_accuracy, 100),
        ):
            if value is not None:
                curve.series.append(x, scale * number(value))

    def redraw(self) -> None:
        """Push new points to the screen; called by the timer, and once more when a run ends."""
        if not self._dirty:
            self._timer.stop()
        self._dirty = False
        for curve in self.curves:
            curve.redraw()
        for widget in self._ranged:
            self._keep_y_range(widget)
        if len(self.lr.series):  # a constant rate would otherwise get a meaningless zoomed-in axis
            lo, hi = float(np.nanmin(self.lr.series.y)), float(np.nanmax(self.lr.series.y))
            if math.isfinite(lo) and math.isfinite(hi):
                self.lr_widget.setYRange(0, hi * 1.1 if hi > 0 else 1.0, padding=0)

    def _keep_y_range(self, widget: pg.PlotWidget) -> None:
        """Set the plot's round y range when its points leave it (a log-scale loss and a plot the user zoomed
        or panned are left to pyqtgraph and the user)."""
        if widget in self._manual or (widget is self.loss_widget and self.log_scale.isChecked()):
            return
        values = [curve.series.y for curve in self._ranged[widget] if len(curve.series)]
        finite = np.concatenate(values) if values else np.empty(0)
        finite = finite[np.isfinite(finite)]
        if not finite.size:
            return
        current = self._y_ranges.get(widget)
        wanted = steady_range(current, float(finite.min()), float(finite.max()))
        if current != wanted:
            self._y_ranges[widget] = wanted
            widget.setYRange(*wanted, padding=0)

    def _set_log_scale(self, on: bool) -> None:
        item = self.loss_widget.getPlotItem()
        item.setLogMode(y=on)
        self._y_ranges.pop(self.loss_widget, None)
        if on:
            item.enableAutoRange(y=True)
        else:
            self._keep_y_range(self.loss_widget)

    def finish(self) -> None:
        """The run ended: draw every curve as it stands."""
        for curve in self.curves:
            curve.drawn = -1
        self._dirty = True
        self.redraw()

    def point_counts(self) -> dict[str, int]:
        return {curve.name: len(curve.series) for curve in self.curves}

    def drawn_counts(self) -> dict[str, int]:
        """How many points each curve item holds on screen (after the last redraw)."""
        counts = {}
        for curve in self.curves:
            x, _ = curve.item.getOriginalDataset()
            counts[curve.name] = 0 if x is None else len(x)
        return counts

    # -- crosshair -----------------------------------------------------------------------------------
    def _hover(self, widget: pg.PlotWidget, pos: QPointF) -> None:
        item = widget.getPlotItem()
        if not item.sceneBoundingRect().contains(pos):
            return
        x = item.vb.mapSceneToView(pos).x()
        parts = [f"epoch {x:.2f}"]
        for w, line, curves in self._lines:
            line.setVisible(True)
            line.setPos(x)
            if w is not widget:
                continue
            for curve in curves:
                point = curve.series.nearest(x)
                if point is not None and math.isfinite(point[1]):
                    parts.append(f"{curve.name}: {format_value(point[1])}")
        self.readout.setText("   ".join(parts))

    def hover_at(self, widget: pg.PlotWidget, x: float, y: float) -> None:
        """Move the crosshair as if the mouse were at data point (x, y) of ``widget`` (for tests)."""
        scene_pos = widget.getPlotItem().vb.mapViewToScene(pg.Point(x, y))
        self._hover(widget, scene_pos)
