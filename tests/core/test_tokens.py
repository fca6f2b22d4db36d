"""Token models train: int64 token ids reach an Embedding from CSV columns, .npz arrays and the built-in
``sequences`` set (never normalised), in the app, in ``torchcanvas train`` and in the exported script."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import main
from core.code.script import generate_script
from core.datasets import load_dataset, parse_spec
from core.datasets.sequences import SEQUENCE_DEFAULTS, sequence_info
from core.errors import DataError
from core.model.analysis import analyze
from core.portable.sources import make_sequences
from core.training import Trainer
from tests.core.test_script import _script_history, _start_script
from tests.core.train_fixtures import EXAMPLES, example


def write_token_csv(path: Path, samples: int = 600, length: int = 12, vocab: int = 20, classes: int = 3) -> Path:
    x, y, *_ = make_sequences(samples, length, vocab, classes, seed=5)
    lines = [",".join([*(f"t{i}" for i in range(length)), "label"])]
    lines += [",".join(str(v) for v in [*row, label]) for row, label in zip(x.tolist(), y.tolist(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def token_project(dataset: str, length: int, vocab: int, classes: int, **training: object):
    """The sequence example re-sized for other token data."""
    project = example("sequence_lstm", dataset=dataset, **training)
    graph = project.graph
    graph.set_param(graph.by_name("tokens").id, "shape", [length])
    graph.set_param(graph.by_name("embed").id, "num_embeddings", vocab)
    graph.set_param(graph.by_name("fc").id, "out_features", classes)
    return project


def test_sequences_are_seeded_int64_tokens_with_their_metadata() -> None:
    data = load_dataset("sequences")
    info = sequence_info()
    assert data.input_dtype == info.dtype == "int64" and data.x_train.dtype == torch.int64
    assert data.input_shape == info.input_shape == (SEQUENCE_DEFAULTS["length"],)
    assert data.num_classes == info.num_classes == 4 and data.class_names == list(info.class_names)
    assert data.vocab_size == info.vocab_size == 30 and data.mean is None  # token ids are never normalised
    assert sum(data.count(split) for split in ("train", "val", "test")) == SEQUENCE_DEFAULTS["samples"]
    assert int(data.x_train.min()) >= 0 and int(data.x_train.max()) < 30
    # the rule: the class is the marker (tokens 1 to 4) that comes first
    x, y = data.x_train, data.y_train
    markers = (x >= 1) & (x <= 4)
    assert bool(markers.any(1).all()) and int(markers.sum(1).min()) >= 2
    first = markers.int().argmax(1)  # the position of the first marker
    assert torch.equal(x[torch.arange(len(x)), first] - 1, y)
    again = load_dataset("sequences")
    assert torch.equal(again.x_train, x)
    assert not torch.equal(load_dataset("sequences", seed=1).x_train, x)


def test_sequence_options() -> None:
    spec = parse_spec("sequences:samples=300,length=8,vocab=12,classes=3")
    assert spec.text == "sequences:samples=300,length=8,vocab=12,classes=3"
    assert parse_spec("sequences").text == "sequences"
    data = load_dataset(spec, val_fraction=0.2, test_fraction=0.2)
    assert data.input_shape == (8,) and data.num_classes == 3 and data.vocab_size == 12
    assert sequence_info(spec.options) == sequence_info({"samples": 300, "length": 8, "vocab": 12, "classes": 3})
    for bad, message in [
        ("sequences:length=2", "length must be a whole number from 3"),
        ("sequences:vocab=5", "vocab must be at least classes \\+ 2"),
        ("sequences:colour=1", "options are samples=..., length=..., vocab=..., classes=..."),
    ]:
        with pytest.raises(DataError, match=message):
            parse_spec(bad)


def test_csv_token_columns_load_as_int64_unchanged(tmp_path) -> None:
    path = write_token_csv(tmp_path / "tokens.csv", samples=50)
    rows = {tuple(int(v) for v in line.split(",")[:-1]) for line in path.read_text().splitlines()[1:]}
    data = load_dataset(f"csv:{path}:label", input_dtype="int64")
    assert data.x_train.dtype == torch.int64 and data.input_dtype == "int64" and data.mean is None
    assert {tuple(row) for row in data.x_train.tolist()} <= rows
    assert data.vocab_size == int(max(max(row) for row in rows)) + 1
    numbers = load_dataset(f"csv:{path}:label", input_dtype="float32")
    assert numbers.x_train.dtype == torch.float32 and numbers.mean is not None
    path.write_text(path.read_text().replace("\n3,", "\n3.5,", 1))
    with pytest.raises(DataError, match=r"tokens\.csv, row \d+, column 't0': '3\.5' is not a whole number \(a token"):
        load_dataset(f"csv:{path}:label", input_dtype="int64")


def test_npz_token_arrays_load_as_int64_unchanged(tmp_path) -> None:
    x, y, *_ = make_sequences(40, 6, 300, 2, seed=0)
    path = tmp_path / "tokens.npz"
    np.savez(path, x_train=x.numpy().astype(np.int32), y_train=y.numpy(), x_test=x[:8].numpy(), y_test=y[:8].numpy())
    data = load_dataset(f"npz:{path}", input_dtype="int64")
    assert data.x_train.dtype == torch.int64 and data.input_shape == (6,) and data.vocab_size == 300
    assert torch.equal(data.x_test, x[:8])  # the file's own test split, untouched
    np.savez(path, x_train=x.numpy() - 3, y_train=y.numpy())  # markers 1 and 2 become -2 and -1
    with pytest.raises(DataError, match=r"tokens\.npz \(x_train\): -\d in sample \d+ is not a token id"):
        load_dataset(f"npz:{path}", input_dtype="int64")


def test_an_input_dtype_the_data_cannot_give_is_refused() -> None:
    with pytest.raises(DataError, match=r"Input node takes int64 token ids, but digits gives decimal numbers"):
        load_dataset("digits", input_dtype="int64")
    with pytest.raises(DataError, match=r"sequences gives int64 token ids, but the Input node takes float32"):
        load_dataset("sequences", input_dtype="float32")


def test_float_input_into_embedding_is_a_problem_before_train() -> None:
    project = example("sequence_lstm")
    project.graph.set_param(project.graph.by_name("tokens").id, "dtype", "float32")
    problems = [p for p in analyze(project.graph).errors if p.node_id == project.graph.by_name("embed").id]
    assert problems and "set the Input's dtype to int64" in problems[0].message
    result = Trainer(project, save=False).run()
    assert result.status == "failed" and "set the Input's dtype to int64" in result.message


@pytest.mark.slow
def test_sequence_example_learns_offline(tmp_path) -> None:
    started = time.process_time()  # this process's CPU seconds: other work on the machine does not count
    result = Trainer(example("sequence_lstm"), out_dir=tmp_path).run()
    seconds = time.process_time() - started
    assert result.status == "finished", result.message
    assert result.test_accuracy >= 0.95, result.history
    assert seconds < 60, f"took {seconds:.1f} s of CPU"


@pytest.mark.slow
def test_cli_trains_an_embedding_network_on_the_sequence_set_and_on_csv_tokens(tmp_path, capsys) -> None:
    project = EXAMPLES / "sequence_lstm.json"
    args = ["--epochs", "2", "--device", "cpu", "--out", str(tmp_path / "runs")]
    assert main(["train", str(project), "--data", "sequences:samples=800", *args]) == 0, capsys.readouterr().err
    tokens = write_token_csv(tmp_path / "tokens.csv", samples=300, length=20, vocab=30, classes=4)
    assert main(["train", str(project), "--data", f"csv:{tokens}:label", *args]) == 0, capsys.readouterr().err
    summaries = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").glob("*/summary.json"))]
    assert len(summaries) == 2 and all(s["status"] == "finished" for s in summaries)
    assert "Test loss:" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("source", ["sequences", "csv"])
def test_exported_script_reproduces_a_token_run(tmp_path, source: str) -> None:
    if source == "sequences":
        project = example("sequence_lstm", dataset="sequences:samples=600", epochs=2)
    else:
        path = write_token_csv(tmp_path / "tokens.csv", samples=300)
        project = token_project(f"csv:{path}:label", 12, 20, 3, epochs=2)
    assert "tokens=True" in generate_script(project).source or source == "sequences"
    process = _start_script(project, tmp_path / "clean")
    app = Trainer(project, save=False).run()
    script = _script_history(process, tmp_path / "clean")
    assert app.status == "finished", app.message
    assert len(script) == len(app.history) == 2
    for mine, theirs in zip(app.history, script, strict=True):
        for key in ("loss", "val_loss"):
            assert abs(mine[key] - theirs[key]) <= 1e-6, (mine["epoch"], key, mine[key], theirs[key])


def test_augmentation_settings_leave_token_ids_alone(tmp_path) -> None:
    """Rotation and shifts are for images: a 3-D token Input is not augmented (nor in the script)."""
    from core.files.project import Project
    from core.model.graph import Graph
    from core.settings import TrainingSettings

    path = write_token_csv(tmp_path / "tokens.csv", samples=120)
    graph = Graph()
    graph.chain(
        [
            graph.add("Input", "tokens", shape=[1, 3, 4], dtype="int64"),
            graph.add("Embedding", "embed", num_embeddings=20, embedding_dim=4),
            graph.add("Flatten", "flatten"),
            graph.add("Linear", "fc", out_features=3),
            graph.add("Output", "output"),
        ]
    )
    settings = TrainingSettings(dataset=f"csv:{path}:label", device="cpu", epochs=1, augment_rotation=10.0)
    project = Project(graph, "Tokens", "", settings)
    assert "augment(" not in generate_script(project).source
    result = Trainer(project, save=False).run()
    assert result.status == "finished", result.message


def test_two_token_columns_are_not_plotted_as_points(tmp_path) -> None:
    """Point sets get a scatter plot and a decision boundary drawn from a float grid, which an Embedding
    cannot read: two token columns are not a point set."""
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(30)))
    assert load_dataset(f"csv:{path}:label").is_2d
    assert not load_dataset(f"csv:{path}:label", input_dtype="int64").is_2d
