"""A table's text column and label column as texts, pasted verbatim into the script
exported for ``text:PATH?column=TEXT&label=LABEL`` (see core/portable/__init__.py).

The app reads the file with ``core.portable.frames.read_table`` and says in words what
is wrong with it (``frames.table_texts``: a column it lacks, an empty label); the
script reads it with the one pandas call its format takes, decided at export
(``core/code/templates/read_text.py``). Both make the frame texts here, so they
tokenise the same strings. Imported where a table is loaded: pandas is slow to import.
"""

from __future__ import annotations

import pandas as pd


def column_texts(frame: pd.DataFrame, text_column: str, label_column: str) -> tuple:
    """(texts, labels): an empty text is "", a label its text ("3" for the number 3)."""
    texts = frame[text_column].fillna("").astype(str).tolist()
    return texts, frame[label_column].astype(str).tolist()
