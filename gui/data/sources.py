"""What Data > Open… and the dataset list's Open entries take, and the spec each picked path becomes: a folder of
class sub-folders (images, or text files), a table (CSV, TSV, Parquet), a text file, a NumPy .npz, an IDX pair.
The dialog once built ``npz:`` + the path for whatever was picked, so a CSV was read as NumPy and failed with
"pickled (object) data"; ``spec_for_path`` asks ``core.datasets.survey.guess_spec`` instead, and pairs an IDX
images file with its labels file. A table whose feature is one column of sentences is read as text: its spec is
``text:PATH?column=NAME&label=LABEL`` (``column_text_spec``), which the window has nowhere else to write."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.datasets.spec import parse_spec
from core.datasets.survey import guess_spec
from core.errors import DataError

OPEN_FILE = "Open a data file…"  # the dataset list's entries that ask for the user's own data
OPEN_FOLDER = "Open a data folder…"
OPEN_ENTRIES = (OPEN_FILE, OPEN_FOLDER)
FILE_FILTER = ";;".join(
    (
        "Data files (*.csv *.tsv *.tab *.parquet *.pq *.txt *.npz *-ubyte *-ubyte.gz)",
        "Tables (*.csv *.tsv *.tab *.parquet *.pq)",
        "Text (*.txt)",
        "NumPy arrays (*.npz)",
        "IDX files (*-ubyte *-ubyte.gz)",
        "All files (*)",
    )
)
IDX_IMAGES = re.compile(r"idx[34]-ubyte(\.gz)?$")  # MNIST's train-images-idx3-ubyte[.gz]
IDX_LABELS = re.compile(r"idx1-ubyte(\.gz)?$")


def idx_pair(path: Path) -> tuple[Path, Path] | None:
    """(images, labels) when ``path`` is one file of an IDX pair whose partner lies beside it: the same name with
    images/labels and idx3/idx1 swapped (train-images-idx3-ubyte and train-labels-idx1-ubyte)."""
    name = path.name
    if IDX_IMAGES.search(name):
        images, partner = path, re.sub(r"idx[34]-ubyte", "idx1-ubyte", name.replace("images", "labels"))
        labels = path.with_name(partner)
    elif IDX_LABELS.search(name):
        labels, partner = path, re.sub(r"idx1-ubyte", "idx3-ubyte", name.replace("labels", "images"))
        images = path.with_name(partner)
    else:
        return None
    if not (images.is_file() and labels.is_file()):
        missing = labels if images == path else images
        raise DataError(f"{path}: an IDX file needs its partner beside it; {missing.name} is not there")
    return images, labels


def spec_for_path(path: str | Path) -> str:
    """The dataset spec for a picked file or folder; DataError with the kinds taken when it is none of them."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    pair = idx_pair(p) if p.is_file() else None
    if pair is not None:
        return f"idx:{pair[0]},{pair[1]}"
    try:
        return guess_spec(p)
    except DataError as exc:
        raise DataError(f"{exc}, or a pair of IDX files") from None


def source_words(spec: str) -> str:
    """'a folder of images', 'a table', ... for the wizard's title."""
    kind = spec.partition(":")[0]
    return {
        "folder": "a folder of images, one sub-folder per class",
        "table": "a table",
        "csv": "a table",
        "text": "text",
        "npz": "a NumPy file",
        "idx": "a pair of IDX files",
    }.get(kind, "a built-in set")


def spec_path(spec: str) -> str:
    """The file or folder a spec names, without its choices ('table:/a/b.csv?label=y' -> '/a/b.csv'; an IDX
    pair by its images file)."""
    rest = spec.partition(":")[2]
    if spec.startswith(("table:", "text:")) and "?" in rest:
        rest = rest.rsplit("?", 1)[0]
    return rest.split(",")[0]


def column_text_spec(path: str, column: str, label: str, tokenizer: str = "word", max_length: int | None = None) -> str:
    """A table's text column read as text, written by the text source itself (its quoting of the names)."""
    options = ["tokenizer=char"] if tokenizer == "char" else []
    options += [f"max_length={max_length}"] if max_length else []
    spec = parse_spec(f"text:{path}?{'&'.join(options)}")  # the last '?' ends the path: a '?' in it stays
    return replace(spec, column_kinds=(("text", column), ("label", label))).text


def text_columns(survey: Any) -> tuple[list[str], list[str]]:
    """A table's columns used as text, and its other features (numbers, categories)."""
    text = [c.name for c in survey.columns if c.kind == "text"]
    return text, [c.name for c in survey.columns if c.kind in ("number", "category")]


def _quoted(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def text_problem(survey: Any) -> str:
    """Why a table's text column cannot be read with the others, as a step in this wizard (not a spec)."""
    text, others = text_columns(survey)
    if len(text) > 1:
        return (
            f"{_quoted(text)} hold text, and one text column is read at a time: under 'Used as', set all but one "
            f"of them to ignore{' and also ' + _quoted(others) if others else ''}; the one left is read as text"
        )
    return (
        f"{text[0]!r} holds text, which the network reads on its own (token ids for an Embedding), not beside number "
        f"or category columns: under 'Used as', set {_quoted(others)} to ignore to read {text[0]!r} as text, or set "
        f"{text[0]!r} to ignore to use the other columns"
    )
