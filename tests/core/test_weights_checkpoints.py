"""Published checkpoints as training repositories save them (tester's J8): a state_dict saved from nn.DataParallel,
every key starting with ``module.`` (akamaster's CIFAR ResNets), and a checkpoint that keeps numpy values beside
the tensors (``'best_acc': np.float64(0.9)``). Both were refused; a pickle that would run code still is."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.cli import main
from core.errors import ExportError
from core.files.built_model import build_model
from core.files.project import load
from core.files.weights import read_weights
from core.weights_reading import unwrap_keys

MODEL = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())
"""


class Net(nn.Module):  # the same network as MODEL's, for its keys and shapes
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)


def _state() -> dict[str, torch.Tensor]:
    torch.manual_seed(3)
    return Net().state_dict()


def _import(tmp_path: Path, weights: Path) -> int:
    source = tmp_path / "net.py"
    source.write_text(MODEL, encoding="utf-8")
    out = tmp_path / "net.json"
    return main(["import", f"{source}:Net", "-o", str(out), "--input-shape", "4", "--weights", str(weights)])


def _imported(tmp_path: Path) -> dict[str, torch.Tensor]:
    return torch.load(tmp_path / "net.initial.pt", weights_only=True)


def test_a_data_parallel_checkpoint_imports_without_its_module_prefix(tmp_path: Path, capsys) -> None:
    state = _state()
    weights = tmp_path / "resnet20.th"
    torch.save({"epoch": 200, "best_prec1": 91.7, "state_dict": {f"module.{k}": v for k, v in state.items()}}, weights)
    assert _import(tmp_path, weights) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    assert "note: Every key in resnet20.th starts with `module.`" in said and "nn.DataParallel" in said, said
    imported = _imported(tmp_path)
    assert set(imported) == set(state)
    assert all(torch.equal(imported[k], state[k]) for k in state)  # the file's values, not the constructor's


def test_a_prefix_that_does_not_fit_the_model_is_left_for_the_fit_check_to_refuse() -> None:
    state = _state()
    wanted = set(state)
    some = {("module." + k if k.startswith("fc1") else k): v for k, v in state.items()}  # not every key
    assert unwrap_keys(some, wanted, "w.pt") == (some, "")
    other = {f"module.{k}": v for k, v in state.items()} | {"module.fc3.weight": torch.zeros(1)}  # another model
    assert unwrap_keys(other, wanted, "w.pt") == (other, "")
    assert unwrap_keys(state, wanted, "w.pt") == (state, "")  # already the model's keys: nothing said


def test_a_checkpoint_with_numpy_values_beside_the_tensors_is_read(tmp_path: Path, capsys) -> None:
    state = _state()
    weights = tmp_path / "best.pth"
    torch.save(
        {
            "model": state,
            "best_acc": np.float64(0.9),
            "epoch": np.int64(12),
            "class_counts": np.array([5, 7, 9]),
            "mean": np.array([0.5, 0.25], dtype=np.float32),
        },
        weights,
    )
    assert set(read_weights(weights).state) == set(state)
    assert _import(tmp_path, weights) == 0, capsys.readouterr().err
    imported = _imported(tmp_path)
    assert all(torch.equal(imported[k], state[k]) for k in state)


def test_a_checkpoint_saved_under_numpy_1_s_names_is_read(tmp_path: Path) -> None:
    """numpy 1 pickled its scalars as ``numpy.core.multiarray.scalar`` (numpy 2: ``numpy._core``); the file is the
    legacy format, a plain pickle stream, so the module's name can be written as numpy 1 wrote it."""
    legacy = tmp_path / "legacy.pt"
    torch.save({"state_dict": _state(), "best_acc": np.float64(0.75)}, legacy, _use_new_zipfile_serialization=False)
    data = legacy.read_bytes()
    assert b"numpy._core.multiarray" in data
    legacy.write_bytes(data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert set(read_weights(legacy).state) == set(_state())


class RunsCode:
    """What an attacker pickles: loading it calls os.system."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("beside", ["plain", "with numpy values"])
def test_a_checkpoint_that_would_run_code_is_still_refused(tmp_path: Path, beside: str) -> None:
    marker = tmp_path / "ran"
    weights = tmp_path / "evil.pth"
    extra = {"best_acc": np.float64(0.9), "counts": np.array([1, 2])} if beside != "plain" else {}
    torch.save({"state_dict": _state(), "hook": RunsCode(marker), **extra}, weights)
    with pytest.raises(ExportError) as refused:
        read_weights(weights)
    said = str(refused.value)
    assert "could run code when loaded, so TorchCanvas does not load it" in said, said
    assert "system" in said  # it names what the file asks for
    assert not marker.exists()


def test_a_bare_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    weights = tmp_path / "evil.pt"
    weights.write_bytes(pickle.dumps(RunsCode(marker), protocol=2))
    with pytest.raises(ExportError, match="could run code when loaded"):
        read_weights(weights)
    assert not marker.exists()


def test_reading_numpy_values_leaves_torch_s_allow_list_as_it_was(tmp_path: Path) -> None:
    before = set(torch.serialization.get_safe_globals())
    weights = tmp_path / "best.pth"
    torch.save({"model": _state(), "best_acc": np.float64(0.9)}, weights)
    read_weights(weights)
    assert set(torch.serialization.get_safe_globals()) == before
    with pytest.raises(pickle.UnpicklingError):  # torch.load elsewhere in the process is as strict as before
        torch.load(weights, weights_only=True)


def test_export_and_try_it_take_a_data_parallel_checkpoint_too(tmp_path: Path, capsys) -> None:
    """The same reader serves export --weights and Try it (core.files.built_model): the prefix comes off there too."""
    state = _state()
    plain = tmp_path / "plain.pt"
    torch.save(state, plain)
    assert _import(tmp_path, plain) == 0, capsys.readouterr().err
    parallel = tmp_path / "parallel.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, parallel)
    built = build_model(load(tmp_path / "net.json"), parallel)
    assert "Every key in parallel.pth starts with `module.`" in built.weights_note, built.weights_note
    own = built.module.state_dict()
    assert set(own) == set(state) and all(torch.equal(own[k], state[k]) for k in state)
