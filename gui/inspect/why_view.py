"""Why this prediction: one sample's attribution (``core.inspect.attribution``, Captum) as a picture a beginner
reads. An image gets its Grad-CAM (or integrated-gradients) map laid over it, half see-through, yellow where the
evidence for the class is; a table gets one signed bar per column (blue pushed towards the class, red away); a
sequence one bar per step or token. Without Captum it says how to install it.

``WhyPanel.explain(project, model, sample, picture=None, class_names=None)`` computes in a thread (the newest
request wins) and shows the answer; it is a widget of its own so that Try it (gui/training/tryit*.py) can place it
beside its prediction.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from gui.inspect.heatmap import colours
from gui.inspect.output_pictures import Bars
from gui.training.images import sample_pixmap

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


class _Signals(QObject):
    done = Signal(int, object, str)  # request number, Attribution or None, the failure in words


class WhyPanel(QWidget):
    explained = Signal(object)  # the Attribution shown (None: said in ``caption`` why not)

    def __init__(self, parent: QWidget | None = None, side: int = SIDE) -> None:
        super().__init__(parent)
        self.side = side  # pixels of the overlaid picture
        self.attribution: Any = None
        self._asked = 0
        self._request: tuple[Any, list[str]] = (None, [])
        self._signals = _Signals(self)
        self._signals.done.connect(self._done)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(side, side)
        self.bars = Bars()
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
        number, signals = self._asked, self._signals
        self._request = (picture, list(class_names or []))
        self.caption.setText("Working out where the network looked…")

        def work() -> None:
            try:
                from core.inspect.attribution import Explainer

                result = Explainer(project, model).explain(sample, columns=columns)
            except Exception as exc:  # Captum missing, no conv for Grad-CAM ...: said in words
                from core.errors import plain_message

                signals.done.emit(number, None, plain_message(exc))
                return
            signals.done.emit(number, result, "")

        threading.Thread(target=work, name="torchcanvas-why", daemon=True).start()

    def _done(self, number: int, attribution: Any, failure: str) -> None:
        if number != self._asked:
            return
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
            self.caption.setText(
                f"{attribution.method}{where}: yellow is where the network found the evidence for {what}."
            )
        else:
            self.bars.set_values(heat.reshape(-1))
            self.pages.setCurrentWidget(self.bars)
            parts = attribution.columns or [str(i) for i in range(heat.size)]
            top = sorted(range(heat.size), key=lambda i: -abs(heat.reshape(-1)[i]))[:3]
            named = ", ".join(f"{parts[i]} ({heat.reshape(-1)[i]:+.3g})" for i in top)
            self.caption.setText(
                f"{attribution.method}: how much each input pushed towards {what} (blue) or away (red). Most: {named}."
            )
        self.explained.emit(attribution)
