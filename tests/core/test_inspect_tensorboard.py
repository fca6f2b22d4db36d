"""TensorBoard histograms (core.inspect.tensorboard): each layer's weights and gradients, read back from the event
file with TensorBoard's own reader; without the package, a plain message saying what to install."""

from __future__ import annotations

import sys

import pytest

from core.cli import main
from core.datasets import load_dataset
from core.files.project import save
from core.inspect import tensorboard
from core.inspect.nodes import InspectError
from core.training import Trainer
from core.training.watch import Watcher
from tests.core.train_fixtures import mlp_project

INSTALL = 'pip install "torchcanvas[tensorboard]"'


def read_back(folder):
    """Tags and steps as TensorBoard itself reads the folder (every event file in it, as one run)."""
    pytest.importorskip("tensorboard", reason=f"the tensorboard extra is not installed ({INSTALL})")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"histograms": 0, "scalars": 0})
    events.Reload()
    return events


@pytest.mark.slow
def test_a_run_writes_every_layers_weight_and_gradient_histograms_into_its_folder(tmp_path) -> None:
    pytest.importorskip("tensorboard", reason=f"the tensorboard extra is not installed ({INSTALL})")
    digits = load_dataset("digits", input_shape=(64,))
    project = mlp_project([64], 32, 10, epochs=2, batch_size=64)
    per_epoch = -(-digits.count("train") // 64)  # 23 batches
    watcher = tensorboard.TensorBoardWatcher(every=10)
    result = Trainer(project, data=digits, out_dir=tmp_path, watchers=[watcher]).run()
    assert result.status == "finished"
    events = read_back(result.run_dir / "tensorboard")
    histograms = events.Tags()["histograms"]
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        assert f"weights/{name}" in histograms and f"gradients/{name}" in histograms, histograms
    steps = [e.step for e in events.Histograms("gradients/fc1.weight")]
    ends = [per_epoch, 2 * per_epoch]  # each epoch's last batch
    assert steps == sorted({1, *range(10, 2 * per_epoch + 1, 10), *ends})  # batch 1, every 10th and the ends
    last = events.Histograms("weights/fc2.weight")[-1].histogram_value
    assert last.num == 320 and last.min < 0 < last.max  # fc2's 32 x 10 weights, binned
    scalars = events.Tags()["scalars"]
    assert "batch/loss" in scalars and "val_accuracy" in scalars  # the run folder's epoch figures beside them
    assert [e.step for e in events.Scalars("val_accuracy")] == [1, 2]


@pytest.mark.slow
def test_a_run_that_saves_nothing_writes_nothing(tmp_path) -> None:
    pytest.importorskip("tensorboard", reason=f"the tensorboard extra is not installed ({INSTALL})")
    digits = load_dataset("digits", input_shape=(64,))
    watcher = tensorboard.TensorBoardWatcher()
    result = Trainer(mlp_project([64], 8, 10, epochs=1), data=digits, save=False, watchers=[watcher]).run()
    assert result.status == "finished" and watcher.folder is None and watcher.histograms == 0


@pytest.mark.slow
def test_train_tensorboard_writes_the_histograms_and_says_where(tmp_path, capsys) -> None:
    pytest.importorskip("tensorboard", reason=f"the tensorboard extra is not installed ({INSTALL})")
    path = tmp_path / "tiny.json"
    save(mlp_project([64], 16, 10, epochs=1, batch_size=256), path)
    assert main(["train", str(path), "--tensorboard", "--no-health", "--out", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("TensorBoard histograms:"))
    folder = line.split("--logdir ", 1)[1]
    assert "gradients/fc1.weight" in read_back(folder).Tags()["histograms"]


def test_without_tensorboard_the_watcher_and_the_command_say_what_to_install(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    assert not tensorboard.available()
    with pytest.raises(InspectError, match=r'pip install "torchcanvas\[tensorboard\]"'):
        tensorboard.TensorBoardWatcher()
    path = tmp_path / "tiny.json"
    save(mlp_project([64], 16, 10, epochs=1), path)
    assert main(["train", str(path), "--tensorboard", "--out", str(tmp_path / "runs")]) == 2  # as a usage error
    captured = capsys.readouterr()
    assert INSTALL in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # refused before training


@pytest.mark.slow
def test_a_short_runs_batch_loss_is_a_curve_not_one_point(tmp_path) -> None:
    """Trial 4 I.4: the batch loss was written with the histograms' cadence (batch 1 and every 100), so a 2-epoch
    digits run of 40 batches an epoch had a one-point batch-loss curve; now batch 1, every 10th and each epoch's
    end, and each point is that batch's own loss."""
    pytest.importorskip("tensorboard", reason=f"the tensorboard extra is not installed ({INSTALL})")
    digits = load_dataset("digits", input_shape=(64,))
    project = mlp_project([64], 16, 10, epochs=2, batch_size=32)
    per_epoch = -(-digits.count("train") // 32)
    losses: dict[int, float] = {}
    watcher = tensorboard.TensorBoardWatcher()  # the defaults torchcanvas train --tensorboard uses

    class Losses(Watcher):
        def attach(self, model, optimizer) -> None: ...
        def after_batch(self, step: int, loss: float) -> None:
            losses[step] = loss

        def detach(self) -> None: ...

    result = Trainer(project, data=digits, out_dir=tmp_path, watchers=[watcher, Losses()]).run()
    assert result.status == "finished"
    points = {e.step: e.value for e in read_back(result.run_dir / "tensorboard").Scalars("batch/loss")}
    assert sorted(points) == sorted({1, *range(10, 2 * per_epoch + 1, 10), per_epoch, 2 * per_epoch}), points
    assert all(points[step] == pytest.approx(losses[step], rel=1e-6) for step in points)
    histograms = [e.step for e in read_back(result.run_dir / "tensorboard").Histograms("weights/fc1.weight")]
    assert histograms == [1, per_epoch, 2 * per_epoch]  # their own cadence is unchanged
