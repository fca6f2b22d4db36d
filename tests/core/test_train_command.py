"""``torchcanvas train``: progress lines, summary.json, overrides, and clear errors with a non-zero exit."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from tests.core.train_fixtures import EXAMPLES, MNIST, needs_mnist

SUMMARY_FIELDS = (
    "epochs",
    "train_samples",
    "train_seconds",
    "samples_per_second",
    "train_loss",
    "val_loss",
    "val_accuracy",
    "test_accuracy",
    "device",
)


@pytest.mark.slow
def test_train_prints_progress_and_writes_summary(tmp_path, capsys) -> None:
    code = main(
        [
            "train",
            str(EXAMPLES / "spirals.json"),
            "--epochs",
            "3",
            "--batch-size",
            "16",
            "--lr",
            "0.02",
            "--optimizer",
            "sgd",
            "--device",
            "cpu",
            "--seed",
            "7",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("Epoch ") == 3 and "Epoch 3/3" in out
    line = next(x for x in out.splitlines() if x.startswith("27/27 [====="))  # 420 training samples / 16
    for piece in ("samples/s", "loss:", "accuracy:", "val_loss:", "val_accuracy:"):
        assert piece in line
    run = next(tmp_path.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    for field in SUMMARY_FIELDS:
        assert summary[field] is not None, field
    assert summary["epochs"] == 3 and summary["train_samples"] == 420 and summary["device"] == "cpu"
    hparams = json.loads((run / "hparams.json").read_text())
    assert (hparams["optimizer"], hparams["seed"], hparams["lr"], hparams["batch_size"]) == ("SGD", 7, 0.02, 16)


@pytest.mark.slow
@needs_mnist
def test_train_with_a_data_spec(tmp_path, capsys) -> None:
    spec = f"idx:{MNIST / 't10k-images-idx3-ubyte.gz'},{MNIST / 't10k-labels-idx1-ubyte.gz'}"
    args = ["train", str(EXAMPLES / "mnist_mlp.json"), "--data", spec, "--epochs", "1", "--out", str(tmp_path)]
    assert main([*args, "--device", "cuda"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(next(tmp_path.iterdir()).joinpath("summary.json").read_text())
    assert summary["device"] == "cpu" or "cuda" in summary["device"]
    if summary["device"] == "cpu":
        assert "CPU instead" in out
    assert summary["test_accuracy"] > 0.8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "nope"], "Unknown dataset 'nope'"),
        (["--data", "npz:/no/such/file.npz"], "no such file"),
        (["--lr", "-1"], "--lr must be a number"),
        (["--optimizer", "Lion"], "--optimizer must be one of"),
        (["--device", "tpu"], "--device must be one of"),
        (["--epochs", "0"], "--epochs must be a whole number"),
        (["--data", "spirals"], "x's shape [1, 28, 28] (784 values) does not fit"),  # check's words
    ],
)
def test_bad_input_exits_non_zero_with_a_clear_message(tmp_path, capsys, args: list[str], message: str) -> None:
    code = main(["train", str(EXAMPLES / "mnist_mlp.json"), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err, err
    assert "Traceback" not in err


def test_missing_project_file(tmp_path, capsys) -> None:
    assert main(["train", str(tmp_path / "none.json")]) != 0
    assert "could not read the file" in capsys.readouterr().err


@pytest.mark.slow
def test_early_stopping_is_said_once(tmp_path, capsys) -> None:
    """The trainer's early-stopping notice is printed as it happens; the end of the command did print it again."""
    from core.files.project import load, save

    project = load(EXAMPLES / "digits_mlp.json")
    project.training.early_stopping, project.training.monitor, project.training.epochs = 1, "val_accuracy", 5
    save(project, tmp_path / "p.json")
    # a learning rate too small to change any prediction: no better accuracy after epoch 1, so it stops at epoch 2
    code = main(["train", str(tmp_path / "p.json"), "--lr", "1e-12", "--device", "cpu", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("Early stopping: no better val_accuracy") == 1, out
    assert "no better val_accuracy for 1 epoch." in out, out  # one epoch, not "1 epochs"


def test_the_scripts_early_stopping_line_counts_in_words() -> None:
    from core.code.script import generate_script
    from core.files.project import load

    project = load(EXAMPLES / "digits_mlp.json")
    project.training.early_stopping = 1
    assert 'for {PATIENCE} epoch."' in generate_script(project).source
    project.training.early_stopping = 3
    assert 'for {PATIENCE} epochs."' in generate_script(project).source
