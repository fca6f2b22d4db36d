"""Augmentation in the window: flip, rotation, shift, crop and colour jitter (the settings ``augment_flip``,
``augment_rotation``, ``augment_shift``, ``augment_crop``, ``augment_jitter``), each field one undoable edit made
by the form, and a grid of samples drawn through the very ``augment`` the training loop calls
(``core.portable.steps``), so what the grid shows is what training sees."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from gui.panels.wrapping import let_wrap
from gui.widgets.images import ImageGrid
from gui.widgets.preview import RowLimit

SAMPLES = 8  # one row of augmented samples
OFF_TEXT = "Turn on a transform to see training samples as the network will see them."


def augmentable(dataset: Any) -> bool:
    """Images ([channels, height, width]) only, as the training loop augments (never token ids or tables)."""
    shape = tuple(getattr(dataset, "sample_shape", ()) or getattr(dataset, "input_shape", ()))
    x = getattr(dataset, "x_train", None)
    return len(shape) == 3 and (x is None or x.is_floating_point())


def augmented(
    dataset: Any,
    flip: bool,
    degrees: float,
    shift: int,
    seed: int,
    k: int = SAMPLES,
    crop: float = 0.0,
    jitter: float = 0.0,
) -> np.ndarray:
    """The first ``k`` training samples as one training batch sees them: normalised as training normalises,
    passed through ``core.portable.steps.augment`` (random draws from a private generator seeded with ``seed``,
    torch's global one, which a run may be drawing from in another thread, left alone), then un-normalised for the
    picture. Imports torch: called once the preview's thread has."""
    # deferred: imports torch (so do core.own_random and core.portable.steps); an idle window has none
    import torch

    from core.own_random import seeded
    from core.portable import steps

    samples = dataset.preview(k=k).samples
    x = torch.as_tensor(np.asarray(samples), dtype=torch.float32)
    mean, std = getattr(dataset, "mean", None), getattr(dataset, "std", None)
    scale = (mean.cpu(), std.cpu()) if mean is not None and std is not None and mean.dim() == x.dim() else None
    if scale is not None:
        x = (x - scale[0]) / scale[1]
    with seeded(seed):  # not fork_rng + manual_seed: those rewind the generator a run in another thread draws from
        out = steps.augment(x, flip, float(degrees), int(shift), float(crop), float(jitter))
    if scale is not None:
        out = out * scale[1] + scale[0]
    return out.numpy()


class AugmentBox(QGroupBox):
    """The five fields and the grid. ``edited(field, value)`` asks the form for one undoable edit; ``show``
    mirrors the settings and redraws the grid for the dataset shown in the preview."""

    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Augmentation (images)", parent)
        self.setToolTip(
            "Random changes to each training image, drawn again every epoch: more variety from the same data. "
            "Validation and test images are never changed; the exported script applies the same changes."
        )
        self.dataset: Any = None
        self.draw = 0  # which random draw the grid shows ("Draw again" takes the next)
        self.flip = QCheckBox("at random")  # under the label Flip; short, so the form fits a 1280-pixel window
        self.rotation = _spin(0, 180, " °", "Turn each image by a random angle up to this many degrees either way.")
        self.shift = _spin(0, 64, " px", "Move each image by up to this many pixels, across and up or down.")
        self.crop = _spin(0, 90, " %", "Cut away up to this much of the area at random and enlarge the rest back.")
        self.jitter = _spin(0, 100, " %", "Change brightness and contrast (and colour saturation) by up to this much.")
        self.flip.setToolTip("Mirror each image left-right at random (not for text or digits whose sides matter).")
        self.flip.toggled.connect(lambda on: self.edited.emit("augment_flip", on))
        self.rotation.valueChanged.connect(lambda v: self.edited.emit("augment_rotation", float(v)))
        self.shift.valueChanged.connect(lambda v: self.edited.emit("augment_shift", v))
        self.crop.valueChanged.connect(lambda v: self.edited.emit("augment_crop", v / 100))
        self.jitter.valueChanged.connect(lambda v: self.edited.emit("augment_jitter", v / 100))
        self.grid = ImageGrid(tile=28)
        self.grid.stretch = False  # one scale for the row (below): each tile stretched would hide the jitter
        self.grid.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rows = RowLimit(self.grid, 1)
        self.note = let_wrap(QLabel(OFF_TEXT))
        self.note.setStyleSheet("color: #555;")
        self.again = QPushButton("Draw again")
        self.again.setToolTip("Other random changes to the same samples")
        self.again.clicked.connect(self._draw_again)
        column = QVBoxLayout(self)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Flip", self.flip)
        form.addRow("Rotation", self.rotation)
        form.addRow("Shift", self.shift)
        form.addRow("Crop", self.crop)
        form.addRow("Colour jitter", self.jitter)
        column.addLayout(form)
        column.addWidget(self.grid)
        column.addWidget(self.note)
        column.addWidget(self.again)

    def fields(self) -> tuple[QWidget, ...]:
        return self.flip, self.rotation, self.shift, self.crop, self.jitter

    def show_settings(self, settings: Any) -> None:
        """The settings in the fields (the caller blocks their signals) and the grid redrawn for them."""
        self.flip.setChecked(bool(settings.augment_flip))
        self.rotation.setValue(round(settings.augment_rotation))
        self.shift.setValue(int(settings.augment_shift))
        self.crop.setValue(round(settings.augment_crop * 100))
        self.jitter.setValue(round(settings.augment_jitter * 100))
        self.redraw()

    def set_dataset(self, dataset: Any) -> None:
        """The dataset the preview shows (None: none loaded): its samples are the grid's."""
        self.dataset = dataset
        usable = dataset is None or augmentable(dataset)
        for field in self.fields():
            field.setEnabled(usable)
        self.redraw()

    def is_on(self) -> bool:
        return self.flip.isChecked() or any(
            spin.value() > 0 for spin in (self.rotation, self.shift, self.crop, self.jitter)
        )

    def redraw(self) -> None:
        dataset = self.dataset
        if dataset is not None and not augmentable(dataset):
            self._show_note("These samples are not images: augmentation is not applied to them.")
        elif dataset is None or not self.is_on():
            self._show_note(OFF_TEXT)
        else:
            crop, jitter = self.crop.value() / 100, self.jitter.value() / 100
            images = augmented(
                dataset,
                self.flip.isChecked(),
                self.rotation.value(),
                self.shift.value(),
                self.draw,
                crop=crop,
                jitter=jitter,
            )
            plain = np.asarray(dataset.preview(k=len(images)).samples, dtype=np.float32)
            lo, hi = float(plain.min()), float(plain.max())
            images = (images - lo) / max(hi - lo, 1e-6)  # the samples' own range on [0, 1], for every tile
            names = list(dataset.class_names or [])
            labels = dataset.preview(k=len(images)).labels
            captions = [names[i] if 0 <= i < len(names) else str(i) for i in labels] or [""] * len(images)
            self.grid.set_items([(image, caption, None) for image, caption in zip(images, captions)])
            self.grid.setFixedHeight(self.grid.gridSize().height() + 6)
            self.rows.apply()
            self.grid.show()
            self.again.show()
            self.note.setText("Each training batch gets its own random draw, every epoch.")

    def _show_note(self, text: str) -> None:
        self.grid.clear()
        self.grid.hide()
        self.again.hide()
        self.note.setText(text)

    def _draw_again(self) -> None:
        self.draw += 1
        self.redraw()

    def shown_images(self) -> int:
        """Samples drawn into the grid (those past its one row at this width are hidden)."""
        return self.grid.count() if self.grid.isVisibleTo(self) else 0


def _spin(low: int, high: int, suffix: str, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    return spin
