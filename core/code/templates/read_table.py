"""How the generated script reads a table with pandas, as the app does
(``core.portable.frames.read_table``): ``pd.read_csv``, with the file's separator
when it is not a comma (``# [sep]``), or ``pd.read_parquet`` (``# [parquet]``); then
the feature columns of ``COLUMNS`` (``core.portable.table_encoding``; ``# [gaps]``: a
number column had empty cells when the script was written, and the training rows'
median fills them) and the label column (``# [regression]``: numbers to predict, else
classes). The app checks the file in words before it trains or exports; the script
only says so when cells it was not written for are empty. ``core.code.script_data``
pastes the body into ``load_data``, its ``return`` giving ``raw``.
"""

from __future__ import annotations

import pandas as pd
import torch

from core.code.templates.script_names import (
    DATA_FILE,
    SEED,
    TEST_FRACTION,
    VAL_FRACTION,
)
from core.portable.table_encoding import class_codes, feature_matrix, target_values
from core.portable.tables import split_rows

# the script's constants (core.datasets.tabular writes them); SEPARATOR: a placeholder
LABEL_COLUMN, SEPARATOR = "label", ";"
COLUMNS = {"size": "number", "colour": "category"}


def table() -> tuple:
    """The table's samples and labels."""
    frame = pd.read_csv(DATA_FILE)  # [!sep !parquet]
    frame = pd.read_csv(DATA_FILE, sep=SEPARATOR)  # [sep]
    frame = pd.read_parquet(DATA_FILE)  # [parquet]
    numbers = [name for name, kind in COLUMNS.items() if kind == "number"]  # [!gaps]
    if frame[[*numbers, LABEL_COLUMN]].isna().to_numpy().any():  # [!gaps]
        raise ValueError(f"{DATA_FILE}: an empty label or number; fill it in")
    if frame[LABEL_COLUMN].isna().any():  # [gaps]
        raise ValueError(f"{DATA_FILE}: an empty label; fill it in")
    train_rows = split_rows(len(frame), VAL_FRACTION, TEST_FRACTION, SEED)  # [gaps]
    x = feature_matrix(
        frame,
        COLUMNS,
        train_rows,  # [gaps]
    )
    y, class_names = class_codes(frame[LABEL_COLUMN])  # [!regression]
    y, class_names = target_values(frame[LABEL_COLUMN]), []  # [regression]
    return torch.from_numpy(x), torch.from_numpy(y), None, None, class_names
