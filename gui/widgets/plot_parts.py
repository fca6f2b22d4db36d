"""The pieces the live plots are made of: growable point buffers, a curve on a plot, the plot itself, the
legend under the plots, and the round y range that keeps an axis still while points arrive."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel

from gui.panels.wrapping import let_wrap

LEFT_AXIS_PX = 60

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


class Curve:
    """One named line (with its points) on a plot; ``redraw`` hands pyqtgraph only what changed."""

    def __init__(self, plot: pg.PlotItem, name: str, color: tuple[int, int, int], *, width: float = 2, symbol=None):
        pen = pg.mkPen(color=color, width=width)
        kwargs: dict[str, Any] = {"pen": pen, "name": name, "connect": "finite"}
        if symbol:  # a point per epoch: the symbols are rebuilt in Python whenever pyqtgraph updates the item,
            # so it updates only when points arrive (no range limit to follow the view), with a ready brush
            kwargs.update(symbol=symbol, symbolSize=7, symbolBrush=pg.mkBrush(color), symbolPen=None)
            kwargs.update(dynamicRangeLimit=None)
        self.name = name
        self.color = color
        self.symbol = symbol
        self.series = Series()
        self.item = plot.plot([], [], **kwargs)
        if not symbol:  # a point per batch: downsampled to the screen and clipped to the view (with symbols
            # these made every change of the view range rebuild them: the first redraw of a run cost ~25 ms)
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
    # A fixed width, room for "0.0005": an axis that widened for its first numbers re-laid out and repainted
    # the whole plot in the middle of the first epochs.
    item.getAxis("left").setWidth(LEFT_AXIS_PX)
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


def legend(curves: list[Curve]) -> QLabel:
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


def format_value(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"
