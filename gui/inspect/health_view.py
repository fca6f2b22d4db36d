"""The Layer health tab of the dashboard: per layer, one number over time as a small heat map (gradient norm,
update/weight ratio, share of dead ReLU units, share of saturated sigmoid/tanh units), and the diagnoses of
``core.inspect.health`` as plain sentences that name the node and the fix.

The numbers come from ``HealthFeed`` (copies, in groups, a few a second at most); the view keeps at most
``MAX_COLUMNS`` samples (older ones are merged two into one, so a long run still fits) and repaints once per
group. Unticking "Watch layer health" trains the next run without the watcher at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.inspect import tensorboard
from gui import style
from gui.inspect.health_feed import METRICS, HealthFeed, HealthPoint
from gui.inspect.heatmap import HeatMap

MAX_COLUMNS = 240
ZERO = 1e-12  # where a log scale draws an exact 0
# metric -> (menu text, log10 scale?, fixed range or None for the data's own, how a value reads)
SHOWN = {
    "grad_norm": ("Gradient norm (log10)", True, None, "gradient norm {:.2g}"),
    "update_ratio": ("Update / weight ratio (log10; about -3 is healthy)", True, (-6.0, 0.0), "update/weight {:.2g}"),
    "dead": ("Dead ReLU units (share)", False, (0.0, 1.0), "{:.0%} of units dead"),
    "saturated": ("Saturated sigmoid/tanh outputs (share)", False, (0.0, 1.0), "{:.0%} saturated"),
}
HEALTHY = "Nothing wrong seen so far: the gradients, the updates and the activations look healthy."
SEVERITY = {"nan": "error", "exploding": "error", "chance": "error"}  # the run is lost; the others are warnings


class HealthView(QWidget):
    node_activated = Signal(str)  # a diagnosis clicked: the node it names

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feed = HealthFeed(self)
        self.feed.arrived.connect(self.add)
        self.more: list[Callable[[Any], list[Any]]] = []  # other views looking inside the same run (layer output)
        self.enabled = QCheckBox("Watch layer health while training")
        self.enabled.setChecked(True)
        self.enabled.setToolTip("Samples gradients and activations every few batches (under 5% of the run's time).")
        self.tensorboard = QCheckBox("TensorBoard histograms")
        if tensorboard.available():
            self.tensorboard.setToolTip(
                "Writes each layer's weight and gradient histograms into the run folder's tensorboard/ "
                "(tensorboard --logdir RUN/tensorboard shows them)."
            )
        else:
            self.tensorboard.setEnabled(False)
            self.tensorboard.setText("TensorBoard histograms (not installed)")
            self.tensorboard.setToolTip(tensorboard.INSTALL)
        self.shown_metric = QComboBox()  # not `metric`: that name is QWidget.metric(), which Qt calls
        # as wide as a short name, not its longest item: a 1280-pixel window keeps room for the docks beside it
        self.shown_metric.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.shown_metric.setMinimumContentsLength(26)
        for key in METRICS:
            self.shown_metric.addItem(SHOWN[key][0], key)
        self.shown_metric.currentIndexChanged.connect(self.redraw)
        self.heat = HeatMap()
        self.heat.max_row = 26
        self.heat.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)  # its rows' height
        self.scale = QLabel()
        self.status = QLabel()
        self.diagnoses = QListWidget()
        self.diagnoses.setWordWrap(True)
        self.diagnoses.itemClicked.connect(self._clicked)
        ticks = QVBoxLayout()  # one above the other: side by side they widened the dock past a 1280-pixel window
        ticks.addWidget(self.enabled)
        ticks.addWidget(self.tensorboard)
        top = QHBoxLayout()
        top.addLayout(ticks)
        top.addStretch(1)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.shown_metric)
        upper = QWidget()
        box = QVBoxLayout(upper)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(top)
        box.addWidget(self.heat)
        box.addWidget(self.scale)
        box.addWidget(self.status)
        box.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(self.diagnoses)
        split.setSizes([260, 300])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.clear()

    # -- a run ---------------------------------------------------------------------------------------------
    def watchers_for(self, project: Any) -> list[Any]:
        """The watchers to hand a new run of ``project``: health's (unless unticked), TensorBoard's (when ticked)
        and those of ``more``; forgets the last run's numbers."""
        self.clear()
        others = [watcher for make in self.more for watcher in make(project)]
        if self.tensorboard.isChecked():
            others.insert(0, tensorboard.TensorBoardWatcher())
        if not self.enabled.isChecked():
            self.status.setText("Layer health is off for this run.")
            return others
        return [self.feed.watcher(project), *others]

    def clear(self) -> None:
        self.names: list[str] = []
        self.node_ids: dict[str, str] = {}
        self.steps: list[int] = []
        self.columns: list[dict[str, np.ndarray]] = []  # per sample: metric -> one value per name (NaN: none)
        self.messages: list[str] = []
        self.diagnoses.clear()
        self.status.setText("")
        self.redraw()

    def add(self, points: list[HealthPoint], diagnoses: list[Any]) -> None:
        """A group from the feed (GUI thread)."""
        for point in points:
            for name, node_id in zip(point.names, point.node_ids, strict=True):
                if name not in self.node_ids:
                    self.names.append(name)
                    self.node_ids[name] = node_id or ""
            self.steps.append(point.step)
            rows = [self.names.index(name) for name in point.names]
            column = {}
            for m in METRICS:
                values = np.full(len(self.names), np.nan)
                values[rows] = [np.nan if v is None else v for v in point.values[m]]
                column[m] = values
            self.columns.append(column)
        while len(self.columns) > MAX_COLUMNS:  # merge neighbours: half the columns, the whole run still shown
            self.steps = self.steps[1::2]
            self.columns = [_merge(a, b) for a, b in zip(self.columns[0::2], self.columns[1::2], strict=False)]
        if diagnoses and self.diagnoses.count() and not self.messages:
            self.diagnoses.clear()  # the "nothing wrong" line goes when something is
        for diagnosis in diagnoses:
            self.messages.append(diagnosis.message)
            item = QListWidgetItem(style.status_icon(SEVERITY.get(diagnosis.kind, "warning")), diagnosis.message)
            item.setData(Qt.ItemDataRole.UserRole, diagnosis.node)
            item.setToolTip(diagnosis.message)
            self.diagnoses.addItem(item)
        if not self.messages and self.steps and not self.diagnoses.count():
            item = QListWidgetItem(style.status_icon("ok"), HEALTHY)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.diagnoses.addItem(item)
        if points:
            last = points[-1]
            self.status.setText(
                f"{len(self.steps)} samples, the last at batch {last.step}: loss {last.loss:.4g} "
                f"(mean since the one before: {last.loss_mean:.4g})."
            )
        self.redraw()

    # -- drawing -------------------------------------------------------------------------------------------
    def matrix(self, metric: str | None = None, log: bool | None = None) -> np.ndarray:
        """[layers, samples] of one metric as drawn (log10 where the scale is), NaN where it does not apply."""
        metric = metric or self.shown_metric.currentData()
        out = np.full((len(self.names), len(self.columns)), np.nan)
        for c, column in enumerate(self.columns):
            values = column[metric]
            out[: len(values), c] = values
        out[~np.isfinite(out)] = np.nan
        if SHOWN[metric][1] if log is None else log:
            with np.errstate(invalid="ignore"):
                out = np.log10(np.maximum(out, ZERO))  # a gradient of 0 is drawn at 1e-12; NaN stays NaN
        return out

    def rows_of(self, metric: str) -> list[str]:
        """The layers that have this metric at all (the others would be grey rows)."""
        have = ~np.isnan(self.matrix(metric, log=False)).all(axis=1) if self.columns else []
        return [name for name, has in zip(self.names, have, strict=False) if has]

    def redraw(self) -> None:
        metric = self.shown_metric.currentData()
        text, log, fixed, words = SHOWN[metric]
        rows = self.rows_of(metric)
        values = self.matrix(metric)[[self.names.index(n) for n in rows]] if rows else np.zeros((0, 0))
        finite = values[np.isfinite(values)] if values.size else values
        low, high = fixed or ((float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
        steps = self.steps

        def tip(r: int, c: int) -> str:
            v = values[r, c]
            shown = "—" if math.isnan(v) else words.format(10**v if log else v)
            return f"{rows[r]} at batch {steps[c]}: {shown}"

        self.heat.empty_text = (
            f"No layer of this network has this number ({text.split(' (')[0].lower()})."
            if self.columns
            else "Press ▶ Train: each layer's health appears here as the network learns."
        )
        self.heat.set_values(values, low, high, rows, tip)
        ends = [f"{10**v:.2g}" if log else f"{v:.0%}" for v in (low, high)]
        self.scale.setText(
            f"Colour: dark blue {ends[0]} … yellow {ends[1]}{' (log scale)' if log else ''}; grey: not measured. "
            f"Batches {steps[0]}–{steps[-1]} left to right."
            if steps
            else ""
        )

    def _clicked(self, item: QListWidgetItem) -> None:
        node_id = self.node_ids.get(item.data(Qt.ItemDataRole.UserRole) or "")
        if node_id:
            self.node_activated.emit(node_id)


def _merge(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Two neighbouring samples as one: the mean of each value both have, else the one there is."""
    out = {}
    for metric in METRICS:
        size = max(len(a[metric]), len(b[metric]))
        pair = np.full((2, size), np.nan)
        pair[0, : len(a[metric])], pair[1, : len(b[metric])] = a[metric], b[metric]
        counts = (~np.isnan(pair)).sum(0)
        with np.errstate(invalid="ignore"):
            out[metric] = np.where(counts > 0, np.nansum(pair, 0) / np.maximum(counts, 1), np.nan)
    return out
