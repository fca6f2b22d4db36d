"""A pandas table made into numbers, pasted verbatim into the script exported for a
``table:PATH`` dataset (see core/portable/__init__.py): the feature columns one-hot or
as they are, the label column as class numbers or as numbers to predict.

The app checks the table first (``core.datasets.tabular``: a word in a number column,
a missing label, a single class) and says what is wrong in words; these functions
only encode a table that passed. Imported where a table is loaded, never at start-up:
pandas takes a while to import.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def feature_matrix(
    frame,
    columns: dict,
    train_rows,  # [gaps]
):
    """The feature columns side by side: a category one-hot over its values in the
    file, sorted (an empty cell is the value "missing"), a number as it is; prepare()
    then standardises them with the mean and std of the training rows."""
    parts = []
    for name, kind in columns.items():
        column = frame[name]
        if kind == "category":
            keys = column.astype(str).where(column.notna(), "missing")
            parts.append(pd.get_dummies(keys).to_numpy())
            continue
        values = pd.to_numeric(column).to_numpy("float64")
        missing = np.isnan(values)  # [gaps]
        if missing.any():  # the training rows' median, and a 0/1 column after  # [gaps]
            known = values[train_rows][~missing[train_rows]]
            median = float(np.median(known)) if len(known) else 0.0
            parts.append(np.stack([np.where(missing, median, values), missing], 1))
            continue
        parts.append(values[:, None])
    return np.concatenate([part.astype(np.float32) for part in parts], axis=1)


def class_codes(column) -> tuple:
    """Class numbers 0, 1, ... for the labels, in their sorted order, and names."""
    numeric = pd.api.types.is_numeric_dtype(column)
    codes, levels = pd.factorize(column if numeric else column.astype(str), sort=True)
    names = [f"{value:g}" if numeric else str(value) for value in levels]
    return codes.astype(np.int64), names


def target_values(column):
    """The labels as the float32 numbers a regression predicts."""
    return pd.to_numeric(column).to_numpy("float64").astype(np.float32)
