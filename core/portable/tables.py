"""CSV tables, pasted verbatim into exported scripts (see core/portable/__init__.py).

``load_csv`` returns ``(x, y, None, None, class_names)`` like the loaders in
``sources``; a bad file raises ValueError naming the file, row and column.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import torch

from core.portable.sources import MAX_CLASSES, check_file, class_count, labels_to_tensor


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


def load_csv(path: str, label_column: str, tokens: bool = False) -> tuple:
    """A CSV table with a header row: numeric feature columns and one label column.
    With tokens the features are int64 token ids, else float32 numbers."""
    rows = read_csv_rows(path)
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    header = [name.strip() for name in rows[0]]
    twice = [k for k, name in enumerate(header) if name in header[:k]]
    if twice:
        name = header[twice[0]]
        raise ValueError(
            f"{path}: the header names the column {name!r} twice (columns "
            f"{header.index(name) + 1} and {twice[0] + 1}); give every column its "
            "own name"
        )
    if label_column not in header:
        raise ValueError(
            f"{path}: there is no column named {label_column!r}; "
            f"the columns are {', '.join(header)}"
        )
    features, labels, numbers = csv_samples(path, rows, header, label_column, tokens)
    dtype = torch.int64 if tokens else torch.float32
    x = torch.tensor(features, dtype=dtype).reshape(len(labels), -1)
    y, class_names = csv_labels(path, labels, numbers, label_column)
    return x, y, None, None, class_names


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


def csv_labels(path: str, labels: list, numbers: list, label_column: str) -> tuple:
    """The label column as targets and class names: class numbers 0, 1, ...;
    decimals to predict (regression); or words, numbered in sorted order."""
    check_label_kinds(labels, numbers, path, label_column)
    if all(label.lstrip("-").isdigit() for label in labels):
        values = [int(label) for label in labels]
        low = min(range(len(values)), key=values.__getitem__)
        if values[low] < 0:
            raise ValueError(
                f"{path}, row {numbers[low]}, column {label_column!r}: label "
                f"{values[low]} is negative; number the classes 0, 1, 2, ... (for "
                f"numbers to predict, write them as decimals: {values[low]}.0)"
            )
        big = max(range(len(values)), key=values.__getitem__)
        if values[big] >= MAX_CLASSES:
            raise ValueError(
                f"{path}, row {numbers[big]}, column {label_column!r}: label "
                f"{values[big]} is too large: at most {MAX_CLASSES} classes, numbered "
                f"0 to {MAX_CLASSES - 1}, can be trained; number the classes 0, 1, "
                "2, ... (for numbers to predict, write them as decimals: "
                f"{values[big]}.0)"
            )
        y = labels_to_tensor(np.array(values), path)
        return y, [str(k) for k in range(class_count(y))]
    if is_number(labels[0]):
        targets = [float(label) for label in labels]
        odd = [i for i, value in enumerate(targets) if not math.isfinite(value)]
        if odd:
            raise ValueError(
                f"{path}, row {numbers[odd[0]]}, column {label_column!r}: "
                f"{labels[odd[0]]!r} is not a finite number; fill in or remove it"
            )
        return torch.tensor(targets, dtype=torch.float32), []
    names = sorted(set(labels))
    if len(names) > MAX_CLASSES:
        raise ValueError(
            f"{path}, column {label_column!r}: {len(names)} different labels; at "
            f"most {MAX_CLASSES} classes can be trained"
        )
    index = {name: k for k, name in enumerate(names)}
    y = torch.tensor([index[label] for label in labels], dtype=torch.int64)
    return y, names
