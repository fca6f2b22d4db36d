"""What it learned: after a run, the test set as the last hidden layer sees it, projected to 2-D
(``core.inspect.projection``: PCA at once, t-SNE on request), one colour per class, wrong predictions drawn as a
cross in the true class's colour; clicking a point shows its sample, its class, what the network predicted and
where it looked (``gui.inspect.why_view``: Grad-CAM or integrated gradients).

Projections run in a thread (t-SNE takes seconds); the newest request wins. The run's model and its data (the
data shaped for the network, kept from the run's first event) are the dashboard's after the run ends.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.errors import plain_message
from gui.inspect.why_view import WhyPanel
from gui.widgets.images import is_image, raw_sample, sample_pixmap, sample_text
from gui.widgets.plot_parts import make_plot
from gui.widgets.preview import class_colour

WRONG = (34, 34, 34)  # the edge of a wrong one's cross (filled with its true class's colour)


class _Signals(QObject):
    done = Signal(int, object, str)  # request number, Projection or None, the failure in words


class ProjectionView(QWidget):
    """``set_run(project, model, data)`` projects with PCA (once the view is shown); ``project_with("tsne")`` on
    request."""

    projected = Signal(object)  # the Projection shown (None: a failure, said in ``status``)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Any = None
        self.model: Any = None
        self.data: Any = None
        self.projection: Any = None
        self.chosen: int | None = None  # the point clicked (its row in the projection)
        self._asked = 0
        self.pending = False  # a run waits to be projected until the tab is shown
        self._signals = _Signals(self)
        self._signals.done.connect(self._done)
        self.pca_button = QPushButton("PCA")
        self.tsne_button = QPushButton("t-SNE (slower)")
        self.pca_button.clicked.connect(lambda: self.project_with("pca"))
        self.tsne_button.clicked.connect(lambda: self.project_with("tsne"))
        self.status = QLabel("After a run, its test samples appear here as its last hidden layer sees them.")
        self.status.setWordWrap(True)
        self.plot = make_plot("Test samples, by the last hidden layer", "", x_label="")
        self.plot.getPlotItem().hideAxis("left")
        self.plot.getPlotItem().hideAxis("bottom")
        self.scatter = pg.ScatterPlotItem(size=7, pxMode=True)
        self.scatter.sigClicked.connect(self._clicked)
        self.plot.addItem(self.scatter)
        self.picture = QLabel()
        self.picture.setFixedSize(96, 96)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel("Click a point to see its sample.")
        self.detail.setWordWrap(True)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.why = WhyPanel(side=160)  # the clicked sample: where the network looked for its prediction
        self.why.caption.setText("")
        self.why.setFixedWidth(240)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pca_button)
        buttons.addWidget(self.tsne_button)
        buttons.addWidget(self.status, 1)
        side = QVBoxLayout()
        side.addWidget(self.picture)
        side.addWidget(self.detail)
        side.addWidget(self.legend)
        side.addWidget(self.why)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(body, 1)
        self._buttons(False)

    def set_run(self, project: Any, model: Any, data: Any) -> None:
        self.project, self.model, self.data = project, model, data
        self.projection, self.chosen = None, None
        self.scatter.clear()
        self.picture.clear()
        self.detail.setText("Click a point to see its sample.")
        if model is None or data is None:
            self._buttons(False)
            self.status.setText("This run left no trained network or test samples to project.")
            return
        self.pending = True
        if self.isVisible():
            self.project_with("pca")
        else:
            self.status.setText("The run's test samples are projected when this tab is opened.")

    def showEvent(self, event: Any) -> None:
        """Projecting costs a pass over the test set: done when the tab is first looked at, not after every run."""
        super().showEvent(event)
        if self.pending:
            self.project_with("pca")

    def clear(self) -> None:
        self.set_run(None, None, None)
        self.status.setText("After a run, its test samples appear here as its last hidden layer sees them.")

    def project_with(self, method: str) -> None:
        if self.model is None or self.data is None:
            return
        self._asked += 1
        self.pending = False
        number, project, model, data, signals = self._asked, self.project, self.model, self.data, self._signals
        slow = " (t-SNE takes a few seconds)" if method == "tsne" else ""
        self.status.setText(f"Projecting the test samples…{slow}")
        self._buttons(False)

        def work() -> None:
            try:
                # deferred: core.inspect.projection imports torch and scikit-learn; an idle window has neither
                from core.inspect.projection import project_split

                result = project_split(project, model, data, method=method)
            except Exception as exc:  # said in words (an InspectError names what is missing)
                signals.done.emit(number, None, plain_message(exc))
                return
            signals.done.emit(number, result, "")

        threading.Thread(target=work, name="torchcanvas-projection", daemon=True).start()

    # -- showing -------------------------------------------------------------------------------------------
    def _done(self, number: int, projection: Any, failure: str) -> None:
        if number != self._asked:
            return  # an older request
        self._buttons(True)
        self.projection = projection
        if projection is None:
            self.status.setText(f"No projection: {failure}")
            self.projected.emit(None)
            return
        spots = []
        classify = bool(projection.wrong.any()) or _is_classes(projection.labels)
        for row, (x, y) in enumerate(projection.points):
            label = int(projection.labels[row]) if classify else 0
            colour = class_colour(label)
            spot = {"pos": (float(x), float(y)), "data": row, "brush": pg.mkBrush(*colour[:3], 200), "symbol": "o"}
            if projection.wrong[row]:
                spot.update(symbol="x", size=12, brush=pg.mkBrush(*colour[:3]), pen=pg.mkPen(*WRONG, width=1))
            else:
                spot["pen"] = pg.mkPen(None)
            spots.append(spot)
        self.scatter.setData(spots)
        names = list(getattr(self.data, "class_names", None) or [])
        if classify and names:
            dots = [f"<span style='color:rgb{class_colour(k)[:3]}'>●</span>&nbsp;{n}" for k, n in enumerate(names)]
            self.legend.setText("  ".join(dots[:20]) + "<br>✖ predicted wrong (in its true class's colour)")
        else:
            self.legend.setText("")
        wrong = int(projection.wrong.sum())
        axes = (
            f"; the axes hold {projection.explained[0]:.0%} and {projection.explained[1]:.0%} of the variance"
            if projection.explained
            else ""
        )
        self.status.setText(
            f"{projection.method} of {len(projection.points):,} test samples as {projection.layer} receives them "
            f"({projection.features} numbers each){axes}. Crosses: the {wrong:,} the network got wrong."
        )
        self.projected.emit(projection)

    def choose(self, row: int) -> None:
        """Show the sample behind point ``row`` (what a click does)."""
        projection, data = self.projection, self.data
        if projection is None or not 0 <= row < len(projection.points):
            return
        self.chosen = row
        index = int(projection.indices[row])
        names = list(getattr(data, "class_names", None) or [])

        def name(value: Any) -> str:
            k = int(value)
            return names[k] if 0 <= k < len(names) else str(k)

        sample = raw_sample(data, data.x_test, index)
        if is_image(tuple(sample.shape)):
            self.picture.setPixmap(sample_pixmap(sample, 92))
            shown = ""
        else:
            self.picture.clear()
            shown = f"<br>{sample_text(sample)}"
        pixels = sample if is_image(tuple(sample.shape)) else None
        self.why.explain(self.project, self.model, data.x_test[index], pixels, names or None)
        verdict = "wrong" if projection.wrong[row] else "right"
        self.detail.setText(
            f"Test sample {index}: class {name(projection.labels[row])}, predicted "
            f"{name(projection.predicted[row])} ({verdict}){shown}"
        )

    def _clicked(self, _item: Any, points: Any, *args: Any) -> None:
        if len(points):
            self.choose(int(points[0].data()))

    def _buttons(self, enabled: bool) -> None:
        ready = enabled and self.model is not None and self.data is not None
        self.pca_button.setEnabled(ready)
        self.tsne_button.setEnabled(ready)


def _is_classes(labels: np.ndarray) -> bool:
    return labels.dtype.kind in "iu"


def attach(dashboard: Any) -> ProjectionView:
    """The dashboard's "What it learned" tab: keeps the run's data from its first event, projects when it ends."""
    view = ProjectionView()
    kept: dict[str, Any] = {}

    def running(on: bool) -> None:
        run = dashboard.run
        if on and run is not None:
            kept.clear()
            view.clear()

            def first(_event: Any) -> None:
                if "data" not in kept and run.data is not None:
                    kept["data"] = run.data

            run.training_event.connect(first)

    def finished(result: Any) -> None:
        ok = getattr(result, "status", "") != "failed"
        view.set_run(dashboard.run_project, dashboard.last_model if ok else None, kept.get("data"))

    dashboard.running_changed.connect(running)
    dashboard.run_finished.connect(finished)
    return view
