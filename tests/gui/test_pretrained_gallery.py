"""New from a pretrained network in the window: the list, Create (fetch in a thread with a progress bar, import,
initial weights set), Cancel, and the offline message, all without a network (a file:// weights entry)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QPushButton

from core.pretrained.catalog import cache_path, entry_of
from gui.panels.gallery import PATH_ROLE, ExampleGallery, PretrainedDialog, open_pretrained
from tests.core.pretrained_fixtures import served_weights

pytestmark = pytest.mark.slow  # an import of ResNet-18 takes seconds


@pytest.fixture
def weights(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return served_weights(tmp_path / "server")


def _dialog(qtbot, weights) -> PretrainedDialog:
    dialog = PretrainedDialog(entries=[entry_of("resnet18", weights)], weights_of=lambda name: weights)
    qtbot.addWidget(dialog)
    return dialog


def test_create_fetches_with_progress_and_opens_the_network_starting_from_its_weights(qtbot, weights, window):
    dialog = _dialog(qtbot, weights)
    assert dialog.list.count() == 1 and dialog.list.item(0).text().startswith("resnet18 — 1.0 % ImageNet top-1")
    dialog.show()
    values: list[int] = []
    dialog.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(dialog.accepted, timeout=120_000):
        dialog.create()
        assert dialog.bar.isVisible() and not dialog.create_button.isEnabled()
    assert values and values[-1] == 1000  # the whole file, shown as it came
    assert dialog.result() == QDialog.DialogCode.Accepted
    project = dialog.result_.project
    assert project.training.initial_weights == str(cache_path(weights.url))
    open_pretrained(window, dialog.result_)
    assert window.document.project is project and "BasicBlock" in window.document.graph.blocks
    assert "starts from" in window.statusBar().currentMessage()
    again = _dialog(qtbot, weights)
    assert again.list.item(0).text().endswith("(in the cache)")


def test_a_damaged_file_in_the_cache_is_not_listed_as_in_the_cache(qtbot, weights):
    """Tester's I.5: the list said "(in the cache)" for a damaged file, which Create then moved aside."""
    cached = cache_path(weights.url)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(Path(weights.url.removeprefix("file://")).read_bytes()[:1000])  # a download cut short
    text = _dialog(qtbot, weights).list.item(0).text()
    assert not text.endswith("(in the cache)") and "a damaged copy in the cache: Create downloads it again" in text


def test_offline_the_dialog_says_where_to_put_the_file_and_stays_open(qtbot, weights):
    Path(weights.url.removeprefix("file://")).unlink()  # nothing to download, nothing in the cache
    dialog = _dialog(qtbot, weights)
    dialog.show()
    dialog.create()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    text = dialog.status.text()
    assert weights.url in text and str(cache_path(weights.url)) in text
    assert dialog.isVisible() and dialog.result_ is None and dialog.create_button.isEnabled()


def test_cancel_stops_the_fetch_and_keeps_the_dialog_open(qtbot, weights):
    dialog = _dialog(qtbot, weights)
    dialog.show()
    dialog.create()
    dialog.cancel()  # checked before the download starts and between its chunks
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert "cancelled" in dialog.status.text() and dialog.result_ is None and dialog.isVisible()
    assert not cache_path(weights.url).exists()
    dialog.cancel()  # nothing running: Cancel closes
    assert not dialog.isVisible()


def test_the_example_gallery_has_the_pretrained_button(qtbot):
    gallery = ExampleGallery()
    qtbot.addWidget(gallery)
    assert gallery.findChild(QPushButton, "pretrained").text() == "Pretrained network…"


def test_file_menu_has_new_from_pretrained_and_it_waits_for_a_run(window):
    action = window.action_map["new_pretrained"]
    file_menu = window.menuBar().actions()[0].menu()
    assert action.text() == "New from &Pretrained Network…" and action in file_menu.actions()
    window.set_editing_locked(True)  # training: no dialog at all, the project stays
    project = window.document.project
    action.trigger()
    assert window.document.project is project and "Stop the training run" in window.statusBar().currentMessage()
    window.set_editing_locked(False)


def test_the_real_list_is_read_off_the_gui_thread(qtbot):
    dialog = PretrainedDialog()  # torchvision's own list: imported in a thread, the dialog shows at once
    qtbot.addWidget(dialog)
    assert dialog.status.text().startswith("Reading torchvision's list") and not dialog.create_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.list.count() > 0, timeout=60_000)
    names = [dialog.list.item(i).data(PATH_ROLE) for i in range(dialog.list.count())]
    assert "resnet18" in names and dialog.create_button.isEnabled() and dialog.status.text() == ""
