"""Tables without torch: the CSV rows of ``csv:PATH:LABEL``, pasted verbatim into its
exported script (core/portable), and the app's reading and checks of a pandas table
(``table:PATH``: CSV, TSV, Parquet): ``read_table``, ``bad_number``, ``label_codes``
and ``table_texts``, each problem in words. The script exported for ``table:PATH``
reads the file with the same pandas call and encodes it with
``core.portable.table_encoding``; a text table's takes its texts with
``core.portable.text_table``. The editor describes a table after an edit without
importing torch.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from core.portable.checks import check_file


def read_table(path: str):
    """A CSV, TSV or Parquet file as a pandas DataFrame, read as the exported script
    reads it (``pd.read_csv`` with the file's separator, or ``pd.read_parquet``), so
    both have the same numbers; ValueError naming the file and the row when it is
    not one table: not UTF-8, a column named twice, a row with more or fewer values
    than the header."""
    import io

    check_file(path)
    try:
        import pandas as pd  # here: optional, and slow to import; only tables need it
    except ImportError:
        raise ValueError(
            f"{path}: tables are read with pandas, which is not installed; "
            "run: pip install pandas pyarrow"
        ) from None
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError:
            raise ValueError(
                f"{path}: Parquet files are read with pyarrow, which is not "
                "installed; run: pip install pyarrow"
            ) from None
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise ValueError(f"{path}: cannot read it as Parquet ({exc})") from None
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, row {line}: the file is not UTF-8 text (byte "
            f"{data[exc.start]:#04x}); save it as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from None
    sep = delimiter(path, text)
    header = next(
        csv.reader(io.StringIO(text[: text.find("\n") + 1 or None]), delimiter=sep), []
    )
    twice = [name for k, name in enumerate(header) if name in header[:k]]
    if not header or not any(name.strip() for name in header):
        raise ValueError(
            f"{path}: the file is empty; the first row must name the columns"
        )
    if twice:
        raise ValueError(
            f"{path}: the header names the column {twice[0]!r} twice; give every "
            "column its own name"
        )
    ragged = ragged_row(path, text, sep, len(header))  # pandas fills a short row in
    if ragged:
        raise ValueError(ragged)
    try:
        return pd.read_csv(io.BytesIO(data), sep=sep)
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(f"{path}: not a table pandas can read ({first})") from None


def delimiter(path: str, text: str) -> str:
    """The file's separator: a tab in a .tsv or .tab file; in a CSV "," unless the
    header holds no comma but a ";", a tab or a "|" (European Excel writes ";"),
    the one csv.Sniffer finds in the first lines."""
    if Path(path).suffix.lower() in (".tsv", ".tab"):
        return "\t"
    head = "\n".join(text.splitlines()[:20])
    first = head.split("\n", 1)[0]
    if "," in first or not any(mark in first for mark in ";\t|"):
        return ","
    try:
        return csv.Sniffer().sniff(head, delimiters=";\t|").delimiter
    except csv.Error:
        return ","


def table_separator(path: str) -> str:
    """The separator ``read_table`` gives ``pd.read_csv`` for this file, from its first
    20 lines: what an exported script is written with (it does not sniff)."""
    with Path(path).expanduser().open(encoding="utf-8-sig", errors="replace") as file:
        return delimiter(path, "".join(line for _, line in zip(range(20), file)))


def ragged_row(path: str, text: str, sep: str, columns: int) -> str:
    """The first row with more or fewer values than the header, in words, or ""
    (pandas would fill a short row with missing values without a word). Counted
    fast on lines without quotes; a line with quotes is read by the csv module."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        count = line.count(sep) + 1
        if '"' in line or count != columns:
            count = len(next(csv.reader([line], delimiter=sep), []))
            if '"' in line and line.count('"') % 2:
                return ""  # a quoted cell over several lines: pandas reads it
        if count != columns:
            return (
                f"{path}, row {number}: {count} values but the header has "
                f"{columns} columns; give every row the same columns"
            )
    return ""


def bad_number(column, values, name: str, path: str) -> str:
    """The first cell of a number column the network cannot take, in words, or
    "": a word, inf, or a value beyond float32 (the loss would turn NaN and the
    learning rate be blamed)."""
    top32 = float(np.finfo(np.float32).max)
    with np.errstate(invalid="ignore"):
        bad = np.isnan(values) & column.notna().to_numpy() | np.isinf(values)
        huge = np.abs(np.where(bad, 0.0, np.nan_to_num(values))) > top32
    if bad.any():
        row = int(bad.nonzero()[0][0])
        cell = column.iloc[row]
        shown = repr(cell) if isinstance(cell, str) else f"{float(cell):g}"
        return (
            f"{path}, row {row + 2}, column {name!r}: {shown} is not a number; "
            "fix the cell, leave it empty (a missing value), or make the column "
            "a category"
        )
    if huge.any():
        row = int(huge.nonzero()[0][0])
        top = float(np.nanmax(np.abs(values)))
        scale = 10.0 ** np.floor(np.log10(top))
        return (
            f"{path}, row {row + 2}, column {name!r}: {values[row]:g} does not fit "
            f"in a 32-bit float (at most {top32:.1e}; the column reaches "
            f"{top:.0e}); rescale the column, e.g. divide it by {scale:.0e}"
        )
    return ""


def label_codes(frame, label: str, task: str, path: str, max_classes: int = 1000):
    """The label column as class numbers and names (its values sorted) or as
    numbers to predict; ValueError naming the row of a missing or bad label."""
    # here: pandas (table_encoding imports it) is slow to import; only tables need it
    import pandas as pd

    from core.portable.table_encoding import class_codes, target_values

    column = frame[label]
    missing = column.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"{path}, row {int(missing.nonzero()[0][0]) + 2}, column {label!r}: "
            f"the label is missing ({int(missing.sum()):,} of {len(column):,} rows); "
            "fill it in or delete the row"
        )
    if task == "regression":
        values = pd.to_numeric(column, errors="coerce").to_numpy("float64")
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(bad.nonzero()[0][0])
            raise ValueError(
                f"{path}, row {row + 2}, column {label!r}: {column.iloc[row]!r} is "
                "not a number to predict; fix it, or predict classes instead"
            )
        return target_values(column), []
    codes, names = class_codes(column)
    if len(names) > max_classes:
        raise ValueError(
            f"{path}, column {label!r}: {len(names):,} different labels in "
            f"{len(column):,} rows, more than the {max_classes:,} classes a "
            "label column may have; that looks like names or numbers, not "
            "classes: choose another label column, or predict it as a number"
        )
    if len(names) == 1:
        raise ValueError(
            f"{path}, column {label!r}: only one class ({names[0]!r}); a "
            "classifier needs at least two"
        )
    return codes, names


def read_csv_rows(path: str) -> list:
    """The rows of a UTF-8 CSV file; another encoding or a binary file is an error
    naming the file and the line."""
    check_file(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.reader(handle))
    except UnicodeDecodeError:
        data = Path(path).read_bytes()
        try:
            data.decode("utf-8")
            line, byte = 0, 0
        except UnicodeDecodeError as exc:
            line, byte = data[: exc.start].count(b"\n") + 1, data[exc.start]
        raise ValueError(
            f"{path}, row {line}: the file is not UTF-8 text (byte {byte:#04x}); save "
            "it as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a CSV table of text ({exc})") from None


def check_label_kinds(labels: list, numbers: list, path: str, column: str) -> None:
    """Labels are all numbers or all class names: a mix is a slip in one row."""
    kinds = [is_number(label) for label in labels]
    if not all(kinds) and any(kinds):
        at, number = kinds.index(False), kinds.index(True)
        raise ValueError(
            f"{path}, row {numbers[at]}, column {column!r}: {labels[at]!r} is not a "
            f"number, but other labels are (row {numbers[number]}: "
            f"{labels[number]!r}); write every label as a number, or every label "
            "as a class name"
        )


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_samples(
    path: str, rows: list, header: list, label_column: str, tokens: bool
) -> tuple:
    """The feature values, label texts and row numbers of the rows below the
    header (blank rows skipped); ValueError naming the row and column of a bad cell."""
    label_at = header.index(label_column)
    features, labels, numbers = [], [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{path}, row {number}: {len(row)} values but the header has "
                f"{len(header)} columns; give every row the same columns"
            )
        values = []
        for column, cell in enumerate(row):
            if column == label_at:
                continue
            try:
                value = int(cell) if tokens else float(cell)
            except ValueError:
                kind = "a whole number (a token id)" if tokens else "a number"
                raise ValueError(
                    f"{path}, row {number}, column {header[column]!r}: {cell!r} is "
                    f"not {kind}; feature columns must hold numbers only (remove "
                    "or encode that column)"
                ) from None
            if not (0 <= value < 2**62 if tokens else math.isfinite(value)):
                raise ValueError(
                    f"{path}, row {number}, column {header[column]!r}: {cell!r} "
                    + (
                        "is not a token id 0, 1, 2, ..."
                        if tokens
                        else "is not a finite number; fill in or remove the "
                        "missing or infinite values"
                    )
                )
            values.append(value)
        features.append(values)
        labels.append(row[label_at].strip())
        numbers.append(number)
    if not labels:
        raise ValueError(
            f"{path}: no rows: the file has a header but no data below it; add one "
            "row per sample"
        )
    return features, labels, numbers


def table_texts(path: str, text_column: str, label_column: str) -> tuple:
    """(texts, labels) of a table's text column and label column, read and checked
    in words (a column it lacks, a missing label named by its row); the script
    exported for it reads the file with one pandas call and takes the same texts
    (``core.portable.text_table``)."""
    frame = read_table(path)
    for name in (text_column, label_column):
        if name not in frame.columns:
            raise ValueError(
                f"{path}: there is no column named {name!r}; the columns are "
                f"{', '.join(map(str, frame.columns))}"
            )
    missing = frame[label_column].isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"{path}, row {int(missing.nonzero()[0][0]) + 2}, column "
            f"{label_column!r}: the label is missing; fill it in or delete the row"
        )
    # here: text_table imports pandas at its top, which the editor does without
    from core.portable.text_table import column_texts

    return column_texts(frame, text_column, label_column)
