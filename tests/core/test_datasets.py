"""Every dataset source loads: built-in tables and point sets, the user's files (made here) and the shared MNIST."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.datasets import folder as folder_module
from core.datasets import load_dataset, parse_spec
from core.errors import DataError
from tests.core.train_fixtures import MNIST, needs_mnist, write_csv, write_idx, write_images


@pytest.mark.parametrize(
    ("spec", "shape", "classes"),
    [("digits", (1, 8, 8), 10), ("iris", (4,), 3), ("wine", (13,), 3), ("breast_cancer", (30,), 2)],
)
def test_builtin_tables(spec: str, shape: tuple[int, ...], classes: int) -> None:
    data = load_dataset(spec, val_fraction=0.2)
    assert data.input_shape == shape and data.num_classes == classes and len(data.class_names) == classes
    total = sum(data.count(s) for s in ("train", "val", "test"))
    assert data.count("val") == round(total * 0.2) and data.count("test") == round(total * 0.1)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    # normalised with the training split's statistics
    dims = [0, *range(2, data.x_train.dim())]
    assert data.x_train.mean(dim=dims).abs().max() < 1e-4
    assert torch.allclose(data.x_train.std(dim=dims), torch.ones(1), atol=1e-3) or spec == "digits"


@pytest.mark.parametrize("kind", ["spirals", "moons", "circles", "xor", "blobs"])
def test_generated_points_are_seeded_2d(kind: str) -> None:
    a = load_dataset(f"{kind}:samples=200,noise=0.1", seed=3)
    b = load_dataset(f"{kind}:samples=200,noise=0.1", seed=3)
    c = load_dataset(f"{kind}:samples=200,noise=0.1", seed=4)
    assert a.is_2d and a.input_shape == (2,)
    assert sum(a.count(s) for s in ("train", "val", "test")) == 200
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)
    noisy = load_dataset(f"{kind}:samples=200,noise=0.8", seed=3, normalize=False)
    quiet = load_dataset(f"{kind}:samples=200,noise=0.0", seed=3, normalize=False)
    assert not torch.equal(noisy.x_train, quiet.x_train)


def test_spirals_default_three_classes_and_options() -> None:
    data = load_dataset("spirals")
    assert data.num_classes == 3 and data.class_names == ["class 0", "class 1", "class 2"]
    four = load_dataset("spirals:classes=4,samples=400")
    assert four.num_classes == 4 and sum(four.count(s) for s in ("train", "val", "test")) == 400


@pytest.mark.slow
def test_digits_reshaped_to_the_input_shape() -> None:
    assert load_dataset("digits", input_shape=(64,)).x_train.shape[1:] == (64,)
    lstm = load_dataset("digits", input_shape=(8, 8))
    plain = load_dataset("digits")
    assert lstm.x_train.shape[1:] == (8, 8)
    assert torch.equal(lstm.x_train.reshape(-1, 1, 8, 8), plain.x_train)
    with pytest.raises(DataError, match=r"Input node expects \[784\].*Set the Input shape to \[1, 8, 8\]"):
        load_dataset("digits", input_shape=(784,))


def test_split_is_seeded_and_disjoint() -> None:
    a = load_dataset("iris", seed=1, normalize=False)
    b = load_dataset("iris", seed=1, normalize=False)
    c = load_dataset("iris", seed=2, normalize=False)
    assert torch.equal(a.x_val, b.x_val) and not torch.equal(a.x_val, c.x_val)
    rows = {tuple(r.tolist()) for x in (a.x_train, a.x_val, a.x_test) for r in x}
    assert len(rows) >= 145  # the 150 iris rows (a few duplicates exist), nothing repeated across splits


def test_preview_shows_raw_samples() -> None:
    data = load_dataset("digits", input_shape=(64,))
    preview = data.preview(8)
    assert preview.samples.shape == (8, 1, 8, 8)
    assert preview.samples.min() >= -1e-5 and preview.samples.max() <= 1 + 1e-5  # un-normalised pixels
    assert len(preview.labels) == 8 and preview.class_names[0] == "0"
    assert preview.counts == {"train": data.count("train"), "val": data.count("val"), "test": data.count("test")}
    assert preview.input_shape == (64,)


def test_npz_keras_layout(tmp_path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "small.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 255, (50, 6, 6), dtype=np.uint8),
        y_train=np.arange(50) % 4,
        x_test=rng.integers(0, 255, (10, 6, 6), dtype=np.uint8),
        y_test=np.arange(10) % 4,
    )
    data = load_dataset(f"npz:{path}", val_fraction=0.2)
    assert data.input_shape == (1, 6, 6) and data.num_classes == 4
    assert (data.count("train"), data.count("val"), data.count("test")) == (40, 10, 10)
    no_test = tmp_path / "train_only.npz"
    np.savez(no_test, x_train=rng.random((40, 3)), y_train=np.arange(40) % 2)
    data = load_dataset(f"npz:{no_test}", val_fraction=0.25, test_fraction=0.25)
    assert data.input_shape == (3,) and (data.count("train"), data.count("test")) == (20, 10)


def test_npz_colour_images_become_channels_first(tmp_path) -> None:
    path = tmp_path / "rgb.npz"
    np.savez(path, x_train=np.zeros((12, 5, 7, 3), np.uint8), y_train=np.arange(12) % 2)
    assert load_dataset(f"npz:{path}", normalize=False).input_shape == (3, 5, 7)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_pair(tmp_path, suffix: str) -> None:
    images = write_idx(tmp_path / f"img-idx3-ubyte{suffix}", np.arange(30 * 4 * 4).reshape(30, 4, 4) % 255)
    labels = write_idx(tmp_path / f"lbl-idx1-ubyte{suffix}", np.arange(30) % 3)
    data = load_dataset(f"idx:{images},{labels}", normalize=False)
    assert data.input_shape == (1, 4, 4) and data.num_classes == 3
    assert sum(data.count(s) for s in ("train", "val", "test")) == 30


def test_csv_with_named_label_column(tmp_path) -> None:
    path = write_csv(tmp_path / "flowers.csv", rows=60)
    data = load_dataset(f"csv:{path}:species")
    assert data.input_shape == (3,) and data.class_names == ["setosa", "versicolor", "virginica"]
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("x,y,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(20)))
    assert load_dataset(f"csv:{numeric}:label").num_classes == 2
    regression = tmp_path / "reg.csv"
    regression.write_text("x,target\n" + "".join(f"{i},{i * 0.5 + 0.25}\n" for i in range(20)))
    reg = load_dataset(f"csv:{regression}:target")
    assert reg.task == "regression" and reg.y_train.dtype == torch.float32


def test_image_folder_in_memory(tmp_path) -> None:
    root = write_images(tmp_path / "pets", {"cats": 6, "dogs": 6, "fish": 4})
    data = load_dataset(f"folder:{root}", input_shape=(3, 8, 8), val_fraction=0.25)
    assert data.in_memory and data.input_shape == (3, 8, 8)
    assert data.class_names == ["cats", "dogs", "fish"]
    grey = load_dataset(f"folder:{root}", input_shape=(1, 5, 5))
    assert grey.x_train.shape[1:] == (1, 5, 5)
    resized = load_dataset(f"folder:{root}", resize=(6, 4))
    assert resized.input_shape == (3, 6, 4)


def test_big_image_folder_reads_lazily(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)
    root = write_images(tmp_path / "pets", {"cats": 8, "dogs": 8})
    data = load_dataset(f"folder:{root}", input_shape=(3, 8, 8), val_fraction=0.25, test_fraction=0.25)
    assert not data.in_memory and data.train_set is not None
    assert (data.count("train"), data.count("val"), data.count("test")) == (8, 4, 4)
    x, label = data.train_set[0]
    assert x.shape == (3, 8, 8) and label in (0, 1)
    assert data.preview(3).samples.shape == (3, 3, 8, 8)


@pytest.mark.slow
@needs_mnist
def test_shared_mnist_npz_and_idx() -> None:
    data = load_dataset(f"npz:{MNIST / 'mnist_10k.npz'}", input_shape=(784,))
    assert data.input_shape == (784,) and (data.count("train") + data.count("val"), data.count("test")) == (8000, 2000)
    idx = load_dataset(
        f"idx:{MNIST / 't10k-images-idx3-ubyte.gz'},{MNIST / 't10k-labels-idx1-ubyte.gz'}", val_fraction=0.1
    )
    assert idx.input_shape == (1, 28, 28) and idx.num_classes == 10
    assert sum(idx.count(s) for s in ("train", "val", "test")) == 10_000


def test_spec_parsing() -> None:
    assert parse_spec("csv:C:/data/x.csv:label").paths == ("C:/data/x.csv",)
    assert parse_spec("csv:C:/data/x.csv:label").label_column == "label"
    assert parse_spec("idx:a.gz,b.gz").paths == ("a.gz", "b.gz")
    assert parse_spec("Fashion-MNIST").name == "FashionMNIST"
    assert parse_spec("spirals:noise=0.5").text == "spirals:noise=0.5"
    for bad, words in [
        ("nope", "Unknown dataset"),
        ("csv:data.csv", "label column"),
        ("idx:onlyone", "idx:IMAGES,LABELS"),
        ("spirals:wobble=1", "options are"),
        ("spirals:noise=abc", "must be a number"),
        ("npz:", "needs a path"),
        ("", "No dataset"),
    ]:
        with pytest.raises(DataError, match=words):
            parse_spec(bad)
