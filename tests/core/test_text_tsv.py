"""A .tsv of LABEL<TAB>TEXT lines (README's text format) opened by path is ``text:``, not a table, and a first
line that names the columns (``label<TAB>text``) is skipped, not a class (trial 4, A: ``torchcanvas data
rev_ok.tsv`` made the sentences 10 classes and the sentiment a feature; ``text:`` of a file with a header said
"3 classes: label 1, neg 107, pos 93")."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main
from core.datasets import load_dataset
from core.datasets.spec import parse_spec
from core.datasets.survey import guess_spec, survey, survey_lines
from core.datasets.text import _script as text_script
from core.portable.text import is_header, read_texts
from core.settings import TrainingSettings

REVIEWS = ["pos\ti loved this film", "neg\tnot good at all", "pos\tgreat fun", "neg\tawful acting today"] * 10


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_tsv_of_labels_and_sentences_is_text(tmp_path, capsys) -> None:
    path = _write(tmp_path / "rev.tsv", REVIEWS)
    assert guess_spec(path) == f"text:{path}"  # was table:
    assert main(["data", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 classes: neg 20, pos 20" in out


def test_a_tsv_with_a_header_line_is_text_without_it(tmp_path) -> None:
    path = _write(tmp_path / "rev.tsv", ["label\ttext", *REVIEWS])
    assert guess_spec(path) == f"text:{path}"
    found = survey(guess_spec(path))
    assert [(c.name, c.count) for c in found.classes] == [("neg", 20), ("pos", 20)]  # was label 1, neg 20, pos 20
    assert "note: The first line ('label<TAB>text') names the columns: it is skipped, not read as a sample." in (
        survey_lines(found)
    )
    assert load_dataset(f"text:{path}").num_classes == 2


@pytest.mark.parametrize(
    "lines",
    [
        ["id\tcity", *(f"{k}\tNew York" for k in range(20))],  # a unique number per row: not a label
        ["a\tb\tc", *("1\t2\t3" for _ in range(20))],  # three columns
        ["colour\tsize", *(f"{c}\t{s}" for c in ("red", "blue") for s in ("1", "2", "3"))],  # one-word values
        ["sentence\tlabel", *(f"{line.split(chr(9))[1]}\t{line.split(chr(9))[0]}" for line in REVIEWS)],  # text first
    ],
)
def test_tables_stay_tables(tmp_path, lines) -> None:
    path = _write(tmp_path / "t.tsv", lines)
    assert guess_spec(path) == f"table:{path}"


def test_the_header_rule() -> None:
    labels = ["label", "pos", "neg", "pos"]
    assert is_header("label", "text", labels)
    assert is_header("Sentiment", "review_text", ["Sentiment", "pos", "neg"])
    assert not is_header("pos", "great", ["pos", "neg"])  # a sample: neither is a column name
    assert not is_header("label", "text", ["label", "label", "pos"])  # 'label' is a class with several samples
    assert not is_header("label", "a good one", ["label", "pos"])  # a sentence is a sample's text


def test_the_header_is_skipped_where_samples_are_named_and_in_the_script(tmp_path) -> None:
    path = _write(tmp_path / "rev.tsv", ["label\ttext", *REVIEWS[:3], "neg\t!"])
    texts, labels = read_texts(str(path))
    assert labels == ["pos", "neg", "pos", "neg"] and texts[0] == "i loved this film"
    load = text_script(parse_spec(f"text:{path}"), TrainingSettings(), (50,), True)
    assert load.helpers.index(is_header) > load.helpers.index(read_texts)  # read_texts calls it in the script


def test_an_empty_sample_is_named_by_its_line_after_a_header(tmp_path) -> None:
    path = _write(tmp_path / "rev.tsv", ["label\ttext", *REVIEWS[:4], "neg\t   "])
    assert "1 of 5 samples are empty: line 6." in survey(f"text:{path}").notes  # line 5 counting the header out
