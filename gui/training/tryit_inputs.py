"""Try it's input pages, one per kind of data, stacked so that a run shows the page of its kind: the image page
(the drawing pad and image files, ``gui.training.tryit_image``), a 2-D point set to click, one spin box per
feature of a small table, a line to type a sentence or token ids into, or, for any other data, a note to pick a
test sample. ``fill`` sets the pages up for a run and ``show_sample`` puts a test sample on its page; the tab
(``gui.training.tryit``) listens to each page's own signals and predicts what they give."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from gui.training.tryit_image import ImagePage
from gui.training.tryit_model import TrySource, describe
from gui.training.tryit_widgets import FeatureTable, PointsPlot, TextPage

if TYPE_CHECKING:
    from torch import nn

PICK_A_SAMPLE = "Pick a test sample below to see what the network predicts for it."


class InputPages(QStackedWidget):
    """The pages by kind (``pages``: "image", "points", "table", "text", "samples"), each also an attribute."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_page = ImagePage()
        self.points = PointsPlot()
        self.table_page = FeatureTable()
        self.samples_page = QLabel(PICK_A_SAMPLE)
        self.samples_page.setWordWrap(True)
        self.samples_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text_page = TextPage()
        pages: dict[str, QWidget] = {
            "image": self.image_page,
            "points": self.points,
            "table": self.table_page,
            "text": self.text_page,
        }
        self.pages = {**pages, "samples": self.samples_page}
        for page in self.pages.values():
            self.addWidget(page)

    def fill(self, source: TrySource, model: nn.Module, boundary: bool) -> None:
        """Show the page of the run's kind of data, set up for it; a point set draws the network's decision
        boundary behind its points only with ``boundary`` (one batch: skipped for a network predicted in the
        background)."""
        self.setCurrentWidget(self.pages[source.kind])
        if source.kind == "image":
            self.image_page.pad.set_sample_side(int(source.sample_shape[-1]))
        elif source.kind == "points":
            self.points.draw(source, model, boundary=boundary)
        elif source.kind == "table":
            self.table_page.fill(source)
        elif source.kind == "text":
            self.text_page.setup(source)

    def show_sample(self, source: TrySource, sample: np.ndarray, index: int) -> None:
        """Test sample ``index`` on the page of its kind (a picture, the point's marker, the table's values, its
        text, or a description of it)."""
        if source.kind == "image":
            self.image_page.show_array(sample)
        elif source.kind == "points":
            self.points.marker.setData([float(sample[0])], [float(sample[1])])
        elif source.kind == "table":
            self.table_page.set_values(sample)
        elif source.kind == "text":
            self.text_page.show_sample(sample)
        else:
            self.samples_page.setText(describe(sample, index))
