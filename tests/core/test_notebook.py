"""The Jupyter notebook export: the training script's code in cells, each step beside its Keras equivalent; run
top to bottom in a real kernel it trains exactly as the exported script does, and so as the app (the per-epoch
losses within 1e-6 on CPU)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import core.datasets.folder as folder_module
from core.cli import main
from core.code.notebook import INSTALL
from core.code.script import generate_script
from core.errors import ExportError
from core.files.export_text import export_notebook
from core.files.project import Project, save
from core.training.setup import run_as_module
from core.training.trainer import Trainer
from tests.core.train_fixtures import EXAMPLES, example, mlp_project, write_images

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[dev]')")


def _cells(path: Path, kind: str) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == kind]


def _fine_tuned(tmp_path: Path) -> Project:
    """Transfer learning under the torchrun setting: weights from a file, fc1 frozen for one epoch, then phase two;
    the notebook has its own cell for the start and the freezing (S15) and none of the DDP lines (S14)."""
    project = example("digits_mlp", epochs=2, distributed=True, freeze_epochs=1, initial_weights=str(tmp_path / "w.pt"))
    project.graph.set_trainable(project.graph.by_name("fc1").id, False)
    script, _ = run_as_module(generate_script(project).source)
    torch.manual_seed(1)  # weights the script's own seed would not draw
    torch.save(script.Net().state_dict(), tmp_path / "w.pt")
    return project


def _streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """An image folder read batch by batch, as one too big for memory is: its Dataset class (ImageFiles) and
    what it reads must be defined before the data cell makes one."""
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)
    pictures = write_images(tmp_path / "pictures", {"dark": 14, "light": 14})
    return mlp_project([3, 6, 6], 16, 2, dataset=f"folder:{pictures}", epochs=2)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "params"), [("plain", "9,610"), ("fine_tuned", "9,610"), ("streamed", "1,778")])
def test_the_notebook_runs_top_to_bottom_and_gets_the_apps_losses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, params: str
) -> None:
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[dev]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[dev]')")
    if case == "plain":
        project = example("digits_mlp", epochs=2)
    else:
        project = _fine_tuned(tmp_path) if case == "fine_tuned" else _streamed(tmp_path, monkeypatch)
    path = tmp_path / "digits.ipynb"
    export_notebook(project, path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # the kernel inherits it: CPU, as the app's run below
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "Test loss:" in outputs and f"Total params: {params}" in outputs
    history = json.loads((tmp_path / "history.json").read_text())
    assert (tmp_path / "model_weights.pt").exists()
    script = tmp_path / "script"  # the exported script, which tests/core/test_script.py holds to the app's run
    script.mkdir()
    (script / "train.py").write_text(generate_script(project).source)
    run = subprocess.run([sys.executable, "train.py"], cwd=script, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    expected = json.loads((script / "history.json").read_text())
    app = Trainer(project, save=False).run()  # and the app's own run, phase two included
    assert app.status == "finished", app.message
    assert len(history) == len(expected) == len(app.history) == 2
    for mine, theirs, apps in zip(history, expected, app.history, strict=True):
        for key in ("loss", "val_loss"):
            assert abs(mine[key] - theirs[key]) <= 1e-6, (mine["epoch"], key, mine[key], theirs[key])
            assert abs(mine[key] - apps[key]) <= 1e-6, (mine["epoch"], key, mine[key], apps[key])
        assert mine["accuracy"] == pytest.approx(theirs["accuracy"], abs=1e-9)
        assert mine["lr"] == pytest.approx(apps["lr"], rel=1e-12)
    if case == "fine_tuned":  # the weights file was read, and phase two ran in the loop's cell
        assert "From w.pt: 4 tensors loaded, 0 new" in outputs and "Phase two: every layer trains" in outputs
        assert "DDP" not in "\n".join(_cells(path, "code"))
        assert "## Start from pretrained weights and freeze some layers" in "\n".join(_cells(path, "markdown"))


def test_each_step_says_what_it_does_beside_keras(tmp_path: Path) -> None:
    path = tmp_path / "cnn.ipynb"
    assert main(["export", str(EXAMPLES / "mnist_cnn.json"), "-f", "notebook", "-o", str(path)]) == 0
    text = "\n".join(_cells(path, "markdown"))
    for piece in ("keras.Sequential(", "model.fit(", "model.evaluate(", "model.eval()", "torch.no_grad()"):
        assert piece in text, piece
    assert "Total params: " in text and "conv1" in text  # the summary table
    code = "\n".join(_cells(path, "code"))
    assert "class Net(nn.Module):" in code and "backward()" in code
    assert "def main(" not in code and "__main__" not in code  # the steps run in the cells themselves
    assert "matplotlib" in code  # the curves, or the numbers when matplotlib is missing


def test_a_network_keras_lacks_still_exports_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "resnet.ipynb"
    export_notebook(example("resnet_small"), path)
    assert "TorchCanvas cannot write this network in Keras yet" in "\n".join(_cells(path, "markdown"))


def test_without_nbformat_the_export_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nbformat", None)  # import nbformat raises ImportError
    path = tmp_path / "digits.ipynb"
    path.write_text("before")
    with pytest.raises(ExportError) as caught:
        export_notebook(example("digits_mlp"), path)
    assert str(caught.value) == INSTALL and "pip install" in INSTALL
    assert path.read_text() == "before"  # nothing written over the old file


def test_a_project_that_cannot_train_is_refused_in_checks_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = example("digits_mlp")
    project.graph.node(project.graph.nodes_of_type("Input")[0].id).params["shape"] = [3, 16, 16]
    path = tmp_path / "net.json"
    save(project, path)
    out = tmp_path / "net.ipynb"
    assert main(["export", str(path), "-f", "notebook", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Cannot export the notebook: the project cannot train yet" in err and "[3, 16, 16]" in err
    assert "Traceback" not in err and not out.exists()
