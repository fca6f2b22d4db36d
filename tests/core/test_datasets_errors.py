"""Bad input gives a DataError naming the file (and row) and the fix; downloads fail cleanly offline."""

from __future__ import annotations

import io
import urllib.error

import numpy as np
import pytest

from core.datasets import load_dataset
from core.datasets import vision as vision_module
from core.errors import DataError
from tests.core.train_fixtures import write_csv, write_idx, write_images


def test_corrupt_image_names_the_file(tmp_path) -> None:
    root = write_images(tmp_path / "pets", {"cats": 3, "dogs": 3})
    broken = root / "dogs" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    with pytest.raises(DataError, match=r"broken\.png: this image cannot be read.*delete or replace"):
        load_dataset(f"folder:{root}", input_shape=(3, 8, 8))


def test_csv_text_in_a_feature_column_names_row_and_column(tmp_path) -> None:
    path = write_csv(tmp_path / "flowers.csv", rows=10)
    lines = path.read_text().splitlines()
    cells = lines[5].split(",")
    cells[1] = "tall"
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"flowers\.csv, row 6, column 'b': 'tall' is not a number"):
        load_dataset(f"csv:{path}:species")


def test_csv_unknown_label_column_lists_the_columns(tmp_path) -> None:
    path = write_csv(tmp_path / "flowers.csv", rows=10)
    with pytest.raises(DataError, match=r"no column named 'kind'; the columns are a, b, species, c"):
        load_dataset(f"csv:{path}:kind")


def test_csv_ragged_row(tmp_path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,label\n1,2,0\n3,1\n")
    with pytest.raises(DataError, match=r"row 3: 2 values but the header has 3 columns"):
        load_dataset(f"csv:{path}:label")


def test_labels_out_of_range(tmp_path) -> None:
    path = tmp_path / "bad_labels.npz"
    x = np.zeros((20, 4, 4), np.uint8)
    np.savez(path, x_train=x, y_train=np.arange(20) % 3, x_test=x[:5], y_test=np.array([0, 1, 2, 7, 1]))
    with pytest.raises(DataError, match=r"label 7 at sample 3 is out of range.*3 classes.*0 to 2"):
        load_dataset(f"npz:{path}")
    negative = tmp_path / "negative.npz"
    np.savez(negative, x_train=x, y_train=np.arange(20) % 3 - 1)
    with pytest.raises(DataError, match=r"negative\.npz \(y_train\): label -1 at index 0 is negative"):
        load_dataset(f"npz:{negative}")


def test_mismatched_array_lengths(tmp_path) -> None:
    path = tmp_path / "short.npz"
    np.savez(path, x_train=np.zeros((20, 4, 4), np.uint8), y_train=np.arange(19) % 3)
    with pytest.raises(DataError, match=r"short\.npz.*20 samples but 19 labels"):
        load_dataset(f"npz:{path}")
    images = write_idx(tmp_path / "img.gz", np.zeros((10, 3, 3)))
    labels = write_idx(tmp_path / "lbl.gz", np.zeros(9))
    with pytest.raises(DataError, match=r"10 samples but 9 labels"):
        load_dataset(f"idx:{images},{labels}")


def test_npz_without_the_keras_keys(tmp_path) -> None:
    path = tmp_path / "wrong.npz"
    np.savez(path, images=np.zeros((4, 2)), labels=np.zeros(4))
    with pytest.raises(DataError, match=r"expected arrays named x_train and y_train.*found images, labels"):
        load_dataset(f"npz:{path}")
    text = tmp_path / "text.npz"
    text.write_text("not numpy")
    with pytest.raises(DataError, match=r"text\.npz"):
        load_dataset(f"npz:{text}")


def test_truncated_or_foreign_idx(tmp_path) -> None:
    good = write_idx(tmp_path / "img", np.zeros((10, 3, 3)))
    truncated = tmp_path / "truncated"
    truncated.write_bytes(good.read_bytes()[:-5])
    labels = write_idx(tmp_path / "lbl", np.zeros(10))
    with pytest.raises(DataError, match=r"truncated: the header announces shape \(10, 3, 3\).*truncated or damaged"):
        load_dataset(f"idx:{truncated},{labels}")
    foreign = tmp_path / "foreign"
    foreign.write_bytes(b"PK\x03\x04 zip file")
    with pytest.raises(DataError, match=r"not an MNIST IDX file"):
        load_dataset(f"idx:{foreign},{labels}")


def test_missing_files_and_folders(tmp_path) -> None:
    with pytest.raises(DataError, match=r"no such file"):
        load_dataset(f"npz:{tmp_path / 'missing.npz'}")
    with pytest.raises(DataError, match=r"no such folder"):
        load_dataset(f"folder:{tmp_path / 'nothing'}")
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match=r"no class sub-folders"):
        load_dataset(f"folder:{tmp_path / 'flat'}")


def _offline(*args, **kwargs):
    raise urllib.error.URLError("no network here")


def test_mnist_offline_names_the_folder_and_leaves_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vision_module, "urlopen", _offline)
    with pytest.raises(DataError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    message = str(info.value)
    assert "Could not download MNIST (no network here" in message
    assert str(tmp_path / "MNIST" / "raw") in message and "by hand" in message
    assert "train-images-idx3-ubyte.gz" in message
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


class _Dropping:
    """A response that delivers one chunk and then loses the connection."""

    def __init__(self) -> None:
        self.headers = {"Content-Length": "1000"}
        self.stream = io.BytesIO(b"x" * 100)
        self.sent = False

    def read(self, n: int) -> bytes:
        if self.sent:
            raise ConnectionResetError("connection reset")
        self.sent = True
        return self.stream.read(n)

    def __enter__(self) -> _Dropping:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch) -> None:
    progress: list[tuple[str, float | None]] = []
    monkeypatch.setattr(vision_module, "urlopen", lambda *a, **k: _Dropping())
    with pytest.raises(DataError, match=r"Could not download FashionMNIST.*connection reset"):
        load_dataset("fashion_mnist", data_dir=tmp_path, progress=lambda m, f: progress.append((m, f)))
    assert progress and progress[0][1] == pytest.approx(0.1)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_cifar_offline_message(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vision_module, "urlopen", _offline)
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz.*by hand in"):
        load_dataset("cifar10", data_dir=tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_mnist_files_placed_by_hand_load_without_network(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(vision_module, "urlopen", _offline)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(raw / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (40, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.arange(40) % 10)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (10, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.arange(10) % 10)
    data = load_dataset("mnist", data_dir=tmp_path, val_fraction=0.25)
    assert data.input_shape == (1, 28, 28) and data.num_classes == 10
    assert (data.count("train"), data.count("val"), data.count("test")) == (30, 10, 10)
    assert data.class_names[0].startswith("0")


class _Serve:
    """A response holding the whole body."""

    def __init__(self, body: bytes) -> None:
        self.stream = io.BytesIO(body)
        self.headers = {"Content-Length": str(len(body))}

    def read(self, n: int) -> bytes:
        return self.stream.read(n)

    def __enter__(self) -> _Serve:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _fake_mnist_files(tmp_path) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    made = tmp_path / "made"
    made.mkdir()
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 255, (30, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(30) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 255, (10, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(10) % 10,
    }
    return {name: write_idx(made / name, array).read_bytes() for name, array in arrays.items()}


def test_download_checks_md5_unpacks_and_loads(tmp_path, monkeypatch) -> None:
    import hashlib

    from torchvision import datasets

    files = _fake_mnist_files(tmp_path)
    resources = [(name, hashlib.md5(body).hexdigest()) for name, body in files.items()]
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["https://example.invalid/mnist/"])
    served: list[str] = []

    def urlopen(url: str, timeout: float) -> _Serve:
        served.append(url)
        return _Serve(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(vision_module, "urlopen", urlopen)
    progress: list[tuple[str, float | None]] = []
    root = tmp_path / "data"
    data = load_dataset("mnist", data_dir=root, val_fraction=0.2, progress=lambda m, f: progress.append((m, f)))
    assert len(served) == 4 and (data.count("train") + data.count("val"), data.count("test")) == (30, 10)
    assert ("Downloading train-images-idx3-ubyte.gz", 1.0) in progress
    raw = root / "MNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte").exists() and not list(raw.glob("*.part"))
    load_dataset("mnist", data_dir=root)  # the second time nothing is downloaded
    assert len(served) == 4


def test_damaged_download_is_rejected_and_removed(tmp_path, monkeypatch) -> None:
    from torchvision import datasets

    files = _fake_mnist_files(tmp_path)
    monkeypatch.setattr(datasets.MNIST, "resources", [(name, "0" * 32) for name in files])
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["https://example.invalid/mnist/"])
    monkeypatch.setattr(vision_module, "urlopen", lambda url, timeout: _Serve(files[url.rsplit("/", 1)[1]]))
    with pytest.raises(DataError, match=r"arrived damaged \(checksum mismatch\).*by hand in"):
        load_dataset("mnist", data_dir=tmp_path / "data")
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file()] == []


def test_a_damaged_mnist_file_placed_by_hand_is_named_not_a_bug(tmp_path, monkeypatch) -> None:
    """torchvision asserts on the magic number of a damaged file: that empty AssertionError read as a bug."""
    monkeypatch.setattr(vision_module, "urlopen", _offline)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(raw / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (40, 28, 28)))
    write_idx(raw / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (10, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.arange(10) % 10)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"garbage, not an IDX file")
    with pytest.raises(DataError, match=r"MNIST in .* could not be read \(the files are damaged\); delete that folder"):
        load_dataset("mnist", data_dir=tmp_path)
