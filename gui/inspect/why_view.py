"""Why this prediction: one sample's attribution (``core.inspect.attribution``, Captum) as a picture a beginner
reads. An image gets its Grad-CAM (or integrated-gradients) map laid over it, half see-through, yellow where the
evidence for the class is; a table gets one signed bar per column (blue pushed towards the class, red away); a
sequence one bar per step or token. Without Captum it says how to install it.

``WhyPanel.explain(project, model, sample, picture=None, class_names=None)`` computes in one background thread
(a request made meanwhile waits, the newest replacing an older one: a stroke on Try it's pad asks many times) and
shows the answer; it is a widget of its own so that Try it (gui/training/tryit*.py) can place it beside its
prediction. Captum hooks the model it explains, so it explains a copy of the model (made once per model, its
weights refreshed on each request, in the thread): a prediction on the GUI thread never runs through those hooks.
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from core.errors import plain_message
from gui.inspect.heatmap import colours
from gui.inspect.output_pictures import NEGATIVE, POSITIVE
from gui.widgets.background import Background
from gui.widgets.images import sample_pixmap

SIDE = 224  # pixels of the overlaid picture
ALPHA = 0.5  # how much of the map covers the picture


def overlay(picture: Any, heat: np.ndarray, side: int = SIDE) -> QPixmap:
    """The sample's picture with the map over it (viridis, ``ALPHA`` opaque), both scaled to ``side`` pixels."""
    base = sample_pixmap(picture, side) if picture is not None else QPixmap(side, side)
    if picture is None:
        base.fill(Qt.GlobalColor.black)
    top = float(np.nanmax(heat)) if heat.size else 0.0
    rgb = colours(np.asarray(heat, dtype=float), 0.0, top if top > 0 else 1.0)
    h, w = heat.shape
    argb = np.empty((h, w, 4), dtype=np.uint8)
    argb[..., 0], argb[..., 1], argb[..., 2] = rgb[..., 2], rgb[..., 1], rgb[..., 0]
    argb[..., 3] = int(255 * ALPHA)
    layer = QImage(argb.tobytes(), w, h, w * 4, QImage.Format.Format_ARGB32).copy()
    result = QPixmap(base.size())
    result.fill(Qt.GlobalColor.transparent)
    painter = QPainter(result)
    painter.drawPixmap(QPoint(0, 0), base)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(result.rect(), layer)
    painter.end()
    return result


class ColumnBars(QWidget):
    """One row per column: its name, then its signed push as a bar from a zero line (blue towards the class, red
    away), so a table's attribution reads with the user's own column names."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0)
        self.names: list[str] = []
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_values(self, values: np.ndarray, names: list[str] | None = None) -> None:
        self.values = np.asarray(values, dtype=float).reshape(-1)
        self.names = list(names) if names is not None else [str(i + 1) for i in range(self.values.size)]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not len(self.values):
            return
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        label_w = min(max(metrics.horizontalAdvance(n) for n in self.names) + 6, self.width() // 2)
        row = max(1.0, (self.height() - 4) / len(self.values))
        top = float(np.abs(self.values).max()) or 1.0
        half = (self.width() - label_w - 6) / 2
        zero = label_w + 2 + half
        text = self.palette().windowText().color()
        for i, (v, name) in enumerate(zip(self.values, self.names)):
            y = 2 + i * row
            painter.setPen(text)
            shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, label_w - 6)
            painter.drawText(
                QRectF(0, y, label_w - 4, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(POSITIVE if v >= 0 else NEGATIVE)
            length = half * abs(v) / top
            painter.drawRect(QRectF(zero if v >= 0 else zero - length, y + row * 0.15, max(length, 0.5), row * 0.7))
        painter.setPen(text)
        painter.drawLine(int(zero), 2, int(zero), self.height() - 2)

    def sizeHint(self) -> QSize:
        return QSize(280, 140)


class WhyPanel(QWidget):
    explained = Signal(object)  # the Attribution shown (None: said in ``caption`` why not)

    def __init__(self, parent: QWidget | None = None, side: int = SIDE) -> None:
        super().__init__(parent)
        self.side = side  # pixels of the overlaid picture
        self.attribution: Any = None
        self._asked = 0
        self._request: tuple[Any, list[str]] = (None, [])
        self._worker = Background()
        self._worker.done.connect(self._done)
        self._copy: tuple[Any, Any] = (None, None)  # (weak reference to a model, its copy), made in the thread
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(side, side)
        self.bars = ColumnBars()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.picture)
        self.pages.addWidget(self.bars)
        self.caption = QLabel("Why this prediction: choose a sample to see what the network looked at.")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.caption)

    def explain(
        self,
        project: Any,
        model: Any,
        sample: Any,
        picture: Any = None,
        class_names: list[str] | None = None,
        columns: list[str] | None = None,
    ) -> None:
        """Explain ``model``'s prediction for ``sample`` (as the network takes it); ``picture`` is the sample as
        the user sees it (an image to lay the map over)."""
        self._asked += 1
        self._request = (picture, list(class_names or []))
        self.caption.setText("Working out where the network looked…")
        self._worker.submit(self._asked, lambda: self._work(project, model, sample, columns))

    def forget(self) -> None:
        """Drop the model's copy and what is shown (Try it shows another run); an answer on its way is ignored."""
        self._asked += 1
        self._copy = (None, None)
        self.attribution = None
        self.picture.clear()
        self.bars.set_values(np.zeros(0))
        self.caption.setText("Why this prediction: choose a sample to see what the network looked at.")

    def _work(self, project: Any, model: Any, sample: Any, columns: list[str] | None) -> tuple[Any, str]:
        """In the thread: the Attribution, or None and the failure in words."""
        try:
            # deferred: core.inspect.attribution imports torch; the window paints and idles without it
            from core.inspect.attribution import Explainer

            key, twin = self._copy
            if key is None or key() is not model:
                twin = copy.deepcopy(model)
                self._copy = (weakref.ref(model), twin)
            else:  # the same model, maybe trained further since (the dashboard's): its weights as they are now
                twin.load_state_dict(model.state_dict())
            return Explainer(project, twin).explain(sample, columns=columns), ""
        except Exception as exc:  # Captum missing, no conv for Grad-CAM ...: said in words
            return None, plain_message(exc)

    def _done(self, number: int, result: Any) -> None:
        if number != self._asked:
            return
        attribution, failure = result if isinstance(result, tuple) else (None, str(result))
        self.attribution = attribution
        if attribution is None:
            self.picture.clear()
            self.pages.setCurrentWidget(self.picture)
            self.caption.setText(failure)
            self.explained.emit(None)
            return
        picture, names = self._request
        cls = attribution.target
        what = f"class {names[cls] if cls is not None and cls < len(names) else cls}" if cls is not None else "it"
        where = f" at {attribution.layer}" if attribution.layer else ""
        heat = np.asarray(attribution.map, dtype=float)
        if heat.ndim == 2:
            self.picture.setPixmap(overlay(picture, heat, self.side))
            self.pages.setCurrentWidget(self.picture)
            note = f" {attribution.note}" if getattr(attribution, "note", "") else ""
            self.caption.setText(
                f"{attribution.method}{where}: yellow is where the network found the evidence for {what}.{note}"
            )
        else:
            parts = attribution.columns or [str(i) for i in range(heat.size)]
            self.bars.set_values(heat.reshape(-1), parts)
            self.pages.setCurrentWidget(self.bars)
            top = sorted(range(heat.size), key=lambda i: -abs(heat.reshape(-1)[i]))[:3]
            named = ", ".join(f"{parts[i]} ({heat.reshape(-1)[i]:+.3g})" for i in top)
            self.caption.setText(
                f"{attribution.method}: how much each input pushed towards {what} (blue) or away (red). Most: {named}."
            )
        self.explained.emit(attribution)
