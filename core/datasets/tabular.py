"""Tables read by pandas: ``table:PATH`` for a CSV, TSV or Parquet file, with the label column and the column kinds.

Spec: ``table:data.csv`` (label column guessed, kinds detected), or with choices after a ``?``:
``table:data.csv?label=price&category=zip,city&ignore=id`` (keys ``label``, ``number``, ``category``, ``text``,
``ignore``; names are percent-encoded where they hold ``,&=?%``; ``parse_spec(spec).text`` writes the same string
back). The plan of a table (``plan_table``) is what the survey shows and what the loader and the exported script do
with it: one place decides each column's kind, its encoding and the task, so the wizard cannot promise what the
loader does not do. pandas (and pyarrow) are the ``tables`` extra; without them the message names the pip command.
What a column's values look like and the label's guess are ``core.datasets.table_columns``'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from core.datasets.info import DataInfo
from core.datasets.spec import (
    Constant,
    DataSpec,
    LoadRequest,
    ScriptLoad,
    Source,
    file_path,
    question_mark_hint,
    register,
)
from core.datasets.table_columns import (
    CATEGORY,
    KINDS,
    LABEL,
    NUMBER,
    ONE_HOT_MAX,
    TEXT,
    detect,
    guess_label,
    guess_task,
    rising_whole,
)
from core.errors import DataError
from core.portable.frames import read_table, table_separator
from core.settings import TrainingSettings

ID_LABEL_ROWS = 20  # fewer rows, each with its own class: a toy table, not an id column
MAX_TABLE_CLASSES = 1000  # core.portable.frames.label_codes refuses more (an identifier is no class label)
SUFFIXES = (".csv", ".tsv", ".tab", ".parquet", ".pq", ".txt")


@dataclass(frozen=True)
class Column:
    """One column of a table as it will be used."""

    name: str
    kind: str  # number | category | text | label | ignore: how it is used
    detected: str  # number | category | text | ignore: what its values look like (before the user's choice)
    missing: int  # empty cells
    distinct: int  # different values (missing not counted)
    encoding: str  # in words: "standardised", "one-hot, 3 columns", ...
    note: str = ""  # a problem found in its values, in words


@dataclass(frozen=True)
class TablePlan:
    path: str
    rows: int
    label: str
    task: str  # classification | regression
    columns: tuple[Column, ...]
    features: int  # values in one sample after encoding
    notes: tuple[str, ...]

    def feature_kinds(self) -> dict[str, str]:
        """The feature columns in file order and their kinds (number or category), as the loader takes them."""
        return {c.name: c.kind for c in self.columns if c.kind in (NUMBER, CATEGORY)}


# --- the spec ----------------------------------------------------------------------------------------------------
def _names(value: str) -> list[str]:
    return [unquote(name) for name in value.split(",") if name]


def parse_table(key: str, rest: str, text: str) -> DataSpec:
    body = file_path(key, rest, text)
    path, mark, query = body.rpartition("?") if "?" in body else (body, "", "")
    if not path:
        raise DataError(f"{text!r}: give the table's path as table:PATH")
    label, kinds = "", []
    for item in filter(None, query.split("&")):
        name, eq, value = item.partition("=")
        if not eq or name not in (LABEL, *KINDS):
            raise DataError(
                f"{text!r}: after '?' come label=COLUMN and number=, category=, text= or ignore= with column "
                f"names, joined by '&' (e.g. table:data.csv?label=price&category=city), not {item!r}"
                + question_mark_hint(item, text)
            )
        if name == LABEL and label:
            raise DataError(f"{text!r}: label= is given twice ({label!r} and {unquote(value)!r}); give it once")
        if name == LABEL:
            label = unquote(value)
        else:
            kinds += [(column, name) for column in _names(value)]
    _one_kind_each(label, kinds, text)
    return DataSpec("tabular", "table", (path,), label_column=label, column_kinds=tuple(kinds))


def _one_kind_each(label: str, kinds: list[tuple[str, str]], text: str) -> None:
    """A column has one kind (``label=y&ignore=y`` ignored the ignore in silence); the label's own kind is number
    (predict a number) or category (classes), never ignore or text."""
    seen: dict[str, str] = {}
    for column, kind in kinds:
        if column in seen or (column == label and kind not in (NUMBER, CATEGORY)):
            first = seen.get(column, LABEL)
            raise DataError(
                f"{text!r}: column {column!r} is given as {first} and as {kind}; give each column one kind"
                + (" (the label's is number or category)" if column == label else "")
            )
        seen[column] = kind


def _quote(name: str) -> str:
    return quote(name, safe=" ()[]-_.+/:'")


def table_text(spec: DataSpec) -> str:
    """The spec string: the path, then the label and the kinds the user chose (grouped by kind, in that order)."""
    parts = [f"label={_quote(spec.label_column)}"] if spec.label_column else []
    for kind in KINDS:
        names = [_quote(column) for column, chosen in spec.column_kinds if chosen == kind]
        if names:
            parts.append(f"{kind}={','.join(names)}")
    path = spec.paths[0]
    if parts or "?" in path:  # a path with "?" keeps a trailing "?" so it reads back whole
        return f"table:{path}?{'&'.join(parts)}"
    return f"table:{path}"


def with_choices(spec: DataSpec, label_column: str | None, column_kinds: dict[str, str] | None) -> DataSpec:
    """The spec with the user's label column and column kinds over the ones it holds."""
    kinds = dict(spec.column_kinds)
    for column, kind in (column_kinds or {}).items():
        if kind not in (*KINDS, LABEL):
            raise DataError(f"column {column!r}: the kind {kind!r} is not one of {', '.join(KINDS)}")
        if kind == LABEL:
            label_column = column
        else:
            kinds[column] = kind
    label = spec.label_column if label_column is None else label_column
    if kinds.get(label, NUMBER) not in (NUMBER, CATEGORY):  # an ignored column made the label is used now
        del kinds[label]
    return DataSpec("tabular", "table", spec.paths, label_column=label, column_kinds=tuple(kinds.items()))


# --- reading and planning ----------------------------------------------------------------------------------------
def read_frame(path: str) -> Any:
    """The table as a pandas DataFrame; DataError naming the file (and row) when it cannot be read."""
    file = Path(path).expanduser()
    if file.exists() and not file.is_file():
        raise DataError(f"{path}: not a regular file; give the path of the table file itself")
    try:
        return read_table(str(file))
    except (ValueError, OSError) as exc:
        raise DataError(str(exc)) from None


def _encoding(kind: str, missing: int, distinct: int, task: str) -> tuple[str, int]:
    """(words, values in a sample) for a column used as ``kind``."""
    if kind == NUMBER:
        if missing:
            return f"standardised; {missing:,} missing: the training median and a 0/1 'missing' column", 2
        return "standardised with the training split's mean and std", 1
    if kind == CATEGORY:
        levels = distinct + (1 if missing else 0)
        extra = " (an empty cell is the value 'missing')" if missing else ""
        return f"one-hot, {levels} columns{extra}", levels
    if kind == LABEL:
        return ("the number to predict" if task == "regression" else f"{distinct} classes, numbered in sorted order"), 0
    if kind == TEXT:
        return "text: read on its own as token ids (text:PATH?column=NAME&label=LABEL), not beside other features", 0
    return "not used", 0


def plan_table(frame: Any, path: str, spec: DataSpec) -> TablePlan:
    """Each column's kind (the spec's choice over what was detected), its encoding, the label and the task."""
    names = [str(name) for name in frame.columns]
    frame.columns = names
    label, label_note = guess_label(names, spec.label_column)
    chosen = dict(spec.column_kinds)
    unknown = [name for name in chosen if name not in names]
    if unknown:
        raise DataError(f"{path}: there is no column named {unknown[0]!r}; the columns are {', '.join(names)}")
    task = guess_task(frame[label], chosen.get(label))
    columns, notes, width = [], [label_note] if label_note else [], 0
    for name in names:
        series = frame[name]
        missing, distinct = int(series.isna().sum()), int(series.nunique())
        detected, note = detect(series, distinct) if name != label else (LABEL, "")
        kind = LABEL if name == label else chosen.get(name, detected)
        words, values = _encoding(kind, missing, distinct, task)
        width += values
        if note and kind != detected:
            note = ""  # the user's choice answers it
        filled = len(series) - missing
        if kind == CATEGORY and distinct > ONE_HOT_MAX // 5 and distinct > filled // 2:
            note = (
                f"{distinct:,} different values in {filled:,} rows: as a category (one-hot) most rows are a value "
                "of their own, which teaches nothing that holds for new rows; make it a number, text or ignore"
            )
        columns.append(Column(name, kind, detected, missing, distinct, words, note))
        if note:
            notes.append(f"Column {name!r}: {note}")
        elif kind == NUMBER and name not in chosen and distinct == len(series) >= 20 and rising_whole(series):
            notes.append(  # a note, not a Column.note: a number column's note is a problem training refuses
                f"Column {name!r}: {distinct:,} different whole numbers rising row by row: looks like a row number "
                "or an id, which says nothing about a new row (it only tells the file's order); set its kind to "
                "ignore unless it measures something."
            )
    return TablePlan(path, len(frame), label, task, tuple(columns), width, tuple(notes))


def table_plan(spec: DataSpec) -> tuple[Any, TablePlan]:
    frame = read_frame(spec.paths[0])
    if not len(frame.columns):
        raise DataError(f"{spec.paths[0]}: no columns; the first row must name the columns")
    return frame, plan_table(frame, spec.paths[0], spec)


_PLANS: dict[tuple[Any, ...], tuple[TablePlan, tuple[str, ...]]] = {}  # by spec and file version: Train reads once


def checked_plan(spec: DataSpec, frame: Any = None) -> tuple[TablePlan, tuple[str, ...]]:
    """The plan and its problems, remembered for this version of the file (the script, the check and the loader
    ask in turn when Train is pressed; a 100 MB table takes seconds to read)."""
    st = Path(spec.paths[0]).expanduser().stat()
    key = (spec.text, st.st_mtime_ns, st.st_size)
    if key not in _PLANS:
        if frame is None:
            frame, plan = table_plan(spec)
        else:
            plan = plan_table(frame, spec.paths[0], spec)
        if len(_PLANS) >= 8:
            _PLANS.clear()
        _PLANS[key] = (plan, tuple(plan_problems(frame, plan)))
    return _PLANS[key]


# --- loading -----------------------------------------------------------------------------------------------------
def plan_problems(frame: Any, plan: TablePlan) -> list[str]:
    """What loading the table will refuse, in the loader's words: a text column among others, a stray word in a
    number column, a missing or unusable label. The survey and ``check`` show these; the loader raises the first."""
    # deferred: imports pandas; the editor describes data without it
    import pandas as pd

    from core.portable.frames import bad_number, label_codes

    problems = [
        f"{plan.path}, column {c.name!r}: holds text ({c.distinct:,} different values, words with spaces), which "
        "a table cannot use (its columns are numbers or categories); make the column ignore, or read it as text: "
        f"text:{plan.path}?column={_quote(c.name)}&label={_quote(plan.label)}"
        for c in plan.columns
        if c.kind == TEXT
    ][:1]
    problems += [f"{plan.path}, column {c.name!r}: {c.note}" for c in plan.columns if c.kind == NUMBER and c.note]
    for column in plan.columns:  # inf, 1e400, 1e300: the loader refuses them; say so before Train
        if column.kind == NUMBER and not column.note:
            values = pd.to_numeric(frame[column.name], errors="coerce").to_numpy("float64")
            problems += [bad_number(frame[column.name], values, column.name, plan.path)]
    if not any(c.kind in (NUMBER, CATEGORY) for c in plan.columns) and not any(c.kind == TEXT for c in plan.columns):
        problems.append(f"{plan.path}: no feature columns; give the table a number or category column beside the label")
    if plan.rows < 3:
        problems.append(f"{plan.path}: {plan.rows} rows; a table needs a row per sample, a handful at least")
    try:
        label_codes(frame, plan.label, plan.task, plan.path, MAX_TABLE_CLASSES)
    except ValueError as exc:
        return [problem for problem in [*problems, str(exc)] if problem]
    label = next(c for c in plan.columns if c.kind == LABEL)
    if plan.task == "classification" and plan.rows >= ID_LABEL_ROWS and label.distinct == plan.rows:
        problems.append(
            f"{plan.path}, column {plan.label!r}: every row has its own label ({plan.rows:,} different in "
            f"{plan.rows:,} rows), so no class could be learnt; is it an id? Choose another label column, or make "
            f"it a number to predict: table:{plan.path}?label={_quote(plan.label)}&number={_quote(plan.label)}"
        )
    return [problem for problem in problems if problem]


def _load(spec: DataSpec, request: LoadRequest) -> tuple:
    # deferred: imports torch and pandas; the editor describes data without them
    import torch

    from core.portable.frames import label_codes
    from core.portable.table_encoding import feature_matrix
    from core.portable.tables import split_rows

    frame = read_frame(spec.paths[0])
    plan, problems = checked_plan(spec, frame)
    if problems:
        raise DataError(problems[0])
    rows = split_rows(plan.rows, request.val_fraction, request.test_fraction, request.seed)
    try:  # the problems above are what these would refuse: their words were said already
        x = feature_matrix(frame, plan.feature_kinds(), rows)
        y, class_names = label_codes(frame, plan.label, plan.task, plan.path, MAX_TABLE_CLASSES)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    return torch.from_numpy(x), torch.from_numpy(y), None, None, class_names


COLUMNS_COMMENT = "each feature column and its kind (a number, or a category: one-hot)"


def _script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    """The script reads the file as ``read_table`` does, with only the lines this table takes: its separator or
    Parquet, the median for gaps only when a number column has some, one kind of label."""
    # deferred: core.portable.tables imports torch, table_encoding pandas; the editor describes data without them
    from core.portable import table_encoding, tables

    plan, problems = checked_plan(spec)
    if problems:
        raise DataError(problems[0])
    path = spec.paths[0]
    constants = [
        Constant("DATA_FILE", path),
        Constant("LABEL_COLUMN", plan.label),
        Constant("COLUMNS", plan.feature_kinds(), COLUMNS_COMMENT, spread=True),
    ]
    parquet = Path(path).suffix.lower() in (".parquet", ".pq")
    sep = "," if parquet else table_separator(path)
    gaps = any(c.kind == NUMBER and c.missing for c in plan.columns)
    regression = plan.task == "regression"
    helpers = [*([tables.split_rows] if gaps else []), table_encoding.feature_matrix]
    helpers.append(table_encoding.target_values if regression else table_encoding.class_codes)
    flags = {"sep": sep != ",", "parquet": parquet, "gaps": gaps, "regression": regression}
    return ScriptLoad(helpers, "read_table.table", constants, flags, {"SEPARATOR": sep})


DESCRIBE_BYTES = 64 * 1024 * 1024  # a bigger table is not read after every edit: the check waits for Train


def _describe(spec: DataSpec) -> Any:
    path = Path(spec.paths[0]).expanduser()
    if path.stat().st_size > DESCRIBE_BYTES:
        return DataInfo(path.name, None, None, task=None)
    try:
        plan, problems = checked_plan(spec)
    except DataError as exc:  # check says what Train will refuse: an empty file, a latin-1 file, a broken quote
        return DataInfo(path.name, None, None, task=None, problems=(str(exc),))
    label = next(c for c in plan.columns if c.kind == LABEL)
    classes = label.distinct if plan.task == "classification" else None
    return DataInfo(path.name, (plan.features,), classes, task=plan.task, problems=problems)


register(
    Source(
        kind="tabular",
        names=("table",),
        group="your files",
        help="table:PATH (CSV, TSV or Parquet; ?label=COLUMN&category=A,B)",
        parse=parse_table,
        text=table_text,
        load=_load,
        script=_script,
        describe=_describe,
        ask="table",
        file_filter="Tables (*.csv *.tsv *.tab *.parquet *.pq);;All files (*)",
        rank=4,
    )
)
