"""The tester's F18 and F20: text samples that are all empty trained in silence ("test accuracy 1.0000": empty =
pos), and spec strings whose mistakes passed in silence (a second label=, a label also ignored, a column of two
kinds) or whose error never told how to name a path holding '?'."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main
from core.datasets import load_dataset
from core.datasets.info import dataset_info
from core.datasets.spec import parse_spec
from core.datasets.survey import survey
from core.datasets.tabular import with_choices
from core.errors import DataError


def _folder(root: Path, empty: dict[str, int], full: dict[str, int]) -> Path:
    for name in ("neg", "pos"):
        (root / name).mkdir(parents=True)
        for i in range(empty.get(name, 0)):
            (root / name / f"{i}.txt").write_text("  \n")
        for i in range(full.get(name, 0)):
            (root / name / f"full{i}.txt").write_text(f"a {name} review number {i}")
    return root


def test_every_sample_empty_is_refused_by_the_loader_check_and_survey(tmp_path, capsys) -> None:
    lines = tmp_path / "empty.txt"
    lines.write_text("".join(f"{'pos' if i % 2 else 'neg'}\t\n" for i in range(40)))
    folder = _folder(tmp_path / "textdir", {"pos": 5, "neg": 5}, {})
    for path in (lines, folder):
        spec = f"text:{path}"
        words = f"{path}: every sample is empty (no text after the label); write the texts to classify"
        with pytest.raises(DataError) as caught:
            load_dataset(spec)
        assert str(caught.value) == words
        info = dataset_info(spec)
        assert info is not None and info.problems == (words,)  # check says it, so train refuses it first
        assert words in survey(spec).problems
        assert main(["data", spec]) == 1
        assert words in capsys.readouterr().err


def test_some_empty_samples_are_named_in_a_note(tmp_path) -> None:
    folder = _folder(tmp_path / "textdir", {"pos": 2, "neg": 2}, {"pos": 3, "neg": 3})
    found = survey(f"text:{folder}")
    assert not found.problems
    assert f"4 of 10 samples are empty: {folder / 'neg' / '0.txt'}, {folder / 'neg' / '1.txt'}, " in " ".join(
        found.notes
    )
    lines = tmp_path / "some.txt"
    lines.write_text("pos\tgood\n\nneg\t\npos\tfine\nneg\tbad\n")
    assert "1 of 4 samples are empty: line 3." in survey(f"text:{lines}").notes
    assert load_dataset(f"text:{lines}", val_fraction=0.0, test_fraction=0.25).count("train") == 3


def test_a_path_with_a_question_mark_is_told_to_end_the_spec_with_one(tmp_path) -> None:
    table = tmp_path / "q?mark.csv"
    table.write_text("a,y\n" + "".join(f"{i}.5,{i % 2}\n" for i in range(12)))
    for key in ("table", "text"):
        with pytest.raises(DataError) as caught:
            parse_spec(f"{key}:{table}")
        assert str(caught.value).endswith(f"a path with '?' in it: end the spec with '?' ({key}:{table}?)")
    assert parse_spec(f"table:{table}?").paths == (str(table),)  # the advice works
    with pytest.raises(DataError) as caught:
        parse_spec(f"table:{tmp_path / 't.csv'}?lable=y")
    assert "a path with '?'" not in str(caught.value)  # a misspelt option is no path


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("label=y&label=a", "label= is given twice ('y' and 'a'); give it once"),
        ("label=y&ignore=y", "column 'y' is given as label and as ignore; give each column one kind"),
        ("number=a&category=a", "column 'a' is given as number and as category; give each column one kind"),
    ],
)
def test_contradictory_table_options_are_refused(query: str, words: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_spec(f"table:data.csv?{query}")
    assert words in str(caught.value)


def test_the_label_s_own_kind_stays_allowed_and_the_wizard_never_writes_two() -> None:
    spec = parse_spec("table:data.csv?label=y&number=y")  # predict y as a number: what check advises
    assert spec.label_column == "y" and dict(spec.column_kinds) == {"y": "number"}
    chosen = with_choices(parse_spec("table:data.csv?ignore=id"), "id", None)  # an ignored column made the label
    assert parse_spec(chosen.text).label_column == "id"


def test_a_text_option_given_twice_is_refused() -> None:
    with pytest.raises(DataError) as caught:
        parse_spec("text:r.csv?column=a&label=y&column=b")
    assert "column= is given twice ('a' and 'b'); give it once" in str(caught.value)
