"""Review 7, T5 and T9: the script exported for the text column of a table (``text:reviews.csv?column=text&label=
label``) pasted the app's whole table reader: ``check_file``, ``read_table`` with its Parquet branch and ``import io``
/ ``import pandas`` inside it, ``delimiter`` sniffing and ``ragged_row`` (100 lines, a 330-line script for a comma
CSV); and ``text_tensors`` re-derived prepare's split by hand (``randperm`` and ``held_out = round(...) + round(...)``)
to find the training texts for the vocabulary.

Now the script reads the table with the one pandas call the app makes for that file (``pd.read_csv``, ``sep=`` or
``pd.read_parquet``, decided at export) and takes the texts with the app's own ``column_texts``; the app keeps every
check and message (``core.portable.frames``). The training rows come from ``split_rows``, the one named copy of
prepare's order the table script uses too. Each variant passes ruff and gives the app's tensors and vocabulary; the
slow test runs the script as its own process and compares the per-epoch losses with the app's.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset
from core.errors import DataError
from core.files.project import Project
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.test_text import embedding_project
from tests.core.train_fixtures import assert_script_history_is_the_apps, run_script

SPLITS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
WORDS = ("good", "bad", "fine", "poor", "great", "awful")
# Before T5 the comma CSV's script was 327 lines (review 7: 330), 100 of them the app's reader; now it reads the
# table in one line and takes its texts with column_texts (5 lines): 220 today, a few lines left for shared parts.
MAX_LINES = 225


def _reviews(path: Path, rows: int = 160, sep: str = ",", bom: bool = False) -> Path:
    """Short reviews, some with the separator inside quotes and one empty, labelled pos or neg."""
    lines = [sep.join(["id", "text", "label"])]
    for i in range(rows):
        text = f'"a {WORDS[i % 6]} film{sep} number {i % 9}"' if i % 5 == 0 else f"a {WORDS[i % 6]} film number {i % 9}"
        lines.append(sep.join([str(i), "" if i == 7 else text, "pos" if i % 6 in (0, 2, 4) else "neg"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig" if bom else "utf-8")
    return path


def _project(path: Path, **training: object) -> Project:
    return embedding_project(f"text:{path}?column=text&label=label&max_length=6", 6, 40, 2, **training)


def _variants(tmp_path: Path) -> dict[str, Path]:
    parquet = tmp_path / "reviews.parquet"
    pd.read_csv(_reviews(tmp_path / "for_parquet.csv")).to_parquet(parquet)
    return {
        "csv": _reviews(tmp_path / "reviews.csv"),
        "tsv": _reviews(tmp_path / "reviews.tsv", sep="\t"),
        "semicolons": _reviews(tmp_path / "excel.csv", sep=";", bom=True),
        "parquet": parquet,
    }


def _imports_in_functions(source: str) -> list[str]:
    tree = ast.parse(source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    return [f"{f.name}: {ast.unparse(n)}" for f in functions for n in ast.walk(f) if isinstance(n, ast.Import)]


def test_a_text_csv_script_reads_the_table_with_one_pandas_call(tmp_path: Path) -> None:
    """Fails before: the script pasted read_table (Parquet, sniffing, ragged rows) and was 327 lines."""
    source = generate_script(_project(_reviews(tmp_path / "reviews.csv"))).source
    lines = len(source.splitlines())
    tab = tmp_path / "reviews.txt"
    tab.write_text("".join(f"{'pos' if i % 2 else 'neg'}\ta {WORDS[i % 6]} film\n" for i in range(40)))
    plain = generate_script(embedding_project(f"text:{tab}?max_length=6", 6, 40, 2)).source
    print(f"text CSV script: {lines} lines (a LABEL<TAB>TEXT file's: {len(plain.splitlines())}; before T5: 327)")
    assert lines <= MAX_LINES
    assert "    frame = pd.read_csv(DATA_FILE)\n" in source and "import pandas as pd\n" in source
    for other in (
        "parquet",
        "pyarrow",
        "sep=",
        "delimiter",
        "Sniffer",
        "ragged",
        "check_file",
        "read_table",
        "import csv",
        "import io",
        "BytesIO",
        "UTF-8",
    ):
        assert other not in source, other
    assert _imports_in_functions(source) == []  # pandas at the top, not inside a reader


def test_the_vocabulary_split_is_prepares_own_not_a_second_copy(tmp_path: Path) -> None:
    """Fails before: text_tensors drew its own randperm and summed the held-out counts (T9)."""
    source = generate_script(_project(_reviews(tmp_path / "reviews.csv"))).source
    tree = ast.parse(source)
    text_tensors = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "text_tensors")
    assert "randperm" not in ast.unparse(text_tensors) and "round(" not in ast.unparse(text_tensors)
    assert source.count("torch.randperm(") == 3  # split_rows, prepare, the epochs' shuffle
    assert "rows = split_rows(len(texts), VAL_FRACTION, TEST_FRACTION, SEED)" in source


def test_each_text_table_gets_its_own_read_and_the_apps_tensors(tmp_path: Path) -> None:
    """Each format its one call (fails before: every script sniffed at run time); the script's splits and
    vocabulary equal the app's, which reads the file through read_table's checks."""
    reads = {
        "csv": "frame = pd.read_csv(DATA_FILE)\n",
        "tsv": 'frame = pd.read_csv(DATA_FILE, sep="\\t")\n',
        "semicolons": 'frame = pd.read_csv(DATA_FILE, sep=";")\n',
        "parquet": "frame = pd.read_parquet(DATA_FILE)\n",
    }
    lint = tmp_path / "lint"
    lint.mkdir()
    for name, path in _variants(tmp_path).items():
        project = _project(path)
        source = generate_script(project).source
        assert reads[name] in source and source.count("frame = pd.read_") == 1, name
        (lint / f"{name}.py").write_text(source)
        data = load_dataset(project.training.dataset, input_dtype="int64", val_fraction=0.2)
        module, _ = run_as_module(source)
        *splits, vocab = module.load_data()
        for split, mine in zip(SPLITS, splits, strict=True):
            assert torch.equal(mine, getattr(data, split)), (name, split)
        app_vocab = json.loads(data.extra["run_files"]["vocab.json"])
        assert vocab == app_vocab, name
    for args in (("check",), ("format", "--check", "--diff")):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", str(lint)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_app_keeps_its_checks_in_words_and_the_script_its_one(tmp_path: Path) -> None:
    """The checks the script no longer carries are the app's: a ragged row and a missing column are refused in
    words before training or export; an empty label, which the file may gain after the export, stops the script
    in one sentence (not a class named "nan")."""
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,label\na good film,pos\na bad film,neg,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 3: 3 values but the header has 2 columns"):
        load_dataset(f"text:{ragged}?column=text&label=label", input_dtype="int64")
    path = _reviews(tmp_path / "reviews.csv")
    with pytest.raises(DataError, match="no column named 'review'"):
        load_dataset(f"text:{path}?column=review&label=label", input_dtype="int64")
    source = generate_script(_project(path)).source
    path.write_text(path.read_text(encoding="utf-8") + "999,a late review,\n", encoding="utf-8")
    module, _ = run_as_module(source)
    with pytest.raises(ValueError, match="an empty label; fill it in"):
        module.load_data()


@pytest.mark.slow  # trains in a subprocess
def test_the_text_csv_script_gives_the_app_losses(tmp_path: Path) -> None:
    """Run as its own process (CPU), the script's per-epoch losses are the app's within 1e-6."""
    project = _project(_reviews(tmp_path / "reviews.csv"), hidden=16, epochs=2)
    done = run_script(tmp_path / "run", generate_script(project).source)
    assert done.returncode == 0, done.stdout + done.stderr
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    assert_script_history_is_the_apps(tmp_path / "run", app.history, 2)
    saved = json.loads((tmp_path / "run" / "vocab.json").read_text(encoding="utf-8"))
    assert saved["classes"] == ["neg", "pos"] and saved["tokens"][:2] == ["<pad>", "<unk>"]
