"""The training dashboard's dataset: the preview's load in a thread, the tensors behind a light preview, and the
user's choice of another dataset (one undo step with the settings suggested for it, the Input shape that fits it
and, for a network started from given weights, its new head).

``TrainingDashboard`` (gui.training.dashboard) mixes this in: the dashboard owns the panel, the loaders and the
project these methods work on; here is only what to load, when, and what to show when it cannot be loaded."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.datasets.light import LightDataset
from core.model.analysis import analyze
from core.pretrained.head import HeadFit, head_fit
from core.settings import TrainingSettings
from gui.commands.graph import new_head, set_param
from gui.commands.training import push
from gui.training.data_load import data_failure, dataset_key, load_for_preview, short_name
from gui.training.suggest import input_shape_for, suggest, suggestion_note

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QUndoStack

    from core.datasets import Dataset
    from core.files.project import Project
    from gui.training.data_load import PreviewLoader, ShownData
    from gui.training.panel import TrainingPanel

log = logging.getLogger(__name__)

NO_DATASET_YET = (
    "No dataset is chosen yet: choose one in the list above, or open your own data with Data > Open… "
    "(a folder of images, a table, text, a NumPy file)."
)


class DashboardData:
    """The dataset half of ``TrainingDashboard``: the attributes below are the dashboard's, set in its ``__init__``."""

    panel: TrainingPanel
    project: Project | None
    stack: QUndoStack | None
    shown_data: ShownData | None
    _full: Dataset | None
    _full_loading: bool
    _preview_settings: TrainingSettings | None
    _dataset_key: tuple | None
    _loading: bool
    _choice_project: Project | None
    _data_timer: QTimer
    preview_loader: PreviewLoader
    full_loader: PreviewLoader
    choice_loader: PreviewLoader

    @property
    def dataset(self) -> Dataset | None:
        """The shown dataset as the trainer sees it (tensors), or None. Behind a light preview (drawn without
        torch) it is loaded here and now, which imports torch: a view that must not wait asks
        ``dataset_when_ready``."""
        settings = self._preview_settings
        if self._full is None and settings is not None and self._light_shown():
            try:
                self._use_full(load_for_preview(settings))
            except Exception:  # the preview shows the data; the run says what is wrong with it, if anything
                log.info("the full dataset behind the preview did not load", exc_info=True)
        return self._full

    @dataset.setter
    def dataset(self, value: ShownData | None) -> None:
        self.full_loader.cancel()
        self._full_loading = False
        self.shown_data = value
        self._full = None if isinstance(value, LightDataset) else value

    def _light_shown(self) -> bool:
        return bool(getattr(self.shown_data, "light", False)) and self._preview_settings is not None

    def dataset_when_ready(self) -> Dataset | None:
        """The full dataset when loaded; else None, and behind a light preview its load starts in a thread (the
        caller asks again later): the GUI thread never waits for torch."""
        settings = self._preview_settings
        if self._full is None and settings is not None and self._light_shown() and not self._full_loading:
            self._full_loading = True
            self.full_loader.load(settings)
        return self._full

    def _full_loaded(self, number: int, spec: str, result: Dataset | BaseException) -> None:
        if number != self.full_loader.latest or not self._light_shown():  # another dataset is shown meanwhile
            return
        self._full_loading = False
        if isinstance(result, BaseException):
            log.info("the full dataset behind the preview did not load: %s", result)
            return
        self._use_full(result)

    def _use_full(self, dataset: Dataset) -> None:
        """The tensors behind a light preview: augmentation draws its samples from them (as training does)."""
        self._full = dataset
        self.panel.augment.set_dataset(dataset)

    def schedule_dataset(self) -> None:
        if self.project is not None and dataset_key(self.project) != self._dataset_key:
            self.panel.preview.info.setText(f"Loading {self.project.training.dataset}…")
            self._data_timer.start()

    def _load_in_background(self) -> None:
        """Load the chosen dataset for the preview in a thread; ``_preview_loaded`` shows it."""
        if self.project is None or dataset_key(self.project) == self._dataset_key:
            return
        self._dataset_key, self.dataset, self._loading = dataset_key(self.project), None, True
        self._preview_settings = TrainingSettings.from_dict(self.project.training.to_dict())
        self.preview_loader.load(self._preview_settings)

    def _preview_loaded(self, number: int, spec: str, result: ShownData | BaseException) -> None:
        if number != self.preview_loader.latest:  # another dataset was chosen, or loaded here, meanwhile
            return
        self._loading = False
        if isinstance(result, BaseException):
            self.preview_failed(data_failure(spec, result), spec)
            return
        self.dataset = result
        self.panel.preview.show_dataset(result)
        self.panel.set_data_problem(None)

    def refresh_dataset(self) -> None:
        """Load the chosen dataset for the preview now, on this thread (cached by spec, seed and split)."""
        if self.project is None:
            return
        key = dataset_key(self.project)
        if key == self._dataset_key and not self._loading:
            return
        self.preview_loader.cancel()
        self._dataset_key, self.dataset, self._loading = key, None, False
        try:
            self.dataset = load_for_preview(self.project.training)
        except Exception as exc:  # a DataError is already plain; anything else is summarised
            self.preview_failed(data_failure(self.project.training.dataset, exc), self.project.training.dataset)
            return
        self.panel.preview.show_dataset(self.shown_data)
        self.panel.set_data_problem(None)

    def preview_failed(self, message: str, spec: str = "the dataset") -> None:
        """The reason and the fix go under 1. Data (said once); Train's reason points there. No dataset at all
        (an imported network comes without one) is no failure: the user is asked to choose one."""
        if not spec.strip():
            self.panel.preview.show_note(NO_DATASET_YET)
            self.panel.set_data_problem("Choose a dataset under 1. Data first: this project has none yet.")
            return
        self.panel.preview.show_error(message)
        self.panel.set_data_problem(
            f"{short_name(spec)} could not be loaded (why, and what to do, is under 1. Data). Choose another "
            "dataset there, or choose it again once its files are in place."
        )

    def choose_in_background(self, spec: str) -> None:
        """The user picked a dataset in the window: it loads in a thread, so the window answers meanwhile (a big
        folder or table took seconds on the GUI thread), then ``choose_dataset`` uses it."""
        if self.project is None:
            return
        self.panel.show_data_note("")
        if spec == self.project.training.dataset:  # chosen again: load it again (its files may be in place now)
            self._dataset_key = None
            self.panel.refresh()
            self.schedule_dataset()
            return
        self._choice_project = self.project
        self.panel.show_loading(spec)
        self.choice_loader.load(TrainingSettings.from_dict({**self.project.training.to_dict(), "dataset": spec}))

    def _choice_loaded(self, number: int, spec: str, result: Dataset | BaseException) -> None:
        if number == self.choice_loader.latest and self.project is self._choice_project:
            self.choose_dataset(spec, result)

    def choose_dataset(self, spec: str, loaded: Dataset | BaseException | None = None) -> None:
        """The user picked another dataset: one undo step sets it, fits the Input shape and suggests settings.
        ``loaded``: the dataset (or why it could not be loaded) from ``choose_in_background``; None loads it here."""
        if self.project is None:
            return
        project = self.project
        self.panel.show_data_note("")
        if spec == project.training.dataset and loaded is None:  # chosen again: load it again
            self._dataset_key = None
            self.panel.refresh()
            self.refresh_dataset()
            return
        try:
            if isinstance(loaded, BaseException):
                raise loaded
            trial = TrainingSettings.from_dict({**project.training.to_dict(), "dataset": spec})
            dataset = load_for_preview(trial) if loaded is None else loaded
        except Exception as exc:  # the project keeps its dataset; the note says why and what to do
            self.panel.refresh()
            current = project.training.dataset
            usable = self.shown_data is not None and self._dataset_key == dataset_key(project)
            after = f" Training still uses {current}." if usable else ""
            self.panel.show_data_note(data_failure(spec, exc) + after)
            return
        self._use_dataset(spec, dataset)

    def _use_dataset(self, spec: str, dataset: Dataset) -> None:
        """One undo step: the dataset, the settings suggested for it and the Input shape that fits it."""
        assert self.project is not None
        changes = {"dataset": spec, **suggest(dataset, self.project.graph, self.project.training)}
        if self.stack is not None:
            self.stack.beginMacro(f"Use dataset {spec}")
        try:
            self.panel.apply(changes, f"Use dataset {spec}")
            fit = input_shape_for(self.project.graph, dataset, self.project.training)
            if fit is not None:
                push(self.stack, set_param(self.project.graph, fit[0], "shape", fit[1]))
            head = self._new_head()  # a pretrained classifier's last Linear for these classes, in the same step
        finally:
            if self.stack is not None:
                self.stack.endMacro()
        note = suggestion_note(changes, fit[1] if fit is not None else None)
        self.panel.settings_note.setText(" ".join(filter(None, [note, head.note() if head else ""])))
        self.preview_loader.cancel()  # the dataset just loaded is the one the settings now name: shown as it is
        self._dataset_key, self.dataset, self._loading = dataset_key(self.project), dataset, False
        self.panel.preview.show_dataset(dataset)
        self.panel.set_data_problem(None)

    def _new_head(self) -> HeadFit | None:
        """Refit the last Linear to the chosen dataset's classes (``core.pretrained.head.HeadFit``, or None) when the
        network starts from given weights: an imported classifier scores ImageNet's 1000 classes, not the user's."""
        assert self.project is not None
        graph, training = self.project.graph, self.project.training
        given = training.initial_weights or training.fine_tune
        head = head_fit(graph, analyze(graph, training), training) if given else None
        if head is not None:
            push(self.stack, new_head(graph, head))
        return head
