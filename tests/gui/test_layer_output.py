"""Layer output: the selected node's output for one chosen sample, with random weights before training, live
while it trains, the trained weights after; the numbers are those of the generated model's submodule."""

from __future__ import annotations

import pytest
import torch

from core.datasets import load_dataset
from core.files.built_model import build_model
from core.inspect.health import Diagnosis, HealthSample, LayerHealth
from gui.inspect import output_feed
from gui.inspect.health_feed import point_of
from gui.inspect.output_feed import LiveOutputs, OutputFeed, sample_for


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")  # the preview's natural shape: 64 values a sample


def node_id(window, name: str) -> str:
    return next(n.id for n in window.document.graph.nodes if n.name == name)


def submodule_output(project, attr: str, sample: torch.Tensor) -> torch.Tensor:
    """What the generated model's submodule outputs for the sample, through a hook of the test's own."""
    module = build_model(project).module
    seen = []
    getattr(module, attr).register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    with torch.no_grad():
        module(sample[None])
    return seen[0][0]


def select(qtbot, window, name: str):
    dock = window.layer_output
    window.scene.select_nodes([node_id(window, name)])
    qtbot.waitUntil(lambda: dock.output is not None and dock.output.name == name, timeout=30_000)
    return dock.output


def test_a_selected_node_shows_its_output_for_the_sample_with_random_weights(qtbot, window, digits) -> None:
    dock = window.layer_output
    dock.dataset_source = lambda: digits
    output = select(qtbot, window, "fc1")
    assert output.kind == "vector" and output.shape == (128,)
    sample = sample_for(digits, 0, window.document.project)
    assert sample.shape == (1, 8, 8)  # the Input's shape, from the preview's 64 values
    expected = submodule_output(window.document.snapshot(), "fc1", sample)
    assert output.vector == pytest.approx(expected.numpy(), abs=1e-6)
    assert output.minimum == pytest.approx(float(expected.min()), abs=1e-6)
    assert "random weights" in dock.words
    assert dock.picture.kind == "vector"
    relu = select(qtbot, window, "relu1")
    assert relu.zeros == pytest.approx(float((expected <= 0).float().mean()))  # the share of units that stay 0


def test_the_sample_picker_is_shared_and_an_edit_is_followed(qtbot, window, digits) -> None:
    dock = window.layer_output
    dock.dataset_source = lambda: digits
    first = select(qtbot, window, "fc1").vector.copy()
    dock.sample.setValue(5)
    qtbot.waitUntil(lambda: dock.output is not None and not (dock.output.vector == first).all(), timeout=30_000)
    assert f"class {int(digits.y_test[5])}" in dock.sample_note.text()
    select(qtbot, window, "fc2")
    assert dock.sample.value() == 5  # one picker for every node
    expected = submodule_output(window.document.snapshot(), "fc2", sample_for(digits, 5, window.document.project))
    assert dock.output.vector == pytest.approx(expected.numpy(), abs=1e-6)
    window.document.graph.set_param(node_id(window, "fc1"), "out_features", 32)
    qtbot.waitUntil(lambda: dock.output is not None and dock.output.shape == (10,) and dock.version > 0)
    select(qtbot, window, "fc1")
    qtbot.waitUntil(lambda: dock.output.shape == (32,), timeout=30_000)


def test_live_outputs_are_computed_at_most_once_an_interval_on_the_training_thread(qtbot, window, digits) -> None:
    now = [0.0]
    feed = OutputFeed()
    project = window.document.snapshot()
    built = build_model(project).module
    watcher = LiveOutputs(project, feed, interval=1.0, clock=lambda: now[0])
    feed.request = (node_id(window, "fc1"), sample_for(digits, 0, project))
    watcher.attach(built, None)
    for step in range(1, 11):
        watcher.after_batch(step, 1.0)
    assert watcher.computed == 1
    now[0] = 1.0
    watcher.after_batch(11, 1.0)
    assert watcher.computed == 2
    watcher.detach()  # once more, with the final weights
    assert watcher.computed == 3


def test_a_slow_forward_pass_spaces_the_live_outputs_out(qtbot, window, digits) -> None:
    """A pass that takes 0.1 s (the clock moves while it computes) comes every 5 s, not every second: 2%."""
    now = [0.0]
    feed = OutputFeed()
    project = window.document.snapshot()
    watcher = LiveOutputs(project, feed, interval=1.0, clock=lambda: now[0])
    watcher.attach(build_model(project).module, None)
    feed.request = (node_id(window, "fc1"), sample_for(digits, 0, project))
    real = watcher.outputs.output

    def slow(*args):
        now[0] += 0.1
        return real(*args)

    watcher.outputs.output = slow
    watcher.after_batch(1, 1.0)
    assert watcher.computed == 1 and watcher.spacing == pytest.approx(5.0)
    now[0] = 2.0
    watcher.after_batch(2, 1.0)
    assert watcher.computed == 1
    now[0] = 5.2
    watcher.after_batch(3, 1.0)
    assert watcher.computed == 2


def test_the_watcher_the_dock_hands_a_run_computes_at_most_once_its_live_interval(qtbot, window, digits) -> None:
    dock = window.layer_output
    dock.live_interval = 5.0
    project = window.document.snapshot()
    (watcher,) = dock.watchers_for(project)
    now = [0.0]
    watcher.clock = lambda: now[0]
    watcher.attach(build_model(project).module, None)
    dock.feed.request = (node_id(window, "fc1"), sample_for(digits, 0, project))
    watcher.after_batch(1, 1.0)
    now[0] = 2.0  # past output_feed.LIVE_S (1 s), within the dock's 5 s
    watcher.after_batch(2, 1.0)
    assert watcher.computed == 1
    now[0] = 5.0
    watcher.after_batch(3, 1.0)
    assert watcher.computed == 2


@pytest.mark.slow
def test_while_training_the_output_is_live_and_after_it_the_trained_one(qtbot, window, tmp_path):
    dashboard = window.install_training()
    dashboard.runs_root = tmp_path / "runs"
    dock = window.layer_output
    dock.live_interval = 0.0  # a live output as often as the budget allows (the first batch always has one)
    qtbot.waitUntil(lambda: dashboard.dataset is not None, timeout=60_000)
    random = select(qtbot, window, "fc1").vector.copy()
    window.document.project.training.epochs = 2
    seen = []
    dock.shown.connect(lambda: seen.append(dock.words))
    with qtbot.waitSignal(dashboard.run_finished, timeout=120_000):
        run = dashboard.start_training()
    qtbot.waitUntil(lambda: "trained weights" in dock.words, timeout=30_000)
    assert any(words.startswith("live, while training") for words in seen), seen
    assert [w.interval for w in run.watchers if isinstance(w, LiveOutputs)] == [0.0]  # the dock's, not LIVE_S
    assert not (dock.output.vector == random).all()
    model = dashboard.last_model
    sample = sample_for(dashboard.dataset, 0, window.document.project)
    with torch.no_grad():
        model.eval()
        expected = model.fc1(model.flatten(sample[None].to(next(model.parameters()).device)))[0]
    assert dock.output.vector == pytest.approx(expected.cpu().numpy(), abs=1e-5)
    graph = window.document.graph
    graph.set_pos(node_id(window, "fc2"), (900.0, 300.0))  # a box moved: still the network the run trained
    with qtbot.waitSignal(dock.shown, timeout=30_000):
        dock.sample.setValue(1)
    assert "trained weights" in dock.words
    fc2 = LayerHealth("fc2", node_id(window, "fc2"), grad_norm=1e-9)
    dashboard.health.add([point_of(HealthSample(50, 1.0, 1.0, [fc2]))], [Diagnosis("vanishing", 50, "fc2", "fc2…")])
    dashboard.health.diagnoses.itemClicked.emit(dashboard.health.diagnoses.item(0))
    assert window.scene.selected_node_ids() == [node_id(window, "fc2")]  # a diagnosis selects its node


def test_an_output_of_only_zeros_is_said_in_words(qtbot, window) -> None:
    from core.inspect.activations import summarise

    dock = window.layer_output
    relu = node_id(window, "relu1")
    window.scene.select_nodes([relu])
    dead = output_feed.light(summarise(relu, "relu1", torch.zeros(128)))
    dock.feed.arrived.emit(dead, "live, while training (batch 40)")
    assert dock.picture.blank.text() == "Every value is 0 for this sample: none of its units fires."
    assert "zeros 100%" in dock.numbers.text()


def test_another_project_clears_the_inspect_tabs(qtbot, window) -> None:
    dashboard = window.install_training()
    health = dashboard.health
    fc1 = LayerHealth("fc1", node_id(window, "fc1"), grad_norm=0.5)
    health.add([point_of(HealthSample(10, 1.0, 1.0, [fc1]))], [Diagnosis("dead", 10, "fc1", "fc1 is dead")])
    assert health.steps == [10] and health.messages
    window.document.new()
    assert health.steps == [] and health.messages == [] and health.diagnoses.count() == 0
    assert window.layer_output.node_id is None


def test_a_closed_dock_computes_nothing_and_catches_up_when_shown(qtbot, window, digits) -> None:
    dock = window.layer_output
    dock.dataset_source = lambda: digits
    window.docks["layer_output"].close()
    window.scene.select_nodes([node_id(window, "fc2")])
    assert dock.node_id == node_id(window, "fc2") and dock.feed.request is None  # no sample asked for
    window.docks["layer_output"].show()
    qtbot.waitUntil(lambda: dock.output is not None and dock.output.name == "fc2", timeout=30_000)
