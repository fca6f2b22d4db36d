"""What a table's column holds, read from its values: a number, a category, text or nothing usable; which column
is the label and whether it asks for classes or a number.

These guesses are the defaults the data wizard shows and the user may override (``core.datasets.tabular`` lays
the chosen kinds out as a plan). They read pandas Series only, never the spec or the file, so the thresholds that
decide them (a slip or two in a number column, one-hot's limit, an id rising row by row) are in one place and can
be tried on a column alone.
"""

from __future__ import annotations

from typing import Any

from core.errors import DataError

NUMBER, CATEGORY, TEXT, LABEL, IGNORE = "number", "category", "text", "label", "ignore"
KINDS = (NUMBER, CATEGORY, TEXT, IGNORE)  # what a user may make a feature column
ONE_HOT_MAX = 100  # more different values than this: not detected as a category (the user may still choose it)
CLASS_GUESS_MAX = 100  # whole-number labels with at most this many values are classes; more: a number to predict
LABEL_NAMES = ("label", "labels", "target", "class", "y", "category", "sentiment", "species", "outcome")


def _first_bad_number(series: Any) -> tuple[int, int]:
    """(row index, count) of the cells of a text column that are not numbers."""
    # deferred: imports pandas; the editor describes data without it
    import pandas as pd

    bad = (pd.to_numeric(series, errors="coerce").isna() & series.notna()).to_numpy()
    count = int(bad.sum())
    return (int(bad.argmax()) if count else -1), count


def detect(series: Any, distinct: int | None = None) -> tuple[str, str]:
    """What a column's values look like, and a note when some of them do not fit. Text is numbers with a slip or
    two when at most 1 in 100 cells (and 1 in 10 of the first 1,000) are not numbers."""
    # deferred: imports pandas; the editor describes data without it
    import pandas as pd

    filled = int(series.notna().sum())
    if not filled:
        return IGNORE, "every cell is empty: not used"
    if pd.api.types.is_numeric_dtype(series):
        return NUMBER, ""
    _, early = _first_bad_number(series.dropna().head(1000))  # words: no need to parse the whole column
    row, bad = _first_bad_number(series) if early <= 100 else (-1, filled)
    if bad < filled and bad <= max(1, filled // 100):  # numbers with a slip or two
        return NUMBER, (
            f"row {row + 2} holds {series.iloc[row]!r}, not a number like the other {filled - bad:,} cells: "
            "fix the cell, leave it empty (a missing value), or make the column a category"
        )
    distinct = int(series.nunique()) if distinct is None else distinct
    sample = series.dropna().astype(str).head(1000)
    wordy = float(sample.str.count(" ").mean()) >= 2
    if wordy and distinct > filled // 2:  # sentences, most of them different: one-hot would learn each row by heart
        return TEXT, ""
    if distinct <= ONE_HOT_MAX:
        return CATEGORY, ""
    if wordy:
        return TEXT, ""
    return IGNORE, (
        f"{distinct:,} different values in {filled:,} rows: looks like a name or an identifier, not used; "
        "make it a category or text to use it"
    )


def guess_task(series: Any, chosen: str | None) -> str:
    """Classification or regression for the label column: the user's kind if chosen, else classes for text,
    yes/no and up to CLASS_GUESS_MAX whole numbers, a number to predict for the rest."""
    # deferred: imports pandas; the editor describes data without it
    import pandas as pd

    if chosen == NUMBER:
        return "regression"
    if chosen == CATEGORY or not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return "classification"
    values = series.dropna().to_numpy()
    whole = bool(len(values)) and (values.dtype.kind != "f" or bool((values == values.round()).all()))
    return "classification" if whole and int(series.nunique()) <= CLASS_GUESS_MAX else "regression"


def guess_label(columns: list[str], asked: str) -> tuple[str, str]:
    """The label column and, when it was guessed, a note saying why."""
    if asked:
        if asked not in columns:
            raise DataError(f"there is no column named {asked!r}; the columns are {', '.join(columns)}")
        return asked, ""
    for name in columns:
        if name.strip().lower() in LABEL_NAMES:
            return name, f"Label column {name!r}: guessed from its name; choose another if it is not what to predict."
    return columns[-1], f"Label column {columns[-1]!r}: the last column; choose the column to predict."


def rising_whole(series: Any) -> bool:
    """Whole numbers, each above the one before (an id or row number used as a feature: trial 4)."""
    # deferred: imports pandas; the editor describes data without it
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    return bool(values.notna().all() and (values % 1 == 0).all() and (values.diff().iloc[1:] > 0).all())
