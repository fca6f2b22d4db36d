"""Few-shot specs (issue 27): ``SPEC:classes=5-9,per_class=20`` keeps some classes (numbered 0, 1, ... in order)
and N samples of each, drawn with the seed, in the app, in ``check`` and in the exported script alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset, parse_spec
from core.datasets.info import dataset_info
from core.datasets.survey import survey
from core.errors import DataError
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project


def _npz(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (300, 6, 6), dtype=np.uint8)
    np.savez(path, x_train=x, y_train=np.arange(300) % 10, x_test=x[:50], y_test=np.arange(50) % 10)
    return path


def test_digits_per_class() -> None:
    data = load_dataset("digits:per_class=5", val_fraction=0.2, test_fraction=0.2, normalize=False)
    labels = torch.cat([data.y_train, data.y_val, data.y_test])
    assert torch.equal(torch.bincount(labels), torch.full((10,), 5))
    again = load_dataset("digits:per_class=5", val_fraction=0.2, test_fraction=0.2, normalize=False)
    assert torch.equal(again.x_train, data.x_train)  # drawn with the seed
    other = load_dataset("digits:per_class=5", val_fraction=0.2, test_fraction=0.2, normalize=False, seed=1)
    assert not torch.equal(other.x_train, data.x_train)


def test_npz_classes_and_per_class(tmp_path: Path) -> None:
    path = _npz(tmp_path / "a.npz")
    spec = f"npz:{path}:classes=5-9,per_class=20"
    data = load_dataset(spec, normalize=False, val_fraction=0.1)
    assert data.num_classes == 5 and data.class_names == ["5", "6", "7", "8", "9"]
    assert torch.equal(torch.bincount(torch.cat([data.y_train, data.y_val])), torch.full((5,), 20))
    assert torch.equal(torch.bincount(data.y_test), torch.full((5,), 5))  # the source's test split: every sample kept
    raw = np.load(path)
    first = data.x_test[0].reshape(6, 6) * 255
    assert any(np.array_equal(first.round().numpy(), raw["x_test"][i]) for i in range(5, 50, 10))
    info = dataset_info(spec)
    assert info is not None and info.num_classes == 5 and info.name == parse_spec(spec).text


def test_specs_read_back() -> None:
    for text in ("digits:per_class=5", "npz:a.npz:classes=5-9,per_class=20", "mnist:classes=0+2+4-6"):
        assert parse_spec(text).text == text
    assert parse_spec("spirals:samples=1000,per_class=5").text == "spirals:samples=1000:per_class=5"
    assert parse_spec("spirals:samples=1000:per_class=5").per_class == 5
    assert parse_spec("npz:a.npz:classes=1+3+2").keep_classes == (1, 2, 3)
    # a generated set's own classes= stays its option; a few-shot one comes in a segment of its own
    assert parse_spec("spirals:classes=4").options["classes"] == 4 and not parse_spec("spirals:classes=4").keep_classes
    assert parse_spec("spirals:classes=4:classes=0-1").keep_classes == (0, 1)
    assert parse_spec("spirals::classes=0-1").text == "spirals::classes=0-1"
    assert parse_spec("spirals::classes=0-1").keep_classes == (0, 1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("digits:per_class=500", r"digits:per_class=500: class 0 has 178 samples, fewer than the 500 to keep"),
        ("digits:classes=8-12", r"digits:classes=8-12: there is no class 10; the classes are numbered 0 to 9"),
        ("digits:classes=x", r"classes are class numbers like classes=5-9"),
        ("digits:per_class=0", r"per_class must be a whole number of samples from 1"),
    ],
)
def test_impossible_subsets_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_dataset(spec)


def test_the_exported_script_keeps_the_same_samples(tmp_path: Path) -> None:
    """A grey-image npz keeps the short loader, the app's few_shot applied to its tensors (test_subset_script)."""
    spec = f"npz:{_npz(tmp_path / 'a.npz')}:classes=5-9,per_class=20"
    project = mlp_project([1, 6, 6], 8, 5, dataset=spec)
    module, _ = run_as_module(generate_script(project).source)
    splits = module.load_data()
    data = load_dataset(spec, val_fraction=0.1, test_fraction=0.1, input_shape=(1, 6, 6))
    for mine, theirs in zip(splits, (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test)):
        assert torch.equal(mine, theirs)
    table = mlp_project([64], 8, 10, dataset="digits:per_class=5")
    module, _ = run_as_module(generate_script(table).source)
    assert len(module.load_data()[0]) == load_dataset("digits:per_class=5", val_fraction=0.1).count("train")


def test_the_survey_counts_the_subset() -> None:
    found = survey("digits:classes=0-2,per_class=7")
    assert [(c.name, c.count) for c in found.classes] == [("0", 7), ("1", 7), ("2", 7)] and found.samples == 21
