"""A corpus of bad data files, made in tmp_path: each gives one plain line naming the file (and the row, column
or array) and the fix, with no traceback, from ``load_dataset``, from the exported script's own loader (the
same ``core.portable`` code), and from ``torchcanvas train --data`` (exit code 1)."""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.code.script import generate_script
from core.datasets import folder as folder_module
from core.datasets import load_dataset
from core.datasets.info import dataset_info
from core.errors import DataError
from core.files.project import save
from core.portable.sources import MAX_CLASSES
from core.training import Trainer
from tests.core.train_fixtures import example, mlp_project, write_images

X = np.zeros((20, 4, 4), np.uint8)
Y = np.arange(20) % 3


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **{"x_train": X, "y_train": Y, **arrays})
    return path


def _csv(path: Path, rows: list[str], header: str = "a,b,label") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _good_rows(n: int = 12) -> list[str]:
    return [f"{i},{i % 5},{i % 2}" for i in range(n)]


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that announces width x height pixels (PIL refuses it at open; no memory is spent making it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


# --- the corpus: name -> (spec, what the message must say) ------------------------------------------------------
def npz_truncated(tmp: Path) -> tuple[str, str]:
    good = _npz(tmp / "good.npz")
    cut = tmp / "truncated.npz"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    return f"npz:{cut}", r"truncated\.npz: cannot read it as a NumPy \.npz file.*damaged"


def npz_damaged_member(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "damaged.npz", x_train=np.arange(20 * 64, dtype=np.uint8).reshape(20, 8, 8))
    data = bytearray(path.read_bytes())
    at = data.index(b"x_train.npy") + 400  # inside the stored array, past its header
    data[at : at + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    return f"npz:{path}", r"damaged\.npz \(x_train\): cannot read this array.*damaged"


def npy_renamed(tmp: Path) -> tuple[str, str]:
    path = tmp / "renamed.npz"
    with path.open("wb") as handle:
        np.save(handle, X)
    return f"npz:{path}", r"renamed\.npz: this is a single NumPy array \(\.npy\), not an \.npz archive.*np\.savez"


def npz_text_samples(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "words.npz", x_train=np.array([["a", "b"]] * 20))
    return f"npz:{path}", r"words\.npz \(x_train\): the samples must be numbers, found values of type <U1"


def npz_text_labels(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "names.npz", y_train=np.array(["cat", "dog"] * 10))
    return f"npz:{path}", r"names\.npz \(y_train\): the labels must be whole class numbers"


def npz_objects(tmp: Path) -> tuple[str, str]:
    samples = np.empty(20, dtype=object)
    samples[:] = [[1, 2]] * 20
    path = _npz(tmp / "objects.npz", x_train=samples)
    return f"npz:{path}", r"objects\.npz \(x_train\): cannot read this array.*Python objects"


def npz_label_2_40(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "huge_label.npz", y_train=np.where(Y == 2, 2**40, Y))
    return f"npz:{path}", rf"huge_label\.npz \(y_train\): label {2**40} at index 2 is too large: at most {MAX_CLASSES}"


def npz_label_2_63(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "uint64.npz", y_train=np.where(Y == 2, 2**63, Y).astype(np.uint64))
    return f"npz:{path}", rf"uint64\.npz \(y_train\): label {2**63} at index 2 is too large"


def npz_nan_samples(tmp: Path) -> tuple[str, str]:
    x = np.ones((20, 4, 4), np.float32)
    x[7, 1, 2] = np.nan
    path = _npz(tmp / "nan.npz", x_train=x)
    return f"npz:{path}", r"nan\.npz \(x_train\): sample 7 holds nan.*replace missing or infinite values"


def npz_inf_test_samples(tmp: Path) -> tuple[str, str]:
    x = np.ones((20, 4, 4), np.float32)
    x_test = x[:5].copy()
    x_test[3, 0, 0] = -np.inf
    path = _npz(tmp / "inf.npz", x_train=x, x_test=x_test, y_test=Y[:5])
    return f"npz:{path}", r"inf\.npz \(x_test\): sample 3 holds -inf"


def npz_damaged_header(tmp: Path) -> tuple[str, str]:
    """A header announcing terabytes with a valid checksum: NumPy asked for them, read as "out of memory"."""
    data = _npy(X)
    start, end = data.index(b"'shape': (20, 4, 4)"), data.index(b"\n")
    header = data[start:end].replace(b"(20, 4, 4)", b"(99999999999999, 4, 4)", 1)[: end - start]
    path = tmp / "header.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", data[:start] + header + data[end:])
        archive.writestr("y_train.npy", _npy(Y))
    return (
        f"npz:{path}",
        r"header\.npz \(x_train\): the array's header announces shape \(99999999999999, 4, 4\).*damaged",
    )


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz_empty_arrays(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "empty.npz", x_train=X[:0], y_train=Y[:0])  # was "max() arg is an empty sequence"
    return f"npz:{path}", r"empty\.npz \(x_train, y_train\): no samples, the arrays are empty"


def npz_0d_samples(tmp: Path) -> tuple[str, str]:
    path = _npz(tmp / "scalar.npz", x_train=np.array(5.0), y_train=np.array(1))  # was an unexpected TypeError
    return f"npz:{path}", r"scalar\.npz \(x_train\): a single value \(a 0-d array\), not a list of samples"


def npz_pickle(tmp: Path) -> tuple[str, str]:
    path = tmp / "pickled.npz"
    path.write_bytes(b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.")  # pickle of {'a': 1}
    return f"npz:{path}", r"pickled\.npz: not a NumPy \.npz file \(neither an archive of arrays nor a NumPy array\)"


def npz_text(tmp: Path) -> tuple[str, str]:
    path = tmp / "notes.npz"
    path.write_text("x,y\n1,2\n")
    return f"npz:{path}", r"notes\.npz: not a NumPy \.npz file.*np\.savez"


def csv_negative_label(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "negative.csv", [*_good_rows(), "3,1,-1"])
    return f"csv:{path}:label", r"negative\.csv, row 14, column 'label': label -1 is negative"


def csv_duplicate_columns(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "twice.csv", _good_rows(), header="a,a,label")
    return f"csv:{path}:label", r"twice\.csv: the header names the column 'a' twice \(columns 1 and 2\)"


def csv_label_1e9(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "ids.csv", [*_good_rows(), "3,1,1000000000"])
    return f"csv:{path}:label", r"ids\.csv, row 14, column 'label': label 1000000000 is too large.*1000000000\.0"


def csv_header_only(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "header.csv", [])
    return f"csv:{path}:label", r"header\.csv: no rows: the file has a header but no data"


def csv_not_utf8(tmp: Path) -> tuple[str, str]:
    path = tmp / "latin1.csv"
    path.write_bytes("\n".join(["a,b,label", *_good_rows(4), "caf\xe9,1,0"]).encode("latin-1"))
    return f"csv:{path}:label", r"latin1\.csv, row 6: the file is not UTF-8 text \(byte 0xe9\)"


def csv_huge_field(tmp: Path) -> tuple[str, str]:
    path = tmp / "blob.csv"
    path.write_text("a,b,label\n" + "7" * 200_000 + ",1,0\n")
    return f"csv:{path}:label", r"blob\.csv: not a CSV table of text \(field larger than field limit"


def csv_nan_feature(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "gaps.csv", [*_good_rows(5), "nan,1,0", "inf,2,1"])
    return f"csv:{path}:label", r"gaps\.csv, row 7, column 'a': 'nan' is not a finite number"


def csv_inf_feature(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "inf.csv", [*_good_rows(5), "1,-inf,1"])
    return f"csv:{path}:label", r"inf\.csv, row 7, column 'b': '-inf' is not a finite number"


def csv_text_among_number_labels(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "mixed.csv", [*_good_rows(5), "1,1,abc", "2,2,1"])
    return f"csv:{path}:label", r"mixed\.csv, row 7, column 'label': 'abc' is not a number, but other labels are"


def csv_nan_target(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "target.csv", ["1,2,0.5", "2,3,1.5", "3,4,nan", "4,5,2.5"])
    return f"csv:{path}:label", r"target\.csv, row 4, column 'label': 'nan' is not a finite number"


def csv_fifo(tmp: Path) -> tuple[str, str]:
    path = tmp / "pipe.csv"
    os.mkfifo(path)  # reading it would wait forever for a writer
    return f"csv:{path}:label", r"pipe\.csv: not a regular file"


def folder_fifo(tmp: Path) -> tuple[str, str]:
    root = write_images(tmp / "pets", {"cats": 3, "dogs": 3})
    os.mkfifo(root / "dogs" / "pipe.png")  # opening it to decode it would wait forever for a writer
    return f"folder:{root}", r"pipe\.png: not a regular file.*image files only: remove it"


def folder_decompression_bomb(tmp: Path) -> tuple[str, str]:
    root = write_images(tmp / "pets", {"cats": 3, "dogs": 3})
    png_header(root / "cats" / "huge.png", 20000, 20000)
    return f"folder:{root}", r"huge\.png: this image cannot be read \(Image size \(400000000 pixels\)"


def table_ragged_short_row(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "short.csv", [*_good_rows(5), "3,4", *_good_rows(3)])
    return f"table:{path}", r"short\.csv, row 7: 2 values but the header has 3 columns"


def table_ragged_long_row(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "long.csv", [*_good_rows(5), "3,4,1,9", *_good_rows(3)])
    return f"table:{path}", r"long\.csv, row 7: 4 values but the header has 3 columns"


def table_mixed_types(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "mixed.csv", [*_good_rows(150), "unknown,1,0"])  # "n/a", "NA", "" are missing values
    return f"table:{path}", r"mixed\.csv, column 'a': row 152 holds 'unknown', not a number like the other 150 cells"


def table_not_utf8(tmp: Path) -> tuple[str, str]:
    path = tmp / "latin1.csv"
    path.write_bytes("\n".join(["a,b,label", *_good_rows(4), "1,caf\xe9,0"]).encode("latin-1"))
    return f"table:{path}", r"latin1\.csv, row 6: the file is not UTF-8 text \(byte 0xe9\)"


def table_10000_labels(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "names.csv", [f"{i % 7},{i % 3},person {i}" for i in range(10_000)])
    return f"table:{path}", r"names\.csv, column 'label': 10,000 different labels in 10,000 rows, more than the 1,000"


def csv_10000_labels(tmp: Path) -> tuple[str, str]:
    path = _csv(tmp / "names.csv", [f"{i % 7},{i % 3},person {i}" for i in range(10_000)])
    return f"csv:{path}:label", r"names\.csv, column 'label': 10,000 different labels in 10,000 rows, more than"


def folder_empty_class(tmp: Path) -> tuple[str, str]:
    root = write_images(tmp / "pets", {"cats": 3, "dogs": 3})
    (root / "birds").mkdir()
    return f"folder:{root}", r"pets/birds: no images in this class folder; add images or remove the folder"


def folder_one_class(tmp: Path) -> tuple[str, str]:
    root = write_images(tmp / "pets", {"cats": 4})
    return f"folder:{root}", r"pets: only one class folder \('cats'\); a classifier needs at least two"


def folder_zero_byte_image(tmp: Path) -> tuple[str, str]:
    root = write_images(tmp / "pets", {"cats": 3, "dogs": 3})
    (root / "dogs" / "empty.png").write_bytes(b"")
    return f"folder:{root}", r"dogs/empty\.png: this image cannot be read \(cannot identify image file"


CORPUS: dict[str, Callable[[Path], tuple[str, str]]] = {
    f.__name__: f
    for f in (
        npz_truncated,
        npz_damaged_member,
        npy_renamed,
        npz_text_samples,
        npz_text_labels,
        npz_objects,
        npz_label_2_40,
        npz_label_2_63,
        npz_nan_samples,
        npz_inf_test_samples,
        npz_damaged_header,
        npz_empty_arrays,
        npz_0d_samples,
        npz_pickle,
        npz_text,
        csv_negative_label,
        csv_duplicate_columns,
        csv_label_1e9,
        csv_header_only,
        csv_not_utf8,
        csv_huge_field,
        csv_nan_feature,
        csv_inf_feature,
        csv_text_among_number_labels,
        csv_nan_target,
        csv_fifo,
        folder_fifo,
        folder_decompression_bomb,
        table_ragged_short_row,
        table_ragged_long_row,
        table_mixed_types,
        table_not_utf8,
        table_10000_labels,
        csv_10000_labels,
        folder_empty_class,
        folder_one_class,
        folder_zero_byte_image,
    )
}


def _plain(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    assert "allow_pickle" not in message and "unsafe" not in message, message  # never advice to load untrusted


@pytest.mark.parametrize("case", CORPUS)
def test_load_dataset_names_the_file(tmp_path, case: str) -> None:
    spec, expected = CORPUS[case](tmp_path)
    started = time.process_time()  # this process's CPU seconds: a busy machine stretches the wall clock, not these
    with pytest.raises(DataError) as info:
        load_dataset(spec, input_shape=(1, 4, 4) if spec.startswith("npz") else None)
    assert time.process_time() - started < 2  # no 10**9 class names, no decoding a 400-megapixel image
    assert re.search(expected, str(info.value)), str(info.value)
    _plain(str(info.value))


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS)
def test_exported_script_loader_says_the_same(tmp_path, case: str) -> None:
    """The script's load_data, run from its own source: the same portable code, so the same line."""
    spec, expected = CORPUS[case](tmp_path)
    # an npz of grey images gets the script's short np.load loader (issue 24); a flat Input keeps the general one
    project = mlp_project([16], 8, 10, dataset=spec) if spec.startswith("npz") else example("digits_mlp", dataset=spec)
    try:
        source = generate_script(project).source
    except DataError as exc:  # a table is planned from its file: the export refuses with the loader's line
        assert spec.startswith("table:") and re.search(expected, str(exc)), str(exc)
        return _plain(str(exc))
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported_train.py", "exec"), namespace)
    with pytest.raises(ValueError, match=expected) as info:
        namespace["load_data"]()
    _plain(str(info.value))


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS)
def test_cli_train_exits_1_with_the_message(tmp_path, capsys, case: str) -> None:
    spec, expected = CORPUS[case](tmp_path)
    # a network that fits what check can tell of the data: train then says check's errors, and here the loader's
    info = dataset_info(spec)
    shape = list(info.sample_shape) if info is not None and info.sample_shape else [1, 8, 8]
    project = tmp_path / "fits.json"
    save(mlp_project(shape, 8, 10, dataset=spec), project)
    code = main(["train", str(project), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert re.search(expected, err), err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert not any((tmp_path / "runs").iterdir()) if (tmp_path / "runs").exists() else True  # nothing written


@pytest.mark.parametrize("case", CORPUS)
def test_cli_check_never_shows_a_traceback(tmp_path, capsys, case: str) -> None:
    """``check`` peeks at the data (core.datasets.info) without loading it: a bad file is no crash and no hang."""
    spec, _ = CORPUS[case](tmp_path)
    project = tmp_path / "project.json"
    save(example("digits_mlp", dataset=spec), project)
    code = main(["check", str(project)])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err and "unexpected" not in err, err


@pytest.mark.slow
def test_exported_script_run_alone_prints_one_line_and_exits_1(tmp_path) -> None:
    spec, expected = npz_truncated(tmp_path)
    script = tmp_path / "train_model.py"  # a flat Input: the general loader (grey images: test_script_length)
    script.write_text(generate_script(mlp_project([16], 8, 10, dataset=spec)).source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search("Cannot load the data: .*" + expected, done.stderr), done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.slow  # DataLoader worker processes, and ~5 s for torch to shut them down after the failure
def test_corrupt_image_in_a_big_folder_stops_training_with_one_line(tmp_path, monkeypatch) -> None:
    """A folder too big for memory is decoded in DataLoader workers during training; a bad file there must
    still be named in one line, not with the worker's traceback."""
    root = write_images(tmp_path / "pets", {"cats": 8, "dogs": 8}, size=(6, 6))
    (root / "dogs" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)  # read lazily, as a big folder is
    project = mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{root}", normalize=False, epochs=1, batch_size=4)
    project.training.val_fraction = project.training.test_fraction = 0.0
    result = Trainer(project, save=False).run()
    assert result.status == "failed"
    assert re.fullmatch(r".*3\.png: this image cannot be read \(.*\); delete or replace the file", result.message)
    _plain(result.message)
