"""Tables read by pandas (``table:PATH``): one-hot categories, numbers standardised with the training split's
statistics, missing numbers filled with the training median plus a flag column, the same in the exported script."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset
from core.errors import DataError
from core.portable.tables import split_rows
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project


def _table(path: Path, rows: int = 60) -> Path:
    lines = ["size,colour,weight,kind"]
    for i in range(rows):
        colour = ["red", "green", "blue"][i % 3] if i % 7 else ""
        weight = "" if i % 5 == 2 else f"{(i * 37) % 101}.25"
        lines.append(f"{i % 11},{colour},{weight},{'ab'[(i // 2) % 2]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_categories_one_hot_and_missing_numbers_from_the_training_rows(tmp_path: Path) -> None:
    path = _table(tmp_path / "things.csv")
    data = load_dataset(f"table:{path}", val_fraction=0.2, test_fraction=0.1, normalize=False)
    # size, colour one-hot (blue, green, missing, red), weight, weight missing
    assert data.input_shape == (7,) and data.class_names == ["a", "b"]
    rows = split_rows(60, 0.2, 0.1, 0)
    weights = np.array([np.nan if i % 5 == 2 else (i * 37) % 101 + 0.25 for i in range(60)])
    median = np.nanmedian(weights[rows])
    assert median != np.nanmedian(weights)  # the training rows' median, not the whole file's
    x = torch.cat([data.x_train, data.x_val, data.x_test])
    missing = x[:, 6] == 1
    assert missing.sum() == 12 and torch.all(x[missing, 5] == torch.tensor(median, dtype=torch.float32))
    one_hot = x[:, 1:5]
    assert torch.all(one_hot.sum(1) == 1) and one_hot[:, 2].sum() == 9  # rows 0, 7, 14, ... have no colour


def test_split_rows_are_the_training_split_of_prepare(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("row,label\n" + "".join(f"{i},{i % 2}\n" for i in range(50)))
    data = load_dataset(f"table:{path}", val_fraction=0.2, test_fraction=0.1, normalize=False, seed=3)
    assert sorted(int(v) for v in data.x_train[:, 0]) == sorted(split_rows(50, 0.2, 0.1, 3).tolist())


def test_numbers_are_standardised_with_training_statistics(tmp_path: Path) -> None:
    data = load_dataset(f"table:{_table(tmp_path / 'things.csv')}", val_fraction=0.2)
    assert torch.allclose(data.x_train.mean(0), torch.zeros(7), atol=1e-5)
    assert data.mean is not None and data.mean.shape == (1, 7)


def test_the_exported_script_reads_the_same_tensors(tmp_path: Path) -> None:
    path = _table(tmp_path / "things.tsv")
    path.write_text(path.read_text().replace(",", "\t"))
    project = mlp_project([7], 8, 2, dataset=f"table:{path}", val_fraction=0.2)
    module, _ = run_as_module(generate_script(project).source)
    splits = module.load_data()
    data = load_dataset(f"table:{path}", val_fraction=0.2, test_fraction=0.1)
    for mine, theirs in zip(splits, (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test)):
        assert torch.equal(mine, theirs)


def test_parquet_and_regression(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "houses.parquet"
    frame = pd.DataFrame({"rooms": np.arange(30) % 5, "town": ["a", "b", "c"] * 10, "price": np.arange(30) * 1.5})
    frame.to_parquet(path)
    data = load_dataset(f"table:{path}")
    assert data.task == "regression" and data.input_shape == (4,) and data.y_train.dtype == torch.float32


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b,label\n1,2,x\n3,4\n5,6,y\n", r"bad.csv, row 3: 2 values but the header has 3 columns"),
        ("a,b,label\n1,2,x\n3,4,y,9\n5,6,y\n", r"bad.csv, row 3: 4 values but the header has 3 columns"),
        (
            "a,label\n" + "".join(f"{i},x\n" for i in range(150)) + "lots,y\n",
            r"bad.csv, column 'a': row 152 holds 'lots', not a number like the other 150 cells",
        ),
        ("a,label\n1,x\n2,\n3,y\n", r"bad.csv, row 3, column 'label': the label is missing \(1 of 3 rows\)"),
        ("a,a,label\n1,2,x\n", r"bad.csv: the header names the column 'a' twice"),
    ],
)
def test_bad_tables_are_one_line_naming_row_and_column(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(f"table:{path}")


def test_a_label_column_of_names_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("age,name\n" + "".join(f"{i % 90},person {i}\n" for i in range(10_000)))
    with pytest.raises(DataError, match=r"people.csv, column 'name': 10,000 different labels in 10,000 rows, more"):
        load_dataset(f"table:{path}?label=name")


def test_without_pandas_loading_names_the_pip_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _table(tmp_path / "things.csv")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(DataError, match=r"things.csv: tables are read with pandas, .*run: pip install pandas pyarrow"):
        load_dataset(f"table:{path}")


@pytest.mark.slow
def test_a_table_trains_and_its_script_reproduces_the_run(tmp_path: Path) -> None:
    from tests.core.test_script import _script_history, _start_script

    project = mlp_project([7], 16, 2, dataset=f"table:{_table(tmp_path / 'things.csv', 120)}", epochs=2)
    process = _start_script(project, tmp_path / "clean")
    app = Trainer(project, save=False).run()
    script = _script_history(process, tmp_path / "clean")
    assert app.status == "finished", app.message
    assert [round(e["loss"], 6) for e in app.history] == [round(e["loss"], 6) for e in script]


def test_the_table_script_passes_ruff(tmp_path: Path) -> None:
    import subprocess

    project = mlp_project([7], 8, 2, dataset=f"table:{_table(tmp_path / 'things.csv')}")
    script = tmp_path / "train.py"
    script.write_text(generate_script(project).source)
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        done = subprocess.run([sys.executable, "-m", "ruff", *args, str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
