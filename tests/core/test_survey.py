"""``core.datasets.survey.survey``: what a source holds before anything trains, and that it says what the loader
will really do (split sizes, sample shape, column encodings, the label) rather than a guess of its own."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from core.datasets import load_dataset, parse_spec
from core.datasets.survey import ClassCount, guess_spec, imbalance_words, survey
from core.errors import DataError


def _table(path: Path) -> Path:
    rows = ["age,city,income,notes,label"]
    for i in range(40):
        city = ["paris", "lyon", "nice", ""][i % 4]
        income = "" if i % 10 == 3 else f"{1000 + 37 * i}.5"
        rows.append(f"{20 + i},{city},{income},,{'yes' if i % 3 else 'no'}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_table_s_columns_kinds_missing_and_label(tmp_path: Path) -> None:
    found = survey(f"table:{_table(tmp_path / 'people.csv')}")
    columns = {c.name: c for c in found.columns}
    assert found.source == "table" and found.samples == 40 and found.task == "classification"
    assert found.label_column == "label" and columns["label"].kind == "label"
    assert (columns["age"].kind, columns["city"].kind, columns["notes"].kind) == ("number", "category", "ignore")
    assert (columns["city"].missing, columns["city"].distinct) == (10, 3)
    assert columns["income"].missing == 4 and "median" in columns["income"].encoding
    assert "one-hot, 4 columns" in columns["city"].encoding
    assert [(c.name, c.count) for c in found.classes] == [("no", 14), ("yes", 26)]
    assert any("guessed from its name" in note for note in found.notes)


def test_the_survey_promises_what_the_loader_does(tmp_path: Path) -> None:
    """Split sizes, sample width (one-hot levels, missing flags) and the classes as load_dataset makes them."""
    path = _table(tmp_path / "people.csv")
    found = survey(f"table:{path}", val_fraction=0.25, test_fraction=0.1)
    data = load_dataset(found.spec, val_fraction=0.25, test_fraction=0.1)
    assert found.splits is not None
    assert (found.splits.train, found.splits.val, found.splits.test) == tuple(
        data.count(s) for s in ("train", "val", "test")
    )
    assert found.sample_shape == data.input_shape == (1 + 4 + 2,)  # age, city one-hot, income + missing flag
    assert [c.name for c in found.classes] == data.class_names


def test_choices_go_into_the_spec_and_read_back(tmp_path: Path) -> None:
    path = _table(tmp_path / "odd, name.csv")
    found = survey(f"table:{path}", label_column="city", column_kinds={"age": "category", "label": "ignore"})
    assert found.label_column == "city" and found.task == "classification"
    assert found.spec == f"table:{path}?label=city&category=age&ignore=label"
    again = survey(found.spec)
    assert again.columns == found.columns and parse_spec(found.spec).text == found.spec
    assert found.problems == (
        f"{path}, row 5, column 'city': the label is missing (10 of 40 rows); fill it in or delete the row",
    )


def test_a_number_label_is_regression_unless_made_a_category(tmp_path: Path) -> None:
    path = tmp_path / "houses.csv"
    path.write_text("rooms,price\n" + "".join(f"{i % 5},{100.25 * i}\n" for i in range(30)))
    assert survey(f"table:{path}").task == "regression"
    assert survey(f"table:{path}", label_column="rooms").task == "classification"  # 5 whole numbers
    assert survey(f"table:{path}", column_kinds={"price": "category"}).task == "classification"


def test_csv_specs_are_surveyed_as_tables_with_their_label(tmp_path: Path) -> None:
    path = _table(tmp_path / "people.csv")
    found = survey(f"csv:{path}:income")
    assert found.label_column == "income" and found.task == "regression"
    assert found.spec == f"table:{path}?label=income"


def _images(root: Path) -> Path:
    from PIL import Image

    for k in range(6):
        (root / "cat").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (48, 48), (40 * k, 0, 0)).save(root / "cat" / f"{k}.png")
    for k in range(2):
        (root / "dog").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), (0, 40 * k, 0)).save(root / "dog" / f"{k}.png")
    return root


def test_an_image_folder_sizes_the_one_used_and_why(tmp_path: Path) -> None:
    root = _images(tmp_path / "pets")
    found = survey(f"folder:{root}")
    assert found.source == "images" and found.samples == 8 and found.channels == 3
    assert [(s.size, s.count) for s in found.image_sizes] == [((48, 48), 6), ((30, 40), 2)]
    assert found.image_size == (48, 48) and "most common size (6 of 8 images)" in found.image_size_reason
    assert found.sample_shape == (3, 48, 48)
    assert any("2 different image sizes" in note for note in found.notes)
    assert "imbalanced: 'cat' has 3x the samples of 'dog'" in found.imbalance
    fitted = survey(f"folder:{root}", input_shape=(1, 28, 28))
    assert fitted.image_size == (28, 28) and fitted.sample_shape == (1, 28, 28)
    assert fitted.image_size_reason == "the Input node's size [1, 28, 28]"
    assert "turned grey" in " ".join(fitted.notes)


def test_an_image_folder_s_problems_are_the_loader_s(tmp_path: Path) -> None:
    root = _images(tmp_path / "pets")
    (root / "bird").mkdir()
    (root / "dog" / "empty.png").write_bytes(b"")
    found = survey(f"folder:{root}")
    assert f"{root / 'bird'}: no images in this class folder; add images or remove the folder" in found.problems
    assert any(p.startswith(f"{root / 'dog' / 'empty.png'}: this image cannot be read") for p in found.problems)
    assert [c.count for c in found.classes] == [0, 6, 3]


def test_built_in_and_array_sets(tmp_path: Path) -> None:
    digits = survey("digits", val_fraction=0.2, test_fraction=0.1)
    data = load_dataset("digits", val_fraction=0.2, test_fraction=0.1)
    assert digits.samples == 1797 and digits.sample_shape == (1, 8, 8) and len(digits.classes) == 10
    assert digits.splits is not None and digits.splits.train == data.count("train")
    assert digits.imbalance.startswith("balanced")
    path = tmp_path / "a.npz"
    x = np.zeros((30, 5, 5), np.uint8)
    np.savez(path, x_train=x, y_train=np.arange(30) % 2, x_test=x[:7], y_test=np.arange(7) % 2)
    arrays = survey(f"npz:{path}")
    assert arrays.source == "npz" and arrays.samples == 37 and arrays.sample_shape == (1, 5, 5)
    assert arrays.splits is not None and arrays.splits.test == 7 and arrays.splits.test_from_source
    mnist = survey("mnist")  # told from what is known: nothing is downloaded
    assert mnist.samples == 70000 and mnist.sample_shape == (1, 28, 28)


def test_imbalance_in_words() -> None:
    assert imbalance_words([ClassCount("a", 5)]).startswith("one class only ('a')")
    assert imbalance_words([ClassCount("a", 100), ClassCount("b", 2)]).startswith(
        "strongly imbalanced: 'a' has 50x the samples of 'b' (100 vs 2); a network that always answers 'a' is right 98%"
    )


def test_an_unreadable_source_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("a,label\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"bad.csv, row 2: the file is not UTF-8 text \(byte 0xe9\)"):
        survey(f"table:{path}")


def test_without_pandas_the_message_names_the_pip_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(DataError, match="tables are read with pandas, which is not installed; run: pip install pandas"):
        survey(f"table:{_table(tmp_path / 'people.csv')}")


def test_guess_spec_from_what_the_user_picked(tmp_path: Path) -> None:
    root = _images(tmp_path / "pets")
    assert guess_spec(root) == f"folder:{root}"
    assert guess_spec(tmp_path / "t.parquet") == f"table:{tmp_path / 't.parquet'}"
    assert guess_spec(tmp_path / "a.npz") == f"npz:{tmp_path / 'a.npz'}"
    with pytest.raises(DataError, match="not a kind of data"):
        guess_spec(tmp_path / "a.doc")


def test_torchcanvas_data_prints_the_survey(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    path = _table(tmp_path / "people.csv")
    assert main(["data", str(path), "--label", "label", "--kind", "city=ignore"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Data: table:{path}?label=label&ignore=city (table)"
    assert "40 samples; task: classification; one sample is [3]" in out  # age, income and its missing flag
    root = _images(tmp_path / "pets")
    (root / "bird").mkdir()
    assert main(["data", str(root)]) == 1  # what training would refuse: exit 1, said on stderr
    assert f"error: {root / 'bird'}: no images in this class folder" in capsys.readouterr().err
    assert main(["data", "digits:per_class=3"]) == 0
    assert "10 classes: 0 3, 1 3, 2 3, 3 3, 4 3, 5 3, 6 3, 7 3, 8 3, 9 3" in capsys.readouterr().out


def test_a_label_of_one_value_is_refused_as_for_text_and_images(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("a,label\n" + "".join(f"{k},yes\n" for k in range(30)))
    found = survey(f"table:{path}")
    assert found.problems == (f"{path}, column 'label': only one class ('yes'); a classifier needs at least two",)
    with pytest.raises(DataError, match=re.escape(found.problems[0])):
        load_dataset(f"table:{path}")


def test_a_label_of_ids_is_refused_with_the_way_to_regress(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("a,b,y\n" + "".join(f"{k % 7},{k % 3},{100000 + k}\n" for k in range(60)))
    found = survey(f"table:{path}")
    assert len(found.problems) == 1 and "every row has its own label (60 different in 60 rows)" in found.problems[0]
    assert found.problems[0].endswith(f"table:{path}?label=y&number=y")
    regress = survey(f"table:{path}?label=y&number=y")
    assert regress.task == "regression" and regress.problems == ()


def test_a_semicolon_separated_csv_has_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("a;b;y\n" + "".join(f"{k % 5};{k / 2};{k % 2}\n" for k in range(40)))
    found = survey(f"table:{path}")
    assert [c.name for c in found.columns] == ["a", "b", "y"] and found.sample_shape == (2,)
    assert found.problems == ()
    assert tuple(load_dataset(f"table:{path}").input_shape) == (2,)


def test_a_free_text_column_is_text_and_points_to_the_text_spec(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("review,y\n" + "".join(f'"this is review number {k}, nice",{k % 2}\n' for k in range(60)))
    found = survey(f"table:{path}")
    assert {c.name: c.kind for c in found.columns} == {"review": "text", "y": "label"}
    assert found.problems[0].startswith(f"{path}, column 'review': holds text")
    assert f"text:{path}?column=review&label=y" in found.problems[0]
    text = survey(f"text:{path}?column=review&label=y")
    assert text.problems == () and text.samples == 60


def test_a_category_of_mostly_different_values_has_a_note(tmp_path: Path) -> None:
    path = tmp_path / "feats.csv"
    path.write_text("feat_a,y\n" + "".join(f"{k * 1.37 if k % 15 else 0.0},{k % 2}\n" for k in range(300)))
    found = survey(f"table:{path}?category=feat_a")
    assert found.columns[0].kind == "category" and found.problems == ()
    assert "281 different values in 300 rows" in found.columns[0].note
    assert any(n.startswith("Column 'feat_a': 281 different values in 300 rows") for n in found.notes)
    assert survey(f"table:{path}").notes == (
        "Label column 'y': guessed from its name; choose another if it is not what to predict.",
    )
