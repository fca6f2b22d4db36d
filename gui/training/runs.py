"""The project's runs: one row per run with its settings and final figures; the curves of the selected runs
drawn over each other to compare them."""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from core.files.fileread import FileReadError, read_regular_file
from core.training.run_folder import SavedRun
from core.training.run_folder import project_runs as saved_project_runs
from gui.training.keras_compare import KerasComparison, table_cell
from gui.widgets.plot_parts import number
from gui.widgets.preview import class_colour

if TYPE_CHECKING:
    from core.files.project import Project
    from core.training.events import TrainResult
    from core.training.keras_compare import KerasRun

log = logging.getLogger(__name__)

HINT = "Select runs (Ctrl/Shift-click for several) to draw their curves over each other."
COLUMNS = ("Run", "Result", "Dataset", "Epochs", "Optimizer", "LR", "Batch", "Test score", "Test loss")
METRICS = {
    "val_loss": "validation loss",
    "loss": "training loss",
    "val_accuracy": "validation accuracy",
    "accuracy": "training accuracy",
}


@dataclass
class RunRecord:
    name: str
    status: str
    settings: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    test_accuracy: float | None = None
    test_loss: float | None = None
    run_dir: Path | None = None
    test_r2: float | None = None  # a regression's score (it has no accuracy)

    @classmethod
    def from_result(cls, result: TrainResult, project: Project | None, index: int) -> RunRecord:
        run_dir = Path(result.run_dir) if result.run_dir else None
        name = run_label(run_dir.name) if run_dir else f"run {index}"
        settings = project.training.to_dict() if project is not None else dict(result.summary.get("settings", {}))
        figures = getattr(result, "regression", None)
        r2 = figures.r2 if figures is not None else None
        history = list(result.history)
        return cls(name, result.status, settings, history, result.test_accuracy, result.test_loss, run_dir, r2)

    @classmethod
    def from_saved(cls, run: SavedRun) -> RunRecord:
        name = run_label(run.folder.name)
        r2 = _summary_number(run.folder, "test_r2") if run.test_accuracy is None else None
        return cls(name, run.status, run.settings, list(run.history), run.test_accuracy, run.test_loss, run.folder, r2)


def _summary_number(folder: Path, key: str) -> float | None:
    """One number of a run's summary.json (None when it has none or cannot be read: the row shows '–')."""
    try:
        summary = json.loads(read_regular_file(folder / "summary.json", 1 << 20, "run file").decode("utf-8"))
    except (FileReadError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    found = summary.get(key) if isinstance(summary, dict) else None
    return float(found) if isinstance(found, (int, float)) and not isinstance(found, bool) else None


def run_label(folder_name: str) -> str:
    """'20261123-195423_spiral-classifier' -> 'Nov 23, 19:54:23' (the folder name when it has no time stamp)."""
    try:
        stamp = datetime.datetime.strptime(folder_name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return folder_name
    suffix = folder_name.rsplit("_", 1)[-1] if folder_name.count("_") > 1 else ""
    label = stamp.strftime("%b %d, %H:%M:%S")
    return f"{label} ({suffix})" if suffix.isdigit() else label


def project_runs(runs_root: Path, project_name: str, limit: int = 200) -> list[RunRecord]:
    """The saved runs of the project named ``project_name``, oldest first (folder names start with the time)."""
    return project_runs_with_notes(runs_root, project_name, limit)[0]


def project_runs_with_notes(runs_root: Path, project_name: str, limit: int = 200) -> tuple[list[RunRecord], list[str]]:
    """The runs, and a note per run folder that was skipped because a file in it cannot be read."""
    saved, notes = saved_project_runs(runs_root, project_name, limit)
    for note in notes:
        log.warning("%s", note)
    return [RunRecord.from_saved(run) for run in saved], notes


class RunsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.project: Project | None = None
        self.keras = KerasComparison()
        self.keras.button.clicked.connect(lambda: self.keras.start(self.project))
        self.keras.finished_run.connect(self.add_keras_run)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        score = self.table.horizontalHeaderItem(COLUMNS.index("Test score"))
        if score is not None:  # made by the labels above
            score.setToolTip("Accuracy on the test split; R² for a regression (1 is perfect)")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self.redraw)
        self.shown_metric = QComboBox()  # not `metric`: that is QWidget.metric(), which Qt calls on every paint
        for key, label in METRICS.items():
            self.shown_metric.addItem(label, key)
        self.shown_metric.currentIndexChanged.connect(self.redraw)
        self.plot = pg.PlotWidget(background="w")
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.addLegend(offset=(-8, 8), labelTextColor="#222", brush=pg.mkBrush(255, 255, 255, 200))
        item.setMenuEnabled(False)
        item.getAxis("left").enableAutoSIPrefix(False)
        self.hint = QLabel(HINT)
        self.hint.setStyleSheet("color: #555;")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Compare"))
        row.addWidget(self.shown_metric)
        row.addStretch(1)
        right_layout.addLayout(row)
        right_layout.addWidget(self.plot, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(split, 1)
        layout.addWidget(self.keras)

    def set_project(self, project: Project, runs_root: Path | None = None) -> None:
        """Show the runs saved for this project and forget the others."""
        notes: list[str] = []
        self.project = project
        self.records = []
        if runs_root is not None:
            self.records, notes = project_runs_with_notes(runs_root, project.name)
        self.hint.setText(" ".join([*notes[:3], HINT]) if notes else HINT)
        self.hint.setWordWrap(bool(notes))
        self._fill()

    def add_result(self, result: TrainResult, project: Project | None) -> None:
        self.records.append(RunRecord.from_result(result, project, len(self.records) + 1))
        self._fill()
        self.table.selectRow(len(self.records) - 1)

    def add_keras_run(self, run: KerasRun) -> None:
        """The Keras run joins the list beside the newest PyTorch run: both are selected (their curves
        overlaid) and the table sets their figures side by side (the same training samples for both)."""
        settings = {**(self.project.training.to_dict() if self.project is not None else {}), "framework": "keras"}
        name = f"Keras 3, {datetime.datetime.now().strftime('%H:%M:%S')}"
        keras_record = RunRecord(name, "finished", settings, run.history, run.test_accuracy, run.test_loss)
        torch_rows = [r for r in self.records if r.settings.get("framework") != "keras" and r.test_accuracy is not None]
        self.records.append(keras_record)
        self._fill()
        table = []
        if torch_rows:
            latest = torch_rows[-1]
            seconds = sum(number(row.get("seconds")) for row in latest.history if row.get("seconds") is not None)
            rate = run.train_samples * len(latest.history) / seconds if seconds > 0 else None
            table.append((f"PyTorch ({latest.name})", latest.test_accuracy, latest.test_loss, seconds or None, rate))
            self.table.selectRow(self.records.index(latest))
        table.append(("Keras 3 (torch backend)", run.test_accuracy, run.test_loss, run.seconds, run.samples_per_second))
        model = self.table.selectionModel()
        index = self.table.model().index(len(self.records) - 1, 0)
        model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)
        self.keras.show_table(table)

    def _fill(self) -> None:
        self.table.setRowCount(len(self.records))
        for row, r in enumerate(self.records):
            s = r.settings
            acc = "–" if r.test_accuracy is None else f"{100 * r.test_accuracy:.1f}%"
            if r.test_accuracy is None and r.test_r2 is not None:
                acc = f"R² {r.test_r2:.3f}"
            loss = "–" if r.test_loss is None else f"{r.test_loss:.4f}"
            values = (
                r.name,
                r.status,
                str(s.get("dataset", "?")).rsplit("/", 1)[-1],
                str(len(r.history) if r.history else s.get("epochs", "?")),
                str(s.get("optimizer", "?")),
                f"{s['lr']:g}" if isinstance(s.get("lr"), (int, float)) else "?",
                str(s.get("batch_size", "?")),
                acc,
                loss,
            )
            tip = "\n".join(f"{k}: {v}" for k, v in sorted(s.items()))
            for col, text in enumerate(values):
                self.table.setItem(row, col, table_cell(text, tip))
        self.redraw()

    def selected(self) -> list[RunRecord]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.records[r] for r in rows if r < len(self.records)]

    def redraw(self) -> None:
        key = self.shown_metric.currentData()
        plot = self.plot.getPlotItem()
        plot.clear()
        scale = 100.0 if "accuracy" in key else 1.0
        plot.setLabel("left", METRICS[key] + (" %" if scale != 1 else ""))
        for i, record in enumerate(self.selected()):
            xs = np.array([number(row.get("epoch")) for row in record.history])
            ys = np.array([scale * number(row.get(key)) for row in record.history])
            colour = class_colour(i)
            plot.plot(
                xs,
                ys,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=6,
                symbolBrush=colour,
                symbolPen=None,
                name=record.name,
                connect="finite",
            )
