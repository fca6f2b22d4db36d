"""No silent mismatch: what ``torchcanvas check`` calls an error, ``torchcanvas train`` refuses in the same words
without writing a run; what check warns about, train prints before the first epoch. Issue 26's cases: an RGB
48x48 folder of 3 classes into a [1, 28, 28] 10-class network, too few outputs, a text label to regress, an empty
class folder, and the preview's sample shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from core.cli import main
from core.datasets import load_dataset
from core.files.project import save
from tests.core.train_fixtures import mlp_project


def _pets(root: Path, classes: tuple[str, ...] = ("cat", "dog", "owl"), count: int = 4) -> Path:
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (48, 48), (60 * k, 20 * i, 90)).save(root / name / f"{i}.png")
    return root


def _project(tmp_path: Path, shape: list[int], outputs: int, dataset: str, **training: object) -> Path:
    path = tmp_path / "project.json"
    save(mlp_project(shape, 8, outputs, dataset=dataset, epochs=1, batch_size=4, **training), path)
    return path


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    errors = [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]
    return code, warnings, errors


def test_an_rgb_48_folder_into_a_grey_28_network_is_said_by_check_and_train(tmp_path, capsys) -> None:
    root = _pets(tmp_path / "pets")
    project = _project(tmp_path, [1, 28, 28], 10, f"folder:{root}")
    code, warnings, errors = _check(project, capsys)
    assert code == 0 and errors == []
    assert warnings == [
        "warning: The images of pets are 48x48: each is resized to 28x28 for x's shape [1, 28, 28]",
        "warning: The images of pets are in colour: they are turned grey for x's 1 channel (set its shape to "
        "[3, 28, 28] to keep the colour)",
        "warning: out gives 10 scores per sample but pets has 3 classes: the extra 7 can never be the right "
        "answer; set fc2's out_features to 3",
    ]
    code = main(["train", str(project), "--out", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert code == 0
    before_training = out.split("Epoch 1/")[0].splitlines()
    assert [line for line in before_training if line.startswith("warning: ")] == warnings


@pytest.mark.parametrize(
    ("case", "shape", "outputs", "make"),
    [
        ("too few outputs", [3, 48, 48], 2, lambda tmp: f"folder:{_pets(tmp / 'pets')}"),
        ("an empty class folder", [3, 48, 48], 4, lambda tmp: f"folder:{_empty_class(tmp)}"),
        ("a text label to regress", [1], 1, lambda tmp: f"table:{_names(tmp)}?label=name&number=name"),
    ],
)
def test_train_refuses_what_check_calls_an_error_in_its_words(tmp_path, capsys, case, shape, outputs, make) -> None:
    loss = {"loss": "MSELoss"} if case == "a text label to regress" else {}
    project = _project(tmp_path, shape, outputs, make(tmp_path), **loss)
    code, _, errors = _check(project, capsys)
    assert code == 1 and len(errors) == 1, (case, errors)
    code = main(["train", str(project), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 1 and err == f"torchcanvas: error: {errors[0]}\n", (case, err)
    assert not (tmp_path / "runs").exists()  # nothing written


def _empty_class(tmp: Path) -> Path:
    root = _pets(tmp / "pets")
    (root / "yak").mkdir()
    return root


def _names(tmp: Path) -> Path:
    path = tmp / "people.csv"
    path.write_text("age,name\n" + "".join(f"{20 + i},person {i % 3}\n" for i in range(12)))
    return path


def test_the_preview_sample_shape_is_the_files(tmp_path) -> None:
    """Loaded without an Input (the dashboard's preview), a folder is decoded at its own size and colour: the
    preview said "one sample is [3, 32, 32]" for 48x48 files."""
    root = _pets(tmp_path / "pets")
    data = load_dataset(f"folder:{root}")
    assert data.sample_shape == data.input_shape == (3, 48, 48)
    grey = tmp_path / "grey"
    for name in ("a", "b"):
        (grey / name).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (20, 12), 40 * i).save(grey / name / f"{i}.png")
    assert load_dataset(f"folder:{grey}").sample_shape == (1, 12, 20)


@pytest.mark.slow  # a child process imports the app's data code: about a second
def test_describing_user_data_imports_no_torch(tmp_path) -> None:
    """The editor checks the network against its data after every edit, on the GUI thread: folders, tables, text
    and CSV files are described (their problems included) without torch, which costs seconds to import."""
    import subprocess
    import sys

    root = _pets(tmp_path / "pets")
    table = _names(tmp_path)
    text = tmp_path / "t.txt"
    text.write_text("".join(f"{'ab'[i % 2]}\tsome text {i}\n" for i in range(12)))
    specs = [f"folder:{root}", f"table:{table}", f"text:{text}", f"csv:{table}:name"]
    code = (
        "import sys; from core.datasets.info import dataset_info; "
        f"infos = [dataset_info(s) for s in {specs!r}]; "
        "print(all(infos), 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr


def test_the_label_limit_of_the_peek_is_the_loader_s() -> None:
    from core.datasets.info import LABEL_LIMIT
    from core.portable.sources import MAX_CLASSES

    assert LABEL_LIMIT == MAX_CLASSES


def _rows(tmp: Path, name: str, data: bytes) -> str:
    (tmp / name).write_bytes(data)
    return str(tmp / name)


def _table_of(cell: str = "1.5", label: str = "{k}") -> bytes:
    rows = [f"{k % 5}.5,{cell if k == 3 else k}," + label.format(k=k % 2) for k in range(30)]
    return ("a,b,y\n" + "\n".join(rows) + "\n").encode()


def _binary_texts(tmp: Path) -> str:
    for name in ("pos", "neg"):
        (tmp / "texts" / name).mkdir(parents=True)
        (tmp / "texts" / name / "0.txt").write_text("good words here\n")
    (tmp / "texts" / "neg" / "1.txt").write_bytes(b"fine\n\x80\x81\xfe\n")
    return f"text:{tmp / 'texts'}"


BAD_FILES = {  # the trial's F13-F15 files: check said OK, train refused (or trained on nonsense)
    "one label value": lambda tmp: "table:" + _rows(tmp, "one.csv", _table_of(label="yes")),
    "csv: one label name": lambda tmp: "csv:" + _rows(tmp, "one.csv", _table_of(label="yes")) + ":y",
    "csv: one class number": lambda tmp: "csv:" + _rows(tmp, "one.csv", _table_of(label="1")) + ":y",
    "inf in a cell": lambda tmp: "table:" + _rows(tmp, "inf.csv", _table_of("inf")),
    "1e400 in a cell": lambda tmp: "table:" + _rows(tmp, "over.csv", _table_of("1e400")),
    "1e300 beyond float32": lambda tmp: "table:" + _rows(tmp, "huge.csv", _table_of("1e300")),
    "an empty file": lambda tmp: "table:" + _rows(tmp, "empty.csv", b""),
    "a column named twice": lambda tmp: "table:" + _rows(tmp, "dup.csv", _table_of().replace(b"a,b,y", b"a,a,y")),
    "a latin-1 file": lambda tmp: (
        "table:" + _rows(tmp, "l1.csv", _table_of().replace(b"1.5,", "Montr\xe9al,".encode("latin-1"), 1))
    ),
    "an unclosed quote": lambda tmp: "table:" + _rows(tmp, "q.csv", _table_of().replace(b"\n2.5,", b'\n"2.5,', 1)),
    "a text line without its tab": lambda tmp: "text:" + _rows(tmp, "t.txt", b"pos\tgood\nneg\tbad\nno tab here\n"),
    "a binary .txt": _binary_texts,
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_check_says_what_train_refuses_in_a_users_file(tmp_path, capsys, case) -> None:
    project = _project(tmp_path, [2], 2, BAD_FILES[case](tmp_path))
    code, _, errors = _check(project, capsys)
    assert code == 1 and len(errors) == 1, (case, errors)
    code = main(["train", str(project), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 1 and err == f"torchcanvas: error: {errors[0]}\n", (case, err)
