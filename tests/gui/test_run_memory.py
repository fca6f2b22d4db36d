"""Finished runs leave only what the Runs list shows: no trainer, model or generated script of an old run stays
alive in the window (they held ~67 MB a run of MNIST before)."""

from __future__ import annotations

import gc
import linecache
import weakref

import pytest
from torch import nn

from core.training import Trainer

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # gc.get_objects() touches torch.distributed's aliases
]


def live_trainers() -> list[Trainer]:
    gc.collect()
    return [obj for obj in gc.get_objects() if isinstance(obj, Trainer)]


def generated_entries() -> list[str]:
    return [name for name in linecache.cache if name.startswith("<torchcanvas-")]


def generated_models() -> list[nn.Module]:
    gc.collect()
    return [obj for obj in gc.get_objects() if isinstance(obj, nn.Module) and "torchcanvas" in type(obj).__module__]


@pytest.mark.slow
def test_finished_runs_release_trainer_model_and_script(qtbot, window, tmp_path, monkeypatch):
    before = weakref.WeakSet(generated_models())  # earlier tests' models are theirs to release, not this window's
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    dashboard = window.install_training()
    dashboard.runs_root = tmp_path / "runs"
    project = window.document.project
    project.training.epochs = 1
    models: list[weakref.ref] = []
    runs: list[weakref.ref] = []
    for _ in range(3):
        with qtbot.waitSignal(dashboard.run_finished, timeout=60_000) as finished:
            run = dashboard.start_training()
            assert run is not None
        assert finished.args[0].status == "finished", finished.args[0].message
        runs.append(weakref.ref(run))
        models.append(weakref.ref(dashboard.last_model) if dashboard.last_model is not None else (lambda: None))
        del run
    for _ in range(200):  # deleteLater and the thread's finished signal: waited for, not 50 ms of a busy machine
        qtbot.wait(50)
        gc.collect()
        if all(ref() is None for ref in runs):
            break
    assert len(dashboard.runs.records) >= 3  # the Runs list keeps every run's curves and summary
    assert all(record.history for record in dashboard.runs.records[-3:])
    assert [ref() is None for ref in runs] == [True, True, True]
    assert live_trainers() == []
    assert all(ref() is None for ref in models[:-1])  # at most the last model (the Results view predicts with it)
    trained = [model for model in generated_models() if model not in before]
    assert len(trained) <= 1
    assert len(generated_entries()) <= 1


def test_a_long_run_keeps_the_newest_log_lines_only(qtbot):
    """3,000 epochs of digits grew the app by ~0.4 MB/s, half of it the log (each line costs Qt ~7 KB)."""
    from core.training import TrainEvent
    from gui.training import dashboard as dashboard_module
    from gui.training.dashboard import TrainingDashboard

    dash = TrainingDashboard()
    qtbot.addWidget(dash)
    epochs = dashboard_module.LOG_LINES + 100
    for epoch in range(1, epochs + 1):
        dash.panel.on_event(TrainEvent("epoch", epoch=epoch, epochs=epochs, loss=0.5, accuracy=0.8))
    lines = dash.panel.log.toPlainText().splitlines()
    assert len(lines) <= dashboard_module.LOG_LINES
    assert lines[-1].startswith(f"Epoch {epochs}/{epochs}")
