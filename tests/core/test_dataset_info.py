"""Dataset metadata without loading: every answer is what the real loader yields, and files are peeked at once."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from core.datasets import info as info_module
from core.datasets import load_dataset
from core.datasets.info import BUILTIN, dataset_info, loaded_shape
from tests.core.train_fixtures import MNIST, needs_mnist, write_csv, write_idx, write_images


def same_as_loader(spec: str, input_shape: tuple[int, ...] | None = None) -> None:
    info = dataset_info(spec)
    data = load_dataset(spec, input_shape=input_shape)
    assert info is not None
    assert loaded_shape(info, input_shape) == data.sample_shape
    assert info.task == data.task
    if data.task == "classification":
        assert info.num_classes == data.num_classes


@pytest.mark.parametrize("spec", ["digits", "iris", "wine", "breast_cancer", "spirals", "spirals:classes=5", "moons"])
def test_builtin_sets_match_their_loader(spec: str) -> None:
    same_as_loader(spec)


@pytest.mark.parametrize("spec", ["sequences", "sequences:length=12,vocab=50,classes=3,samples=200"])
def test_token_sequences_match_their_loader(spec: str) -> None:
    info = dataset_info(spec)
    data = load_dataset(spec, input_dtype="int64")
    assert info is not None and info.dtypes == ("int64",)
    assert (info.sample_shape, info.num_classes) == (data.sample_shape, data.num_classes)
    assert info.vocab_size >= data.vocab_size  # every token id the data holds has an Embedding row


def test_torchvision_entries_match_torchvision() -> None:
    from torchvision import datasets

    for name in ("MNIST", "FashionMNIST", "KMNIST"):
        assert BUILTIN[name].num_classes == len(getattr(datasets, name).classes)
        assert BUILTIN[name].sample_shape == (1, 28, 28)
    assert dataset_info("mnist") == BUILTIN["MNIST"]  # named as typed, no download attempted


def test_idx_header_and_labels(tmp_path) -> None:
    rng = np.random.default_rng(0)
    images = write_idx(tmp_path / "img-idx3-ubyte", rng.integers(0, 255, (30, 5, 7), dtype=np.uint8))
    labels = write_idx(tmp_path / "lbl-idx1-ubyte", (np.arange(30) % 4).astype(np.uint8))
    same_as_loader(f"idx:{images},{labels}")


@needs_mnist
def test_idx_header_of_the_shared_mnist() -> None:
    assert dataset_info(f"idx:{MNIST / 't10k-images-idx3-ubyte.gz'},{MNIST / 't10k-labels-idx1-ubyte.gz'}") == (
        info_module.DataInfo("t10k-images-idx3-ubyte.gz", (1, 28, 28), 10)
    )


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
@pytest.mark.parametrize(
    "x_shape", [(20, 6, 5), (20, 6, 5, 3), (20, 3, 6, 5), (20, 9)], ids=["gray", "hwc", "chw", "table"]
)
def test_npz_header_peek_matches_the_loader(tmp_path, save, x_shape) -> None:
    path = tmp_path / "data.npz"
    x = np.random.default_rng(0).random(x_shape).astype(np.float32)
    save(path, x_train=x, y_train=(np.arange(20) % 3).astype(np.float64))
    same_as_loader(f"npz:{path}")
    assert dataset_info(f"npz:{path}").dtypes == ("float32",)


def test_npz_of_whole_numbers_can_feed_tokens(tmp_path) -> None:
    path = tmp_path / "tokens.npz"
    np.savez(path, x_train=np.arange(60).reshape(10, 6), y_train=np.arange(10) % 2, x_test=np.full((2, 6), 70))
    info = dataset_info(f"npz:{path}")
    assert info.dtypes == ("float32", "int64") and info.vocab_size == 71  # test tokens count too
    np.savez(path, x_train=np.arange(60.0).reshape(10, 6), y_train=np.arange(10) % 2)  # whole, stored as floats
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 10**9))
    assert dataset_info(f"npz:{path}").vocab_size == 60


def test_csv_of_whole_numbers_can_feed_tokens(tmp_path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text("t1,t2,t3,label\n" + "".join(f"{i % 7},{i % 5},{i % 11},{i % 2}\n" for i in range(30)))
    info = dataset_info(f"csv:{path}:label")
    assert info.dtypes == ("float32", "int64") and info.vocab_size == 11 and info.num_classes == 2
    assert dataset_info(f"csv:{write_csv(tmp_path / 'iris.csv')}:species").dtypes == ("float32",)


def test_csv_label_column_gives_the_task(tmp_path) -> None:
    named = write_csv(tmp_path / "iris.csv")
    same_as_loader(f"csv:{named}:species")
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("a,b,label\n" + "".join(f"{i},{i * 2},{i % 4}\n" for i in range(12)))
    same_as_loader(f"csv:{numbered}:label")
    target = tmp_path / "target.csv"
    target.write_text("a,b,y\n" + "".join(f"{i},{i * 2},{i * 0.5 + 0.1}\n" for i in range(12)))
    same_as_loader(f"csv:{target}:y")
    assert dataset_info(f"csv:{target}:nope") is None


def test_folder_counts_classes_and_follows_the_input(tmp_path) -> None:
    root = write_images(tmp_path / "pics", {"cats": 3, "dogs": 3})
    info = dataset_info(f"folder:{root}")
    assert info is not None and info.num_classes == 2 and info.adapts_to_input
    same_as_loader(f"folder:{root}", input_shape=(1, 16, 16))
    same_as_loader(f"folder:{root}", input_shape=(3, 10, 12))


def test_file_answers_are_cached_until_the_file_changes(tmp_path, monkeypatch) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, x_train=np.zeros((10, 4), np.float32), y_train=np.arange(10) % 2)
    peeks = []
    real = info_module.SOURCES["npz"]
    counted = dataclasses.replace(real, describe=lambda spec: peeks.append(1) or real.describe(spec))
    monkeypatch.setitem(info_module.SOURCES, "npz", counted)
    assert dataset_info(f"npz:{path}").num_classes == 2
    assert dataset_info(f"npz:{path}").num_classes == 2
    assert len(peeks) == 1
    np.savez(path, x_train=np.zeros((10, 4), np.float32), y_train=np.arange(10) % 5)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert dataset_info(f"npz:{path}").num_classes == 5
    assert len(peeks) == 2


@pytest.mark.parametrize("text", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_unreadable_sources_are_unknown_and_missing_ones_refused(tmp_path, text) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(text)
    assert dataset_info(f"npz:{path}") is None
    assert dataset_info("no-such-dataset") is None
    # a missing file or folder is known: the loader refuses it, and check must say so (trial 4, G)
    assert (
        dataset_info(f"npz:{tmp_path / 'missing.npz'}")
        .problems[0]
        .endswith("missing.npz: no such file. Check the path of the npz (spec: npz:PATH).")
    )
    assert "nothing: no such folder" in dataset_info(f"folder:{tmp_path / 'nothing'}").problems[0]
