"""The right half of Try it: the network's answer to the sample just given. The predicted class in words with how
sure it is (a regression: the predicted number, and how far off a test sample's true value it is), the class
probabilities as bars, and "why this prediction" (``gui.inspect.why_view.WhyPanel``, Captum: Grad-CAM over an
image, each column's push for a table row or a 2-D point), computed in the why panel's own thread.

The tab (``gui.training.tryit``) decides what is predicted and when; this panel only shows what came back."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.inspect.why_view import WhyPanel
from gui.training.tryit_model import TrySource, class_name, network_input
from gui.training.tryit_widgets import ProbabilityBars

log = logging.getLogger(__name__)
EXPLAINED = ("image", "table", "points")  # the kinds of data "why" has a picture for


class AnswerPanel(QWidget):
    """``show_values`` for an answer, ``say`` for a message instead of one, ``explain`` for why."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probs = np.zeros(0)  # the newest answer: class probabilities, or a regression's values
        self.predicted_class: int | None = None
        self.prediction = QLabel("")
        self.prediction.setTextFormat(Qt.TextFormat.RichText)
        self.prediction.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.why = WhyPanel(side=160)  # why this prediction: an image's heat map, a row's pushes per column
        self.why.setVisible(False)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.prediction)
        box.addWidget(self.bars, 3)
        box.addWidget(self.why, 2)  # under the bars: beside them, both were too narrow at 1280x800

    def clear(self) -> None:
        self.probs = np.zeros(0)
        self.predicted_class = None
        self.prediction.setText("")
        self.bars.clear_bars()
        self.why.forget()
        self.why.setVisible(False)

    def setup(self, source: TrySource) -> None:
        """Bars for this run's classes; the why panel for the kinds of data it can explain."""
        self.bars.setup(source)
        self.why.forget()
        self.why.setVisible(source.kind in EXPLAINED)

    def say(self, message: str) -> None:
        """A message in place of the answer (an input that cannot be used), in red."""
        self.prediction.setText(f"<span style='color:#c62828'>{message}</span>")

    def show_values(self, source: TrySource, values: np.ndarray, true_value: float | None) -> None:
        """The network's output for one sample: probabilities, or a regression's values (``true_value`` is a test
        sample's target, to say how far off the prediction is)."""
        self.probs = values
        if source.regression:
            self.predicted_class = None
            shown = ", ".join(f"{v:.4g}" for v in values[:8])
            text = f"Predicted value: <b style='font-size:16pt'>{shown}</b>"
            if true_value is not None and len(values) == 1:  # a test sample: how far off, in its units
                text += f" &nbsp; (true {true_value:.4g}, off by {abs(values[0] - true_value):.3g})"
            self.prediction.setText(text)
            return
        best = int(values.argmax()) if len(values) else 0
        self.predicted_class = best
        self.prediction.setText(
            f"Predicted: <b style='font-size:18pt'>{class_name(source.class_names, best)}</b> "
            f"&nbsp; ({100 * values[best]:.1f}% sure)"
        )
        self.bars.show_values(values)

    def explain(self, source: TrySource, model: Any, sample: np.ndarray, picture: Any, columns: list[str]) -> None:
        """Why this prediction, for the sample just predicted: in the why panel's thread, the newest winning."""
        if not self.why.isVisibleTo(self):
            return
        try:
            x = network_input(source, sample)
        except Exception:  # the prediction already said what is wrong with this input
            log.debug("no input to explain", exc_info=True)
            return
        names = columns if source.kind != "image" else None
        self.why.explain(source.project, model, x, picture=picture, class_names=source.class_names, columns=names)
