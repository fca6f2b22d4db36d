"""Transfer learning in the exported script and the app (issue 27, the code side): frozen nodes get
``requires_grad_(False)`` and stay out of the optimizer, a frozen BatchNorm keeps its statistics (eval mode while
the rest trains), two phases switch to everything trainable at ``lr * unfreeze_lr_factor``, initial weights load
by name and shape; the app runs the script's own functions, so an exported CPU run gives the app's losses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from core.code.keras_code import generate_keras_model
from core.code.script import generate_script
from core.datasets import load_dataset
from core.files.project import Project
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import example, mlp_project


def _freeze(project: Project, *names: str) -> Project:
    for name in names:
        project.graph.set_trainable(project.graph.by_name(name).id, False)
    return project


def _tiny(**training) -> Project:
    """Input [64] -> fc1 -> ReLU -> BatchNorm1d (bn1) -> fc2 -> Output, on digits."""
    return mlp_project([64], 16, 10, extra=("BatchNorm1d",), dataset="digits", **training)


class Snapshot:
    """A watcher (core.training.watch) that keeps the model as training starts and each batch's frozen state."""

    def __init__(self) -> None:
        self.start: dict[str, torch.Tensor] = {}
        self.optimized: set[int] = set()
        self.fc1_trains: list[bool] = []
        self.model: torch.nn.Module | None = None

    def attach(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.start = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}

    def after_batch(self, step: int, loss: float) -> None:
        assert self.model is not None
        self.fc1_trains.append(self.model.fc1.weight.requires_grad)

    def detach(self) -> None:
        pass


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", input_shape=(64,))


def test_frozen_layers_keep_their_weights_and_stay_out_of_the_optimizer(digits) -> None:
    project = _freeze(_tiny(epochs=2, lr=0.01), "fc1")
    watch = Snapshot()
    trainer = Trainer(project, data=digits, save=False, watchers=[watch])
    assert trainer.run().status == "finished"
    model = trainer.model
    assert model is not None
    assert torch.equal(model.fc1.weight, watch.start["fc1.weight"])
    assert not torch.equal(model.fc2.weight, watch.start["fc2.weight"])
    assert id(model.fc1.weight) not in watch.optimized and id(model.fc2.weight) in watch.optimized
    assert watch.fc1_trains and not any(watch.fc1_trains)


def test_a_frozen_batchnorm_keeps_its_statistics_while_the_rest_trains(digits) -> None:
    """Keras' trainable = False: a frozen BatchNorm runs in inference mode, so its running statistics stay."""
    project = _freeze(_tiny(epochs=1), "bn1")
    watch = Snapshot()
    trainer = Trainer(project, data=digits, save=False, watchers=[watch])
    assert trainer.run().status == "finished"
    state = trainer.model.state_dict()  # type: ignore[union-attr]
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.equal(state[f"bn1.{key}"], watch.start[f"bn1.{key}"]), key
    assert not torch.equal(state["fc1.weight"], watch.start["fc1.weight"])  # the others train


def test_two_phases_unfreeze_everything_at_the_lower_learning_rate(digits) -> None:
    project = _freeze(_tiny(epochs=3, lr=0.01, freeze_epochs=1, unfreeze_lr_factor=0.1), "fc1")
    notices: list[tuple[int | None, str]] = []
    watch = Snapshot()
    trainer = Trainer(
        project,
        data=digits,
        save=False,
        watchers=[watch],
        on_event=lambda e: e.kind == "notice" and notices.append((e.epoch, e.message)),
    )
    result = trainer.run()
    assert result.status == "finished", result.message
    assert [row["lr"] for row in result.history] == pytest.approx([0.01, 0.001, 0.001])
    per_epoch = len(watch.fc1_trains) // 3
    assert watch.fc1_trains == [False] * per_epoch + [True] * 2 * per_epoch
    assert [epoch for epoch, message in notices if message.startswith("Phase two")] == [2]
    assert not torch.equal(trainer.model.fc1.weight, watch.start["fc1.weight"])  # type: ignore[union-attr]


def test_initial_weights_load_by_name_and_shape_and_the_rest_stays_new(digits, tmp_path) -> None:
    torch.manual_seed(7)
    start = {"fc1.weight": torch.randn(16, 64), "fc1.bias": torch.randn(16), "fc2.weight": torch.randn(5, 16)}
    torch.save(start, tmp_path / "w.pt")
    project = _freeze(_tiny(epochs=1, initial_weights=str(tmp_path / "w.pt")), "fc1")
    notices: list[str] = []
    watch = Snapshot()
    trainer = Trainer(
        project, data=digits, save=False, watchers=[watch], on_event=lambda e: notices.append(e.message or "")
    )
    assert trainer.run().status == "finished"
    assert torch.equal(watch.start["fc1.weight"], start["fc1.weight"])  # loaded, then kept frozen
    assert torch.equal(trainer.model.fc1.weight, start["fc1.weight"])  # type: ignore[union-attr]
    assert watch.start["fc2.weight"].shape == (10, 16)  # another shape: stays new
    said = next(n for n in notices if n.startswith("Initial weights w.pt"))
    assert "2 tensors loaded" in said and "fc2.weight" in said and "fc1.weight" not in said


def test_a_frozen_block_freezes_every_layer_in_it() -> None:
    project = _freeze(example("resnet_small"), "layer1", "relu")
    source = generate_script(project).source
    assert 'FROZEN = ["layer1"]' in source  # a ReLU has no weights: freezing it changes nothing
    assert "keep_frozen_norms_in_eval(model)" in source  # the block holds BatchNorm layers
    script, _ = run_as_module(source)
    model = script.Net()
    script.freeze(model)
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    model.train()
    script.keep_frozen_norms_in_eval(model)
    assert not model.layer1[0].bn1.training and model.layer2[0].bn1.training and model.bn1.training
    optimizer = script.make_optimizer(model)
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for p in model.parameters() if p.requires_grad}


def test_nothing_frozen_emits_none_of_it() -> None:
    source = generate_script(example("resnet_small")).source
    for word in ("FROZEN", "freeze", "requires_grad", "unfreeze", "INITIAL_WEIGHTS", "start_from"):
        assert word not in source, word


def test_keras_marks_frozen_layers_not_trainable() -> None:
    project = _freeze(example("digits_mlp"), "fc1")
    code = generate_keras_model(project.graph, title="x").source
    fc1 = next(line for line in code.splitlines() if 'name="fc1"' in line)
    assert "trainable=False" in fc1
    assert code.count("trainable=False") == 1


@pytest.mark.slow
@pytest.mark.parametrize("scheduler", ["StepLR", "OneCycleLR"])
def test_the_exported_script_reproduces_a_two_phase_run(tmp_path, scheduler: str) -> None:
    """Frozen fc1 and BatchNorm, initial weights, two phases: the script's per-epoch losses are the app's."""
    torch.manual_seed(7)
    torch.save({"fc1.weight": torch.randn(16, 64), "fc2.bias": torch.randn(3)}, tmp_path / "w.pt")
    settings = {"epochs": 3, "freeze_epochs": 1, "lr": 0.01, "scheduler": scheduler, "step_size": 1}
    project = _freeze(_tiny(**settings, initial_weights=str(tmp_path / "w.pt")), "fc1", "bn1")
    folder = tmp_path / "clean"
    folder.mkdir()
    (folder / "train.py").write_text(generate_script(project).source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    process = subprocess.Popen(
        [sys.executable, "train.py"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    app = Trainer(project, save=False).run()
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    assert "From w.pt: 1 tensors loaded, 8 new (fc1.bias, " in output  # counts, and the new names first six
    assert "Phase two" in output
    script = json.loads((folder / "history.json").read_text())
    assert app.status == "finished" and len(script) == len(app.history) == 3
    for mine, theirs in zip(app.history, script, strict=True):
        for key in ("loss", "val_loss"):
            assert abs(mine[key] - theirs[key]) <= 1e-6, (mine["epoch"], key, mine[key], theirs[key])
        assert mine["lr"] == pytest.approx(theirs["lr"], rel=1e-12)


def test_a_layer_frozen_inside_a_block_is_frozen_in_every_copy_as_the_summary_counts() -> None:
    """A layer frozen in a block's definition (the summary counts it non-trainable in every copy) was not frozen
    by the script: only top-level nodes were."""
    from core.model.analysis import analyze
    from core.model.summary import param_split

    project = example("resnet_small")
    inner = project.graph.blocks["BasicBlock"].graph
    inner.set_trainable(inner.by_name("conv1").id, False)
    source = generate_script(project).source
    assert 'FROZEN = ["layer1.0.conv1", "layer1.1.conv1", "layer2.1.conv1"]' in source
    script, _ = run_as_module(source)
    model = script.Net()
    script.freeze(model)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert frozen == param_split(project.graph, analyze(project.graph))[1] > 0
    assert model.layer2[0].conv1.weight.requires_grad  # the first copy of layer2 is the other drawing


@pytest.mark.slow
def test_the_notebook_runs_a_two_phase_run_as_the_app_does(tmp_path, monkeypatch) -> None:
    """The notebook is cut from the script's text: its frozen part, phase switch and the rest run in cells."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from core.files.export_text import export_notebook

    project = _freeze(_tiny(epochs=3, lr=0.01, freeze_epochs=1, scheduler="StepLR", step_size=1), "fc1", "bn1")
    path = tmp_path / "tiny.ipynb"
    export_notebook(project, path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3")
    client.resources = {"metadata": {"path": tmp_path}}
    client.execute()
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "Phase two" in outputs
    history = json.loads((tmp_path / "history.json").read_text())
    app = Trainer(project, save=False).run()
    assert len(history) == len(app.history) == 3
    for mine, theirs in zip(app.history, history, strict=True):
        assert abs(mine["loss"] - theirs["loss"]) <= 1e-6 and mine["lr"] == pytest.approx(theirs["lr"], rel=1e-12)
