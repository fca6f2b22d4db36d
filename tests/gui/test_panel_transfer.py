"""Transfer learning in the training form: the weights to start from, the backbone-frozen epochs and phase two's
learning rate factor were settings the engine used but the form had no field for (the user edited the project
file). Each field is one undoable edit, a picked file shows what will load, and training starts from it."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QUndoStack

from core.files.built_model import build_model
from core.files.project import load
from gui.training import panel_transfer
from gui.training.dashboard import TrainingDashboard

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture(autouse=True)
def _quiet_logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


def dashboard(qtbot, tmp_path, example: str = "spirals.json") -> tuple[TrainingDashboard, QUndoStack]:
    stack = QUndoStack()
    dash = TrainingDashboard()
    dash.runs_root = tmp_path / "runs"
    qtbot.addWidget(dash)
    dash.set_project(load(EXAMPLES / example), stack)
    dash.resize(1400, 900)
    return dash, stack


def weights_with_new_head(project, path: Path) -> dict[str, torch.Tensor]:
    """The network's own weights, but the last layer's made for 7 outputs: the head cannot load, the rest can."""
    state = build_model(project).module.state_dict()
    last_weight, last_bias = (
        [k for k in state if k.endswith(".weight")][-1],
        [k for k in state if k.endswith(".bias")][-1],
    )
    state = {k: torch.full_like(v, 0.25) for k, v in state.items()}
    state[last_weight] = torch.zeros(7, state[last_weight].shape[1])
    state[last_bias] = torch.zeros(7)
    torch.save(state, path)
    return state


def test_phase_fields_are_each_one_undoable_edit_and_off_while_training(qtbot, tmp_path) -> None:
    dash, stack = dashboard(qtbot, tmp_path)
    box, training = dash.panel.transfer, lambda: dash.project.training
    assert box.freeze_epochs.value() == 0 and not box.lr_factor.isEnabled()
    box.freeze_epochs.setValue(3)
    assert training().freeze_epochs == 3 and stack.count() == 1
    assert box.lr_factor.isEnabled()
    assert "Nothing is frozen" in box.freeze_note.text()  # spirals freezes no layer
    box.lr_factor.setValue(0.25)
    assert training().unfreeze_lr_factor == 0.25 and stack.count() == 2
    stack.undo()
    assert training().unfreeze_lr_factor == 0.1 and box.lr_factor.value() == pytest.approx(0.1)
    stack.undo()
    assert training().freeze_epochs == 0 and box.freeze_epochs.value() == 0 and not box.freeze_note.text()
    dash.panel.set_state("running")
    assert not box.isEnabled()
    dash.panel.set_state("idle")
    assert box.isEnabled()


def test_frozen_layer_silences_the_note(qtbot, tmp_path) -> None:
    dash, _stack = dashboard(qtbot, tmp_path)
    graph = dash.project.graph
    first = next(n for n in graph.nodes if n.type == "Linear")
    graph.set_trainable(first.id, False)
    dash.project.training.freeze_epochs = 2
    dash.panel.refresh()
    assert dash.panel.transfer.freeze_note.text() == ""


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_a_picked_file_is_one_undo_step_and_shows_what_will_load(qtbot, tmp_path, monkeypatch) -> None:
    dash, stack = dashboard(qtbot, tmp_path)
    box = dash.panel.transfer
    path = tmp_path / "w.pt"
    state = weights_with_new_head(dash.project, path)
    asked: list[bool] = []
    monkeypatch.setattr(
        panel_transfer, "ask_weights_path", lambda parent, folder, start="": asked.append(folder) or str(path)
    )
    box.choose_file.click()
    assert asked == [False]
    assert dash.project.training.initial_weights == str(path.resolve()) and stack.count() == 1
    assert box.weights_name.text() == "w.pt" and box.clear.isEnabled()
    head = [k for k in state if k.endswith(".weight")][-1].rsplit(".", 1)[0]
    said = f"{len(state) - 2} tensors will load, 2 new ({head}.weight, {head}.bias)."
    qtbot.waitUntil(lambda: box.preview.text() == said, timeout=10_000)  # made in a background thread
    stack.undo()
    assert dash.project.training.initial_weights == "" and box.weights_name.text() == "Fresh random weights"
    assert box.preview.text() == ""
    stack.redo()
    box.freeze_epochs.setValue(1)  # another setting between, so Clear is a step of its own (not merged)
    box.clear.click()
    assert dash.project.training.initial_weights == "" and stack.count() == 3
    stack.undo()
    assert box.weights_name.text() == "w.pt"
    qtbot.waitUntil(lambda: "tensors will load" in box.preview.text(), timeout=10_000)


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_weights_of_another_network_are_refused_in_the_form(qtbot, tmp_path, monkeypatch) -> None:
    dash, _stack = dashboard(qtbot, tmp_path)
    path = tmp_path / "other.pt"
    torch.save({"conv9.weight": torch.zeros(3, 3)}, path)
    monkeypatch.setattr(panel_transfer, "ask_weights_path", lambda parent, folder, start="": str(path))
    dash.panel.transfer.choose_file.click()
    said = "None of the 1 tensors in other.pt fit this network"
    qtbot.waitUntil(lambda: said in dash.panel.transfer.preview.text(), timeout=10_000)


def test_the_dialog_offscreen_chooses_nothing(qtbot, tmp_path) -> None:
    dash, stack = dashboard(qtbot, tmp_path)
    box = dash.panel.transfer
    box.fill_runs_menu()
    assert [a.text() for a in box.runs_menu.actions() if a.text()] == [
        "No saved runs of this project yet",
        "Another run folder…",
    ]
    box.runs_menu.actions()[-1].trigger()  # the real function: offscreen it answers '' and opens nothing
    assert stack.count() == 0 and dash.project.training.initial_weights == ""


@pytest.mark.slow  # trains an epoch: seconds
def test_training_starts_from_the_picked_weights(qtbot, tmp_path, monkeypatch) -> None:
    dash, _stack = dashboard(qtbot, tmp_path)
    dash.project.training.epochs = 1
    path = tmp_path / "w.pt"
    state = weights_with_new_head(dash.project, path)
    monkeypatch.setattr(panel_transfer, "ask_weights_path", lambda parent, folder, start="": str(path))
    dash.panel.transfer.choose_file.click()
    notices: list[str] = []
    real = dash.panel.on_event

    def spy(event) -> None:
        if getattr(event, "kind", "") == "notice":
            notices.append(event.message)
        real(event)

    monkeypatch.setattr(dash.panel, "on_event", spy)
    with qtbot.waitSignal(dash.run_finished, timeout=60_000):
        dash.start_training()
    said = next(n for n in notices if n.startswith("Initial weights w.pt"))
    assert f"{len(state) - 2} tensors loaded, 2 new" in said


def test_the_preview_follows_the_network_and_a_run_folder_gives_its_weights(qtbot, tmp_path, monkeypatch) -> None:
    dash, _stack = dashboard(qtbot, tmp_path)
    box, graph = dash.panel.transfer, dash.project.graph
    run = tmp_path / "runs" / "earlier"
    run.mkdir(parents=True)
    state = weights_with_new_head(dash.project, run / "last.pt")
    asked: list[bool] = []
    monkeypatch.setattr(
        panel_transfer, "ask_weights_path", lambda parent, folder, start="": asked.append(folder) or str(run)
    )
    box.fill_runs_menu()
    box.runs_menu.actions()[-1].trigger()  # Another run folder…
    assert asked == [True] and box.weights_name.text() == "earlier"
    qtbot.waitUntil(lambda: box.preview.text().startswith(f"{len(state) - 2} tensors will load, 2 new"), timeout=10_000)
    head = [n for n in graph.nodes if n.type == "Linear"][-1]
    graph.set_param(head.id, "out_features", 7)  # the user gives the network the file's 7 classes
    qtbot.waitUntil(lambda: box.preview.text() == f"{len(state)} tensors will load, 0 new.", timeout=30_000)


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_from_a_run_lists_earlier_runs_and_starts_from_the_chosen_one(qtbot, tmp_path) -> None:
    dash, stack = dashboard(qtbot, tmp_path)
    dash.project.training.epochs = 1
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as finished:
        dash.start_training()
    run_dir = Path(finished.args[0].run_dir)
    box = dash.panel.transfer
    box.fill_runs_menu()
    runs = [a for a in box.runs_menu.actions() if a.toolTip() == str(run_dir)]
    assert len(runs) == 1 and "test accuracy" in runs[0].text()
    runs[0].trigger()
    assert dash.project.training.initial_weights == str(run_dir) and stack.count() == 1
    n = len(build_model(dash.project).module.state_dict())
    qtbot.waitUntil(lambda: box.preview.text() == f"{n} tensors will load, 0 new.", timeout=10_000)


@pytest.mark.slow  # a window with the training dashboard and its data: about half a second
def test_the_preview_is_made_off_the_gui_thread_and_only_the_newest_is_shown(qtbot, tmp_path, monkeypatch) -> None:
    """Building the network to match the weights took ~0.5 s on the GUI thread for resnet18 (the form froze at
    each pick and each network edit). Here the first preview is held until a newer one has been shown."""
    from gui.training import panel_transfer

    dash, _stack = dashboard(qtbot, tmp_path)
    box = dash.panel.transfer
    first, second = tmp_path / "first.pt", tmp_path / "second.pt"
    state = weights_with_new_head(dash.project, first)
    torch.save({"conv9.weight": torch.zeros(3, 3)}, second)
    threads: list[str] = []
    gate = threading.Event()
    real = panel_transfer.will_load

    def held(project, path):
        threads.append(threading.current_thread().name)
        if Path(path).name == "first.pt":
            assert gate.wait(10), "the test never let the first preview go"
        return real(project, path)

    monkeypatch.setattr(panel_transfer, "will_load", held)
    picked = iter([first, second])
    monkeypatch.setattr(panel_transfer, "ask_weights_path", lambda parent, folder, start="": str(next(picked)))
    box.choose_file.click()  # returns at once: the preview is being made
    assert box.preview.text() == panel_transfer.MATCHING and box.preview.isVisibleTo(box)
    qtbot.waitUntil(lambda: len(threads) == 1, timeout=5_000)
    assert threads == ["torchcanvas-transfer-preview"]
    box.choose_file.click()  # another file while the first is still matched
    qtbot.waitUntil(lambda: "None of the 1 tensors in second.pt" in box.preview.text(), timeout=10_000)
    with qtbot.waitSignal(box.preview_made, timeout=10_000):
        gate.set()  # the first file's answer arrives late: it is not shown over the second's
    assert "second.pt" in box.preview.text() and f"{len(state) - 2} tensors" not in box.preview.text()


def test_the_preview_never_touches_torchs_global_random_numbers(qtbot, tmp_path) -> None:
    """The preview built the network with build_model, which seeds torch's global generator and draws every
    layer's starting weights from it: a run seeding the same generator in its own thread meanwhile got other
    numbers each time (tester's H). Built on the meta device, it neither seeds nor draws."""
    project = load(EXAMPLES / "spirals.json")
    path = tmp_path / "w.pt"
    state = weights_with_new_head(project, path)
    torch.manual_seed(1234)
    torch.rand(3)  # a generator part-way through its numbers, not at a seed's start
    before = torch.random.get_rng_state()
    assert panel_transfer.will_load(project, str(path)).startswith(f"{len(state) - 2} tensors will load, 2 new")
    assert torch.equal(torch.random.get_rng_state(), before)


def with_dropout(project) -> None:
    """A Dropout after the first ReLU: the run then draws from torch's global generator at every batch, so
    anything else drawing from it while the run trains changes the losses."""
    from core.model.node import Edge

    graph = project.graph
    relu = graph.nodes_of_type("ReLU")[0]
    wire = next(e for e in graph.edges if e.src == relu.id)
    graph.disconnect(wire)
    drop = graph.add_node(graph.create_node("Dropout", params={"p": 0.5}))
    graph.connect(Edge(relu.id, drop.id))
    graph.connect(Edge(drop.id, wire.dst, wire.dst_port))


def run_to_the_end(qtbot, dash):
    """Train pressed, the run awaited: its result, which must have finished."""
    with qtbot.waitSignal(dash.run_finished, timeout=60_000) as finished:
        dash.start_training()
    result = finished.args[0]
    assert result.status == "finished", result.message
    return result


def losses_of(result) -> list[float]:
    return [row["loss"] for row in result.history]


@contextlib.contextmanager
def repeated_in_a_thread(work):
    """``work()`` called over and over in another thread while the block runs; yields the list of its answers."""
    running, answers = threading.Event(), []

    def over_and_over() -> None:
        while running.is_set():
            answers.append(work())

    running.set()
    worker = threading.Thread(target=over_and_over, daemon=True)
    worker.start()
    try:
        yield answers
    finally:
        running.clear()
        worker.join(30)


@pytest.mark.slow  # two short runs: a few seconds
def test_a_run_made_while_the_preview_is_made_gives_the_same_losses(qtbot, tmp_path, monkeypatch) -> None:
    """Tester's H in the window: Train pressed right after a network edit, while the transfer preview was being
    made in its thread, gave different losses each time. Here the preview is made over and over through a whole
    run; its losses must be those of a run with no preview in flight."""
    dash, _stack = dashboard(qtbot, tmp_path)
    with_dropout(dash.project)
    dash.project.training.epochs = 2
    path = tmp_path / "w.pt"
    weights_with_new_head(dash.project, path)
    box = dash.panel.transfer
    monkeypatch.setattr(panel_transfer, "ask_weights_path", lambda parent, folder, start="": str(path))
    box.choose_file.click()
    qtbot.waitUntil(lambda: "tensors will load" in box.preview.text(), timeout=10_000)

    quiet = losses_of(run_to_the_end(qtbot, dash))
    running, previews = threading.Event(), []
    real = panel_transfer.will_load

    def over_and_over(project, weights):
        running.set()
        while running.is_set():
            previews.append(real(project, weights))
        return previews[-1]

    monkeypatch.setattr(panel_transfer, "will_load", over_and_over)
    box.remake_preview()
    assert running.wait(5)
    try:
        busy = losses_of(run_to_the_end(qtbot, dash))
    finally:
        running.clear()
    assert len(previews) > 1 and "tensors will load" in previews[0]
    assert busy == quiet
