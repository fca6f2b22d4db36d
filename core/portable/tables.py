"""CSV tables, pasted verbatim into exported scripts (see core/portable/__init__.py).

``load_csv`` returns ``(x, y, None, None, class_names)`` like the loaders in
``sources``; a bad file raises ValueError naming the file, row and column.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.portable.frames import (
    check_label_kinds,
    csv_samples,
    is_number,
    read_csv_rows,
)
from core.portable.sources import MAX_CLASSES, class_count, labels_to_tensor


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


def csv_labels(
    path: str, labels: list, numbers: list, label_column: str, max_names: int = 1000
) -> tuple:
    """The label column as targets and class names: class numbers 0, 1, ...;
    decimals to predict (regression); or words, numbered in sorted order."""
    check_label_kinds(labels, numbers, path, label_column)
    whole = labels[0].lstrip("-").isdigit()
    if len(set(labels)) == 1 and (whole or not is_number(labels[0])):
        raise ValueError(
            f"{path}, column {label_column!r}: only one class ({labels[0]!r}); a "
            "classifier needs at least two"
        )
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
    if len(names) > max_names:
        raise ValueError(
            f"{path}, column {label_column!r}: {len(names):,} different labels in "
            f"{len(labels):,} rows, more than the {max_names:,} classes a label "
            "column may have; that looks like names or numbers, not classes: "
            "choose another label column"
        )
    index = {name: k for k, name in enumerate(names)}
    y = torch.tensor([index[label] for label in labels], dtype=torch.int64)
    return y, names


def split_rows(n: int, val_fraction: float, test_fraction: float, seed: int):
    """The rows prepare() puts in the training split (its seeded order: test,
    then validation, then training), so statistics come from training rows."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    start = round(n * test_fraction) + round(n * val_fraction)
    return order[start:].numpy()
