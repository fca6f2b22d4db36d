"""How the generated script reads a table (CSV, TSV or Parquet) with pandas: the
feature columns of ``COLUMNS`` (numbers standardised, categories one-hot) and the label
column. ``core.code.script_data`` pastes the body into ``load_data``, its ``return``
giving ``raw``.
"""

from __future__ import annotations

from core.code.templates.script_names import (
    DATA_FILE,
    SEED,
    TEST_FRACTION,
    VAL_FRACTION,
)
from core.portable.tables import load_table

# the script's constants (core.datasets.tabular writes them)
LABEL_COLUMN, TASK = "label", "classification"
COLUMNS = {"size": "number", "colour": "category"}


def table() -> tuple:
    """The table's samples and labels; the medians that fill gaps and the mean and
    spread of each number come from the training rows only."""
    split = (VAL_FRACTION, TEST_FRACTION, SEED)  # medians from the training rows
    return load_table(DATA_FILE, LABEL_COLUMN, COLUMNS, TASK, split)
