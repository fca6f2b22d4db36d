"""The window's import in the window's words (tester's D): the importer's advice named its command line's
``--input-shape`` flag where the dialog has an Input shape field, the status bar kept the last import's
"Imported …" after later imports failed, and an import without a weights file said "its weights are the initial
weights" although they are only the constructor's random starting values."""

from __future__ import annotations

import pytest
from torch import nn

from core.fx_import import import_model
from core.fx_import.source import parse_shape
from core.fx_import.trace import ModelImportError
from gui.shell.import_dialog import for_the_window, import_into

SMALL_CNN = """import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):  # written for 3x32x32 images
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 16 * 16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        return self.fc(x.view(x.size(0), -1))
"""


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 32 * 32, 3)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def importer_says(call) -> list[str]:
    with pytest.raises(ModelImportError) as caught:
        call()
    return caught.value.problems


def test_the_importer_s_flags_become_the_dialog_s_fields() -> None:
    said = [
        *importer_says(lambda: import_model(SmallCNN(), [3, 64, 64])),  # other image sizes
        *importer_says(lambda: import_model(nn.Linear(4, 2), [3, 5])),  # the input's shape
        *importer_says(lambda: parse_shape("3,a")),
    ]
    assert sum("--input-shape" in line for line in said) == 3, said  # the core's words, which the window adapts
    window = [for_the_window(line) for line in said]
    assert not any("--input" in line for line in window), window
    assert "give that size in the dialog's Input shape field as C,H,W." in window[0]
    assert "Give the shape of one sample in the dialog's Input shape field as C,H,W" in window[1]
    assert window[2].startswith("Input shape '3,a': give one sample's shape")


def test_an_option_the_dialog_has_no_field_for_is_said_to_be_the_command_line_s() -> None:
    said = for_the_window("Net(…) failed: missing 'n'. Give its constructor arguments with --args as a JSON list.")
    assert "--args is an option of the command `torchcanvas import`: this dialog has no field for it" in said


@pytest.mark.slow  # two child processes import torch: seconds
def test_a_failed_import_replaces_the_status_and_an_import_without_weights_says_random(
    window, tmp_path, monkeypatch, qtbot
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    source = tmp_path / "cnn.py"
    source.write_text(SMALL_CNN, encoding="utf-8")
    job = import_into(window, f"{source}:SmallCNN", "3,32,32", "", tmp_path / "ok.json")
    qtbot.waitUntil(lambda: job.done, timeout=120_000)
    assert job.ok and not shown, shown
    status = window.statusBar().currentMessage()
    assert status.startswith(f"Imported {source}:SmallCNN in ") and "random starting values" in status, status
    job = import_into(window, f"{source}:SmallCNN", "3,64,64", "", tmp_path / "big.json")
    qtbot.waitUntil(lambda: job.done, timeout=120_000)
    assert not job.ok and len(shown) == 1
    assert "Input shape field" in shown[0] and "--input-shape" not in shown[0], shown
    assert window.statusBar().currentMessage() == f"Could not import {source}:SmallCNN."
