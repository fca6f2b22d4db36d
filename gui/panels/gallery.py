"""Open Example: a small gallery of the bundled example projects with their descriptions, and New from a
pretrained network (torchvision's classifiers with their ImageNet weights, ``core.pretrained``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QSize, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.cli import EXAMPLES_DIR
from core.errors import TorchCanvasError, plain_message
from core.files import project as project_io
from core.logs import append_traceback
from gui import style

if TYPE_CHECKING:
    from core.fx_import import ImportResult
    from core.pretrained.catalog import PretrainedEntry
    from gui.shell.mainwindow import MainWindow

PATH_ROLE = Qt.ItemDataRole.UserRole
log = logging.getLogger(__name__)


def examples() -> list[tuple[Path, str, str, int]]:
    """(path, name, description, node count) of every readable example, sorted by name."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        try:
            p = project_io.load(path)
        except TorchCanvasError:
            continue
        found.append((path, p.name, p.description, len(p.graph)))
    return sorted(found, key=lambda e: e[1])


class ExampleGallery(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Example")
        self.resize(640, 420)
        self.list = QListWidget()
        self.list.setIconSize(QSize(32, 32))
        self.list.setWordWrap(True)
        self.list.setSpacing(4)
        for path, name, description, count in examples():
            item = QListWidgetItem(style.category_icon("Input"), f"{name}  ({count} layers)\n{description}")
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(description)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        pretrained = buttons.addButton("Pretrained network…", QDialogButtonBox.ButtonRole.ActionRole)
        pretrained.setObjectName("pretrained")
        pretrained.setToolTip("Start from a network trained on ImageNet (ResNet, MobileNet, ...) with its weights")
        pretrained.clicked.connect(self.pretrained)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> Path | None:
        item = self.list.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def pretrained(self) -> None:
        """The pretrained networks' dialog; a network made there becomes the window's project and the gallery
        closes without opening an example."""
        dialog = PretrainedDialog(self)
        if dialog.exec() and dialog.result_ is not None:
            window = self.parent()
            if window is not None and hasattr(window, "document"):  # the main window, a floor above the panels
                open_pretrained(cast("MainWindow", window), dialog.result_)
            self.reject()


# --- New from pretrained ---------------------------------------------------------------------------------------------
class PretrainedThread(QThread):
    """Fetches the chosen network's weights (torch's cache or a download) and imports it with blocks, off the GUI
    thread; ``progress(done, total)`` in bytes (total 0: unknown), then ``done`` (the ImportResult) or ``failed``."""

    progress = Signal(int, int)
    stage = Signal(str)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str, weights_of: Callable[[str], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name, self.weights_of = name, weights_of
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def run(self) -> None:
        # Deferred for start-up: core.pretrained loads when a network is asked for (torchvision later still).
        from core.pretrained.fetch import fetch_weights
        from core.pretrained.project import pretrained_project

        try:
            weights = self.weights_of(self.name)
            self.stage.emit(f"Fetching the weights of {self.name}…")
            fetched = fetch_weights(
                weights,
                name=self.name,
                progress=lambda done, total: self.progress.emit(done, total or 0),
                cancel=self.cancelled.is_set,
            )
            self.stage.emit(
                f"Importing {self.name} with blocks…" + (" (weights from torch's cache)" if fetched.cached else "")
            )
            result = pretrained_project(self.name, fetched, cancel=self.cancelled.is_set)
        except TorchCanvasError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must not die silently in the thread: one sentence, the traceback in the log
            self.failed.emit(plain_message(exc, append_traceback(exc, "pretrained-errors.log", "New from pretrained")))
        else:
            self.done.emit(result)


CACHE_WORDS = {"sound": "  (in the cache)", "damaged": "  (a damaged copy in the cache: Create downloads it again)"}


def listed(entries: Sequence[PretrainedEntry]) -> list[tuple[PretrainedEntry, str, str]]:
    """(entry, its file in torch's cache: 'sound', 'damaged' or 'missing', that file's path) for each entry."""
    from core.pretrained.catalog import cache_path  # deferred for start-up, as in PretrainedThread.run
    from core.pretrained.fetch import cache_state

    return [(e, cache_state(cache_path(e.url)), str(cache_path(e.url))) for e in entries]


class ListThread(QThread):
    """torchvision's classifiers with weights, read off the GUI thread (importing torchvision takes seconds)."""

    loaded = Signal(object)

    def run(self) -> None:
        from core.pretrained.catalog import pretrained_classifiers  # deferred for start-up, as above

        try:
            rows = listed(pretrained_classifiers())
        except Exception:  # torchvision missing or broken: an empty list, said in the dialog's status line
            log.exception("reading torchvision's classifiers")
            rows = []
        self.loaded.emit(rows)


class PretrainedDialog(QDialog):
    """File > New from… / the gallery's "Pretrained network…": torchvision's classifiers with their ImageNet figures;
    Create fetches the weights (progress bar, Cancel) and imports the network as the new project."""

    def __init__(
        self,
        parent: QWidget | None = None,
        entries: Sequence[PretrainedEntry] | None = None,
        weights_of: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        from core.pretrained.catalog import weights_member  # deferred for start-up, as above

        self.setWindowTitle("New from a pretrained network")
        self.resize(720, 480)
        self.weights_of = weights_of or weights_member
        self.thread_: PretrainedThread | None = None
        self.list_thread: ListThread | None = None  # reads torchvision's list (seconds: it imports torchvision)
        self.result_: ImportResult | None = None  # once created
        self.list = QListWidget()
        self.list.setObjectName("pretrained_list")
        self.list.itemDoubleClicked.connect(lambda _item: self.create())
        about = QLabel(
            "A network trained on ImageNet's 1.2 million photos. Its weights are fetched once into torch's cache "
            "and used from there; then give it your dataset, give it a new head for your classes (the inspector's "
            "New head on its last layer) and freeze the layers before it (right-click the last layer)."
        )
        about.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("pretrained_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # the path can be copied
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.create_button = QPushButton("Create")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.bar, 1)
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        if entries is not None:
            self.fill(listed(entries))
        else:
            self.status.setText("Reading torchvision's list of pretrained classifiers…")
            self.create_button.setEnabled(False)
            self.list_thread = ListThread(self)
            self.list_thread.loaded.connect(self.fill)
            self.list_thread.start()

    def fill(self, rows: list[tuple[PretrainedEntry, str, str]]) -> None:
        """One row per (entry, its cached file's state, its cache path)."""
        self.list_thread = None
        for entry, state, path in rows:
            item = QListWidgetItem(entry.label() + CACHE_WORDS.get(state, ""))
            item.setData(PATH_ROLE, entry.name)
            item.setToolTip(
                f"{entry.weights}\nInput: 3x{entry.crop_size}x{entry.crop_size} (resize {entry.resize_size}, "
                f"centre crop {entry.crop_size}, ImageNet mean and std)\nWeights: {entry.url}\nCache: {path}"
            )
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        if not rows:
            self.status.setText("torchvision's classifiers could not be read: is torchvision installed?")
        elif self.status.text().startswith("Reading"):
            self.status.setText("")
        self.create_button.setEnabled(not self.busy and self.list.count() > 0)

    @property
    def busy(self) -> bool:
        return self.thread_ is not None

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(PATH_ROLE)) if item is not None else None

    # Shadows QWidget.create() (native window creation), which nothing here calls; the name is the dialog's API.
    def create(self, name: str | None = None) -> None:  # type: ignore[override]
        """Fetch and import ``name`` (default: the chosen row) in a thread; the dialog closes when it is done."""
        name = name or self.chosen()
        if name is None or self.busy:
            return
        thread = self.thread_ = PretrainedThread(name, self.weights_of, self)
        thread.progress.connect(self._progress)
        thread.stage.connect(self.status.setText)
        thread.done.connect(self._done)
        thread.failed.connect(self._failed)
        thread.finished.connect(self._finished)
        self.bar.setRange(0, 0)
        self.bar.setVisible(True)
        self.create_button.setEnabled(False)
        self.list.setEnabled(False)
        thread.start()

    def cancel(self) -> None:
        """While fetching: stop the download (nothing is kept) and stay open; otherwise close."""
        if self.thread_ is not None:
            self.thread_.cancel()
            self.status.setText("Cancelling…")
        else:
            self.reject()

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
            self.bar.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.bar.setRange(0, 0)

    def _done(self, result: ImportResult) -> None:
        self.result_ = result

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _finished(self) -> None:
        self.thread_ = None
        self.bar.setVisible(False)
        self.create_button.setEnabled(True)
        self.list.setEnabled(True)
        if self.result_ is not None:
            self.accept()

    def done(self, code: int) -> None:  # closing (Esc, the window's x) waits for the thread, cancelled first
        if self.list_thread is not None:
            self.list_thread.wait()
        if self.thread_ is not None:
            self.thread_.cancel()
            self.thread_.wait()
        super().done(code)


def open_pretrained(window: MainWindow, result: ImportResult) -> None:
    """The imported network becomes the window's project (untitled, like an example): its weights stay in torch's
    cache, named by the project's initial weights."""
    window.document.set_project(result.project)
    project = result.project
    window.statusBar().showMessage(
        f"{project.name}: {len(project.graph)} nodes, blocks {', '.join(sorted(project.graph.blocks)) or 'none'}; "
        f"it starts from {project.training.initial_weights}.",
        10000,
    )


def new_from_pretrained(window: MainWindow) -> bool:
    """File > New from… (a pretrained network): ask, fetch, import and open; False when cancelled."""
    if getattr(window, "editing_locked", False):  # a run trains the project shown: it must not be replaced under it
        window.statusBar().showMessage("Stop the training run first: it uses the project shown.", 6000)
        return False
    if hasattr(window, "maybe_save") and not window.maybe_save():
        return False
    dialog = PretrainedDialog(window)
    if not dialog.exec() or dialog.result_ is None:
        return False
    open_pretrained(window, dialog.result_)
    return True
