"""Live training curves: loss (per batch, raw and smoothed, and per epoch), accuracy, learning rate.

Events only append to preallocated numpy buffers (doubling when full) and mark the plots dirty; a timer
redraws once a second with ``setData`` on views of those buffers. pyqtgraph downsamples to the
screen and clips to the visible range, so hundreds of thousands of points stay smooth. The x axis is in
epochs everywhere (a batch in the middle of epoch 3 sits at 2.5), so batch and epoch curves line up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.panels.wrapping import let_wrap

# One redraw a second. Each costs the GUI thread ~10 ms of Python, and on a small machine every such
# millisecond is taken from the training loop (both need the GIL): at two a second a run trained from the
# window was ~5 % slower than ``torchcanvas train``. A curve that moves each second still reads as live.
REDRAW_MS = 1000
SMOOTHING = 0.8  # exponential moving average factor for the smoothed batch loss (bias-corrected)

COLORS = {
    "batch": (150, 180, 230),
    "smooth": (31, 100, 200),
    "train": (31, 119, 180),
    "val": (230, 110, 20),
    "lr": (60, 150, 60),
}


class Series:
    """Growable (x, y) float arrays; ``x``/``y`` are views of the filled part."""

    __slots__ = ("_n", "_x", "_y")

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float) -> None:
        if self._n == len(self._x):
            size = max(2 * len(self._x), 16)
            self._x = np.resize(self._x, size)
            self._y = np.resize(self._y, size)
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        for x, y in zip(xs, ys):
            self.append(x, y)

    def clear(self) -> None:
        self._n = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def nearest(self, x: float) -> tuple[float, float] | None:
        """The point whose x is closest to ``x`` (x values are appended in increasing order)."""
        if not self._n:
            return None
        xs = self.x
        i = int(np.searchsorted(xs, x))
        if i >= self._n or (i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x)):
            i -= 1
        return float(xs[i]), float(self._y[i])


def nice_range(lo: float, hi: float) -> tuple[float, float]:
    """A y range a little wider than [lo, hi] whose ends sit on a round step (a tenth to a fifth of the span).
    Values that are all positive never get a negative axis, and one that starts at zero when the smallest is
    under half the largest (a falling loss: the axis settles at once instead of following each new low)."""
    if 0 <= lo <= hi / 2:
        lo = 0.0
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    low, high = lo - 0.03 * span, hi + 0.03 * span
    power = 10.0 ** math.floor(math.log10(span))
    step = next(f * power for f in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0) if f * power * 10 >= span)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    return (0.0 if lo >= 0 > low else low), high


def steady_range(current: tuple[float, float] | None, lo: float, hi: float) -> tuple[float, float]:
    """The plot's y range for points from ``lo`` to ``hi``: the current one while they fit in it and fill at
    least 40 % of it, else a new ``nice_range``. So the axis, the costliest part of a redraw, is drawn again a
    few times per run, not at every redraw."""
    if current is not None:
        low, high = current
        if low <= lo and hi <= high and (hi - lo) >= 0.4 * (high - low):
            return current
    return nice_range(lo, hi)


def number(value: Any) -> float:
    """A float for plotting; None (not measured) becomes NaN, which draws as a gap."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class _Curve:
    def __init__(self, plot: pg.PlotItem, name: str, color: tuple[int, int, int], *, width: float = 2, symbol=None):
        pen = pg.mkPen(color=color, width=width)
        kwargs: dict[str, Any] = {"pen": pen, "name": name, "connect": "finite"}
        if symbol:
            kwargs.update(symbol=symbol, symbolSize=7, symbolBrush=color, symbolPen=None)
        self.name = name
        self.color = color
        self.symbol = symbol
        self.series = Series()
        self.item = plot.plot([], [], **kwargs)
        self.item.setDownsampling(auto=True, method="peak")
        self.item.setClipToView(True)
        self.drawn = 0

    def redraw(self) -> None:
        if self.drawn != len(self.series):
            self.item.setData(self.series.x, self.series.y)
            self.drawn = len(self.series)

    def reset(self) -> None:
        self.series.clear()
        self.drawn = -1
        self.redraw()


def make_plot(title: str, y_label: str, *, x_label: str = "epoch") -> pg.PlotWidget:
    """A plot without a legend inside it (a legend over the data hides the curves); ``legend`` goes under it."""
    widget = pg.PlotWidget(background="w")
    item = widget.getPlotItem()
    item.setTitle(title, color="#222", size="9pt")
    item.setLabel("left", y_label)
    item.setLabel("bottom", x_label)
    # no grid: pyqtgraph redraws grid lines with the axes at every range change, tripling the cost of a redraw
    item.setMenuEnabled(False)
    item.getAxis("left").enableAutoSIPrefix(False)  # "0.003", not "3" with a "(x0.001)" a beginner misses
    item.getAxis("left").setStyle(textFillLimits=[(0, 0.5), (2, 0.3)])  # a short plot: a few numbers, apart
    # Parts that rarely change are painted once into a pixmap and then only copied: a redraw while training
    # runs then makes few Python-to-Qt calls, each of which may wait for the GIL the training thread holds.
    cached = [item.titleLabel, *(item.getAxis(side) for side in ("left", "bottom"))]
    for part in cached:
        part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    widget.setMinimumSize(170, 100)  # three fit beside the training settings in a 1280-pixel window
    return widget


LEGEND_NAMES = {  # one legend serves all plots: training and validation have the same colours in each
    "batch loss": "loss per batch",
    "batch loss (smoothed)": "smoothed",
    "training loss / epoch": "training (per epoch)",
    "validation loss / epoch": "validation (per epoch)",
}


def legend(curves: list[_Curve]) -> QLabel:
    """The curves' names in their colours, wrapping to the width it is given."""
    parts = []
    for curve in curves:
        r, g, b = curve.color
        mark = {"o": "●", "s": "■"}.get(curve.symbol or "", "━")
        name = LEGEND_NAMES.get(curve.name, curve.name).replace(" ", "&nbsp;")
        parts.append(f"<span style='color:rgb({r},{g},{b})'>━{mark}━</span>&nbsp;{name}")
    label = QLabel("&nbsp;&nbsp; ".join(parts))
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    let_wrap(label)
    return label


class LivePlots(QWidget):
    """Three plots side by side fed by TrainEvents, with a crosshair readout and a log-scale toggle for loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_widget = make_plot("Loss ↓ better", "loss")  # short: a title must fit over a 120 px plot area
        self.acc_widget = make_plot("Accuracy ↑ better", "accuracy %")
        self.lr_widget = make_plot("Learning rate", "lr")
        loss, acc, lr = (w.getPlotItem() for w in (self.loss_widget, self.acc_widget, self.lr_widget))
        self.batch_loss = _Curve(loss, "batch loss", COLORS["batch"], width=1)
        self.smooth_loss = _Curve(loss, "batch loss (smoothed)", COLORS["smooth"], width=2)
        self.epoch_loss = _Curve(loss, "training loss / epoch", COLORS["train"], width=2, symbol="o")
        self.val_loss = _Curve(loss, "validation loss / epoch", COLORS["val"], width=2, symbol="s")
        self.epoch_acc = _Curve(acc, "training accuracy", COLORS["train"], width=2, symbol="o")
        self.val_acc = _Curve(acc, "validation accuracy", COLORS["val"], width=2, symbol="s")
        self.lr = _Curve(lr, "learning rate", COLORS["lr"], width=2)
        self.curves = [
            self.batch_loss,
            self.smooth_loss,
            self.epoch_loss,
            self.val_loss,
            self.epoch_acc,
            self.val_acc,
            self.lr,
        ]
        self.acc_widget.setXLink(self.loss_widget)
        self.lr_widget.setXLink(self.loss_widget)

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
        row = QHBoxLayout()  # side by side: the dock is wide and short, so the canvas keeps most of the height
        row.addWidget(self.loss_widget, 3)
        row.addWidget(self.acc_widget, 3)
        row.addWidget(self.lr_widget, 2)
        layout.addLayout(row, 1)
        # One legend for all three plots (the colours mean the same in each), under them: never over a curve.
        self.legend = legend([self.batch_loss, self.smooth_loss, self.epoch_loss, self.val_loss, self.lr])
        self.legend.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.legend)

        self._ema = 0.0
        self._ema_steps = 0
        self._dirty = False
        self._lines: list[tuple[pg.PlotWidget, pg.InfiniteLine, list[_Curve]]] = []
        for widget, curves in (
            (self.loss_widget, [self.batch_loss, self.smooth_loss, self.epoch_loss, self.val_loss]),
            (self.acc_widget, [self.epoch_acc, self.val_acc]),
            (self.lr_widget, [self.lr]),
        ):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            widget.addItem(line, ignoreBounds=True)
            self._lines.append((widget, line, curves))
            widget.scene().sigMouseMoved.connect(lambda pos, w=widget: self._hover(w, pos))
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        # The loss and accuracy plots keep a round y range (``nice_range``) until the user zooms or pans one.
        self._ranged: dict[pg.PlotWidget, list[_Curve]] = {
            self.loss_widget: [self.batch_loss, self.smooth_loss, self.epoch_loss, self.val_loss],
            self.acc_widget: [self.epoch_acc, self.val_acc],
        }
        self._manual: set[pg.PlotWidget] = set()
        self._y_ranges: dict[pg.PlotWidget, tuple[float, float]] = {}
        for widget in self._ranged:
            widget.getPlotItem().vb.sigRangeChangedManually.connect(lambda _mask, w=widget: self._manual.add(w))

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

    def add_event(self, event: Any) -> None:
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
        else:
            return
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

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
    def _hover(self, widget: pg.PlotWidget, pos: Any) -> None:
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


def format_value(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"
