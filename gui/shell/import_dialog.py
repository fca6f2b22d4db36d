"""File > Import PyTorch Model…: an existing ``nn.Module`` (``file.py:Class`` or ``torchvision:NAME``) becomes a
project with blocks; its weights are saved beside the project as its initial weights. The import itself is
``core.fx_import``; this module only asks and shows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from core.errors import TorchCanvasError

if TYPE_CHECKING:
    from gui.shell.mainwindow import MainWindow

WARNING = (
    "Importing a .py file runs it, like <code>python file.py</code> would: import only files you trust. "
    "torchvision models are built without downloading weights."
)


class ImportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import PyTorch model")
        self.setMinimumWidth(600)
        form = QFormLayout(self)
        self.source = QLineEdit("torchvision:resnet18")
        self.source.setPlaceholderText("path/to/model.py:ClassName or torchvision:resnet18")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_source)
        row = QHBoxLayout()
        row.addWidget(self.source)
        row.addWidget(browse)
        form.addRow("Model:", row)
        self.shape = QLineEdit("3,224,224")
        self.shape.setToolTip("The shape of one input sample, without the batch: 1,28,28 for MNIST")
        form.addRow("Input shape:", self.shape)
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("optional: a state_dict .pt/.pth or .safetensors (else the model's own)")
        pick = QPushButton("Browse…")
        pick.clicked.connect(self._browse_weights)
        wrow = QHBoxLayout()
        wrow.addWidget(self.weights)
        wrow.addWidget(pick)
        form.addRow("Weights:", wrow)
        note = QLabel(WARNING)
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python file with the model", "", "Python (*.py)")
        if path:
            self.source.setText(f"{path}:ClassName")
            self.source.setFocus()

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights", "", "Weights (*.pt *.pth *.safetensors)")
        if path:
            self.weights.setText(path)


def import_into(window: MainWindow, source: str, shape: str, weights: str, project_path: str | Path) -> bool:
    """Import, save the project with its initial weights at ``project_path`` and open it; a message on failure."""
    from core.fx_import import import_model
    from core.fx_import.initial import save_with_weights
    from core.fx_import.source import load_source, parse_shape, read_state

    started = time.perf_counter()
    try:
        module = load_source(source.strip())
        state = read_state(weights) if weights.strip() else None
        result = import_model(module, parse_shape(shape), name=source.rsplit(":", 1)[-1], state=state)
        save_with_weights(result.project, result.state, project_path)
    except TorchCanvasError as exc:
        window.show_error("Could not import the model", str(exc))
        return False
    except Exception as exc:  # a model the importer does not expect: a message, the traceback in the log
        from core.logs import append_traceback

        log = append_traceback(exc, "import-errors.log")
        where = f" The details are in {log}." if log else ""
        window.show_error("Could not import the model", f"The importer failed on this model ({exc!r:.200}).{where}")
        return False
    opened = window.open_file(project_path)
    if opened:
        seconds = time.perf_counter() - started
        window.statusBar().showMessage(f"Imported {source} in {seconds:.1f} s; its weights are the initial weights.")
    return opened


def import_model_dialog(window: MainWindow) -> None:
    if not window.maybe_save():
        return
    dialog = ImportDialog(window)
    if not dialog.exec():
        return
    name = dialog.source.text().rsplit(":", 1)[-1] or "imported"
    path, _ = QFileDialog.getSaveFileName(window, "Save the imported project as", f"{name}.json", "Project (*.json)")
    if path:
        import_into(window, dialog.source.text(), dialog.shape.text(), dialog.weights.text(), path)
