"""Data > Open… and the dataset list take the user's own data of every kind, through the data wizard: an image
folder (one sub-folder per class), a CSV table (its label column chosen in the wizard), a NumPy .npz and a pair of
IDX files. The data is made here in tmp_path. Before, the list's Open entry built ``npz:`` + the path for anything
(a CSV failed as "pickled (object) data"), no menu opened data, and nothing showed what was found before training.

Every dialog is answered by the test: the file dialog is ``opening.ask_data_path`` (replaced here), the
wizard is opened with ``open()`` and answered with its buttons."""

from __future__ import annotations

import functools
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from core.training.trainer import Trainer
from gui.data import opening
from gui.data.wizard import DataWizard
from gui.training.panel_choices import OPEN_FILE, OPEN_FOLDER
from tests.core.train_fixtures import write_csv, write_images

SURVEY_MS = 20_000


@pytest.fixture
def data_window(window, tmp_path, monkeypatch):
    """The main window with its training dock, runs written under tmp_path."""
    dash = window.install_training()
    dash.runs_root = tmp_path / "runs"
    dash.trainer_factory = functools.partial(Trainer, event_interval=0)
    dash.refresh_dataset()
    return window


def pick(monkeypatch, path: Path) -> list[bool]:
    """The file dialog answers ``path``; returns whether each call asked for a folder."""
    asked: list[bool] = []

    def answer(parent, folder, start=""):
        asked.append(folder)
        return str(path)

    monkeypatch.setattr(opening, "ask_data_path", answer)
    return asked


def opened_wizard(qtbot, window, monkeypatch, path: Path, folder: bool = False) -> DataWizard:
    """Data > Open… (or Open Folder…) with ``path`` picked: the wizard, once it has looked at the data."""
    asked = pick(monkeypatch, path)
    window.action_map["open_data_folder" if folder else "open_data"].trigger()
    assert asked == [folder]
    wizard = window.training_dashboard.panel.wizard
    assert wizard is not None and wizard.isVisible()
    qtbot.waitUntil(lambda: wizard.found is not None or wizard.status.text().startswith("<span"), timeout=SURVEY_MS)
    assert wizard.found is not None, wizard.status.text()
    return wizard


def use(qtbot, window, wizard: DataWizard) -> str:
    """'Use this data': the dataset is loaded in the background and set in one undo step."""
    dash = window.training_dashboard
    spec = wizard.spec()
    assert wizard.use_button.isEnabled(), wizard.problems.text()
    with qtbot.waitSignal(dash.choice_loader.loaded, timeout=SURVEY_MS):
        wizard.use_button.click()
    assert not wizard.isVisible()
    assert window.document.project.training.dataset == spec, dash.panel.data_note.text()
    assert dash.dataset is not None
    return spec


def train_briefly(qtbot, window) -> None:
    dash = window.training_dashboard
    project = window.document.project
    project.training.epochs = 1
    qtbot.waitUntil(dash.panel.train_button.isEnabled, timeout=10_000)  # once the last edit is analysed
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        dash.start_training()
    assert finished.args[0].status == "finished", finished.args[0].message


@pytest.mark.slow
def test_an_image_folder_through_the_wizard_then_trained(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    root = write_images(tmp_path / "pets", {"cats": 12, "dogs": 4}, size=(16, 16))
    write_images(tmp_path / "more", {"owls": 2}, size=(12, 12))  # another size among the owls
    (tmp_path / "more" / "owls").rename(root / "owls")
    wizard = opened_wizard(qtbot, window, monkeypatch, root, folder=True)
    assert wizard.classes.counts() == {"cats": 12, "dogs": 4, "owls": 2}
    assert "imbalanced" in wizard.balance.text() and "'cats' has 6x the samples of 'owls'" in wizard.balance.text()
    assert "16x16 (16 images), 12x12 (2 images)" in wizard.sizes.text() and "Used:</b> 16x16" in wizard.sizes.text()
    assert wizard.grid.count() == 6  # two samples of each class
    assert "training" in wizard.splits.text() and not wizard.table_box.isVisible()
    spec = use(qtbot, window, wizard)
    assert spec == f"folder:{root}"
    stack = window.document.undo_stack
    stack.undo()  # one undo step: the dataset and what came with it
    assert window.document.project.training.dataset == "digits"
    stack.redo()
    assert window.document.project.training.dataset == spec
    input_node = window.document.project.graph.nodes_of_type("Input")[0]
    assert input_node.params["shape"] == [3, 16, 16]
    output = window.document.project.graph.nodes_of_type("Output")[0]
    last = window.document.project.graph.inputs_of(output.id)[0].src  # the example's last Linear gives 10
    window.editor.set_param(last, "out_features", 3)
    train_briefly(qtbot, window)


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_csv_in_the_list_opens_the_wizard_not_a_numpy_error(qtbot, data_window, monkeypatch, tmp_path) -> None:
    """The list's 'Open a data file…' with a CSV picked. Before: 'cannot read it as a NumPy .npz file'."""
    window = data_window
    path = write_csv(tmp_path / "flowers.csv")
    pick(monkeypatch, path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))  # the old way asked this
    panel = window.training_dashboard.panel
    panel.dataset.activated.emit(panel.dataset.findData(OPEN_FILE))
    assert "NumPy" not in panel.data_note.text()
    assert panel.wizard is not None and panel.wizard.base_spec == f"table:{path}"
    panel.wizard.reject()  # Cancel: nothing changes
    assert window.document.project.training.dataset == "digits" and panel.dataset.currentData() == "digits"


def test_the_list_offers_every_built_in_set_and_both_open_entries(data_window) -> None:
    combo = data_window.training_dashboard.panel.dataset
    offered = [combo.itemData(i) for i in range(combo.count())]
    assert {"shapes", "sequences", "digits", "spirals"} <= set(offered)
    assert offered[-2:] == [OPEN_FILE, OPEN_FOLDER]


@pytest.mark.slow
def test_a_table_with_its_label_column_chosen_in_the_wizard(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    rng = np.random.default_rng(0)
    rows = ["flower,width,colour,length"]  # the label is not last and has no label-like name
    for i in range(90):
        k = i % 3
        rows.append(f"{['iris', 'rose', 'lily'][k]},{rng.normal(k, 0.3):.3f},{['red', 'blue'][i % 2]},{i % 7}.5")
    path = tmp_path / "garden.csv"
    path.write_text("\n".join(rows) + "\n")
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    assert wizard.table_box.isVisible() and wizard.found.survey.label_column == "length"  # guessed: the last
    assert wizard.head.rowCount() == 5 and wizard.head.item(0, 0).text() == "iris"
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        wizard.label_combo.setCurrentText("flower")
        wizard.label_combo.activated.emit(wizard.label_combo.currentIndex())
    survey = wizard.found.survey
    assert survey.label_column == "flower" and survey.task == "classification"
    assert wizard.classes.counts() == {"iris": 30, "lily": 30, "rose": 30} and "balanced" in wizard.balance.text()
    assert wizard.columns.used_as() == {"flower": "label", "width": "number", "colour": "category", "length": "number"}
    combo = wizard.columns.combos["colour"]  # the user drops the colour column
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        combo.setCurrentIndex(combo.findData("ignore"))
        combo.activated.emit(combo.currentIndex())
    assert wizard.columns.used_as()["colour"] == "ignore" and wizard.found.survey.sample_shape == (2,)
    spec = use(qtbot, window, wizard)
    assert spec == f"table:{path}?label=flower&ignore=colour"
    assert window.document.project.graph.nodes_of_type("Input")[0].params["shape"] == [2]
    output = window.document.project.graph.nodes_of_type("Output")[0]
    window.editor.set_param(window.document.project.graph.inputs_of(output.id)[0].src, "out_features", 3)
    train_briefly(qtbot, window)


@pytest.mark.slow
def test_a_numpy_file_through_the_wizard(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    rng = np.random.default_rng(1)
    path = tmp_path / "arrays.npz"
    np.savez(path, x_train=rng.random((40, 1, 8, 8)).astype(np.float32), y_train=np.arange(40) % 4)
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    assert wizard.classes.counts() == {"0": 10, "1": 10, "2": 10, "3": 10}
    assert wizard.grid.count() == 16 and "[1, 8, 8]" in wizard.summary.text()
    assert use(qtbot, window, wizard) == f"npz:{path}"
    train_briefly(qtbot, window)  # the example's [1, 8, 8] MLP takes it as it is


def write_idx(path: Path, array: np.ndarray) -> Path:
    head = struct.pack(">BBBB", 0, 0, 8, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(head + array.astype(np.uint8).tobytes())
    return path


@pytest.mark.slow
def test_a_pair_of_idx_files_through_the_wizard(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    rng = np.random.default_rng(2)
    images = write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (30, 10, 10)))
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(30) % 3)
    wizard = opened_wizard(qtbot, window, monkeypatch, labels)  # either file of the pair
    assert wizard.classes.counts() == {"0": 10, "1": 10, "2": 10}
    assert use(qtbot, window, wizard) == f"idx:{images},{labels}"
    assert window.document.project.graph.nodes_of_type("Input")[0].params["shape"] == [1, 10, 10]
    train_briefly(qtbot, window)


def test_a_file_that_is_no_data_is_said_under_the_list(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK")
    pick(monkeypatch, path)
    window.action_map["open_data"].trigger()
    panel = window.training_dashboard.panel
    assert panel.wizard is None and "notes.docx: not a kind of data" in panel.data_note.text()


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_table_training_would_refuse_cannot_be_used(qtbot, data_window, monkeypatch, tmp_path) -> None:
    window = data_window
    path = tmp_path / "gaps.csv"
    path.write_text("a,label\n1,x\n2,\n3,y\n4,y\n5,x\n")
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    assert not wizard.use_button.isEnabled() and "Training would refuse" in wizard.problems.text()
    assert "gaps.csv" in wizard.problems.text() and "'label'" in wizard.problems.text()
    wizard.accept()  # Enter on the dialog: nothing is used
    assert window.document.project.training.dataset == "digits"


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_data_open_is_off_while_a_run_holds_the_network(data_window) -> None:
    """A run trains a snapshot; choosing other data meanwhile would change the settings under it."""
    window = data_window
    window.set_editing_locked(True)  # what a starting run does
    assert not window.action_map["open_data"].isEnabled() and not window.action_map["open_data_folder"].isEnabled()
    window.set_editing_locked(False)
    assert window.action_map["open_data"].isEnabled() and window.action_map["open_data_folder"].isEnabled()


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_whole_number_labels_can_be_predicted_as_a_number(qtbot, data_window, monkeypatch, tmp_path) -> None:
    """Prices in whole euros look like 40 classes; the user says they are a number to predict (regression)."""
    window = data_window
    rows = ["rooms,price"] + [f"{i % 5 + 1},{100 + (i % 40) * 7}" for i in range(200)]
    path = tmp_path / "flats.csv"
    path.write_text("\n".join(rows) + "\n")
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    assert wizard.found.survey.task == "classification" and wizard.classes_box.isVisible()
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        wizard.predict_combo.setCurrentIndex(wizard.predict_combo.findData("number"))
        wizard.predict_combo.activated.emit(wizard.predict_combo.currentIndex())
    assert wizard.found.survey.task == "regression" and not wizard.classes_box.isVisible()
    assert "a number to predict (regression): price" in wizard.summary.text()
    assert wizard.predict_combo.currentData() == "number"
    assert wizard.spec() == f"table:{path}?label=price&number=price"


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_table_that_cannot_be_read_again_keeps_its_columns_to_try_again(qtbot, data_window, monkeypatch, tmp_path):
    """The file changed on disk while the wizard was open (a ragged row): the next choice's survey fails in words,
    the columns stay in view, and the next choice once the file is fixed reads it again."""
    window = data_window
    path = write_csv(tmp_path / "flowers.csv")
    good = path.read_text()
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    path.write_text(good + "1,2,3,4,5,6\n")  # a row with more values than the header
    combo = wizard.columns.combos["a"]
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        combo.setCurrentIndex(combo.findData("ignore"))
        combo.activated.emit(combo.currentIndex())
    assert wizard.found is None and "flowers.csv" in wizard.status.text() and not wizard.use_button.isEnabled()
    assert wizard.table_box.isVisible() and wizard.columns.rowCount() == 4
    path.write_text(good)
    combo = wizard.columns.combos["a"]
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        combo.setCurrentIndex(combo.findData("number"))
        combo.activated.emit(combo.currentIndex())
    assert wizard.found is not None and wizard.use_button.isEnabled(), wizard.status.text()


def test_image_sizes_are_said_width_by_height_as_image_viewers_say_them() -> None:
    """Trial 4 I.1: the wizard printed (height, width) as '40x20' for files 20 pixels wide, unlike the survey."""
    from types import SimpleNamespace

    from gui.data.wizard import size_words

    found = SimpleNamespace(
        image_sizes=(SimpleNamespace(size=(40, 20), count=5),),  # (height, width): tall images
        image_size=(40, 20),
        image_size_reason="",
        channels=3,
    )
    words = size_words(found)
    assert "20x40 (5 images)" in words and "Used:</b> 20x40" in words


def write_reviews(path: Path, extra: str = "") -> Path:
    """80 different short reviews (``sentence,label``), the trial's reviews2.csv; ``extra``: one more column."""
    good, bad = ["wonderful", "lovely", "great", "moving"], ["dull", "boring", "awful", "slow"]
    rows = ["sentence,label" + (f",{extra}" if extra else "")]
    for i in range(80):
        word, label = (good, "positive") if i % 2 else (bad, "negative")
        rows.append(f"the {['ending', 'film', 'story', 'acting', 'music'][i % 5]} was {i} times {word[i % 4]},{label}")
        rows[-1] += f",{i % 3}.5" if extra else ""
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_csv_of_sentences_is_used_as_text_from_the_wizard(qtbot, data_window, monkeypatch, tmp_path) -> None:
    """Trial 7 U7: 'Used as: text' refused the table with a spec to type, and the window has nowhere to type it;
    now the wizard reads the column as text (the Text box shows) and Use this data gives token ids."""
    window = data_window
    path = write_reviews(tmp_path / "reviews2.csv")
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    qtbot.waitUntil(lambda: wizard.found is not None and wizard.found.survey.source == "text", timeout=SURVEY_MS)
    assert wizard.spec() == f"text:{path}?column=sentence&label=label"
    assert wizard.text_box.isVisible() and wizard.table_box.isVisible() and not wizard.problems.text()
    assert "'sentence' is read as text: token ids for an Embedding" in wizard.notes.text()
    assert "read on its own as token ids" in wizard.columns.item(0, 5).text()  # it said "a table cannot use it"
    assert wizard.classes.counts() == {"negative": 40, "positive": 40}
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):  # the Text box works on the column
        wizard.length_spin.setValue(12)
        wizard.length_spin.editingFinished.emit()
    assert wizard.spec() == f"text:{path}?max_length=12&column=sentence&label=label"
    spec = use(qtbot, window, wizard)
    x = window.training_dashboard.dataset.x_train  # loaded by core.datasets, as a run loads it
    assert spec == window.document.project.training.dataset and tuple(x.shape[1:]) == (12,)
    assert str(x.dtype) == "torch.int64" and int(x.max()) > 1  # token ids (0 padding, 1 unknown)


def test_a_text_column_beside_other_features_is_refused_with_a_step_in_the_wizard(
    qtbot, data_window, monkeypatch, tmp_path
) -> None:
    window = data_window
    path = write_reviews(tmp_path / "rated.csv", extra="stars")
    wizard = opened_wizard(qtbot, window, monkeypatch, path)
    assert wizard.found.survey.source == "table" and not wizard.use_button.isEnabled()
    problems = wizard.problems.text()
    assert "set 'stars' to ignore to read 'sentence' as text" in problems and "?column=" not in problems
    combo = wizard.columns.combos["stars"]  # the step it names: then the column is read as text
    with qtbot.waitSignal(wizard.surveyor.done, timeout=SURVEY_MS):
        combo.setCurrentIndex(combo.findData("ignore"))
        combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: wizard.found is not None and wizard.found.survey.source == "text", timeout=SURVEY_MS)
    assert wizard.spec() == f"text:{path}?column=sentence&label=label" and wizard.use_button.isEnabled()
