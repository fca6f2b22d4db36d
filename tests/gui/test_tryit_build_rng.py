"""Try it builds the run's network in a thread when a run ends and the tab is shown, and the user may start the
next run meanwhile. build_model seeded torch's process-wide generator and drew every layer's starting values
from it, so a run made while Try it built got other dropout masks, and other losses, each time: not the numbers
the CLI and the exported script give. The build now takes the weights on the meta device and draws nothing. The
layer outputs view's random-weights build in its thread did the same."""

from __future__ import annotations

import pytest
import torch

from gui.training.tryit_model import TrySource, build
from tests.gui.test_panel_transfer import dashboard, losses_of, repeated_in_a_thread, run_to_the_end, with_dropout


@pytest.fixture(autouse=True)
def _quiet_logs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))


@pytest.mark.slow  # three short runs: a few seconds
def test_a_run_made_while_try_it_builds_gives_the_same_losses(qtbot, tmp_path) -> None:
    dash, _stack = dashboard(qtbot, tmp_path)
    with_dropout(dash.project)  # the run draws from the global generator at every batch
    dash.project.training.epochs = 2

    first = run_to_the_end(qtbot, dash)
    quiet, run_dir = losses_of(first), first.run_dir
    source = TrySource(
        dash.project, run_dir, dash.project.training.loss, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long),
        None, None, (2,), (2,), ["a", "b", "c"], False, "points",
    )  # fmt: skip
    with repeated_in_a_thread(lambda: build(source)[0]) as builds:
        busy = losses_of(run_to_the_end(qtbot, dash))
    assert len(builds) > 1
    assert builds[0].weights is not None and builds[0].weights.parent == run_dir
    assert busy == quiet


@pytest.mark.slow  # two short runs: a few seconds
def test_a_run_made_while_the_layer_outputs_view_builds_a_random_network_gives_the_same_losses(qtbot, tmp_path):
    """The layer outputs view builds the network with its seeded random starting values in its own thread
    (core.inspect.activations.LayerOutputs without a model): those now come from a private generator, drawn
    through a per-thread torch function mode, so the run's thread draws from the global one undisturbed."""
    from core.inspect.activations import LayerOutputs

    dash, _stack = dashboard(qtbot, tmp_path)
    with_dropout(dash.project)
    dash.project.training.epochs = 2

    quiet = losses_of(run_to_the_end(qtbot, dash))
    with repeated_in_a_thread(lambda: LayerOutputs(dash.project)) as views:
        busy = losses_of(run_to_the_end(qtbot, dash))
    assert len(views) > 1
    assert busy == quiet
