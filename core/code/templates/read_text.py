"""How the generated script reads text: labelled texts made into token ids with the
vocabulary of the training rows, or one long text whose next character is the class.
``core.code.script_data`` pastes a body into ``load_data``, its ``return`` giving
``raw`` (the vocabulary, a sixth item, stays behind). ``# [columns]``: the texts and
labels are two columns of a table.
"""

from __future__ import annotations

from core.code.templates.script_names import (
    DATA_FILE,
    SEED,
    TEST_FRACTION,
    VAL_FRACTION,
)
from core.portable.frames import table_texts
from core.portable.text import next_char_tensors, read_texts, text_tensors

# the script's constants (core.datasets.text writes them)
TOKENIZER, MAX_LENGTH, MAX_VOCAB = "word", 50, 20000
TEXT_COLUMN, LABEL_COLUMN = "text", "label"
WINDOW = 40  # characters before the one to predict


def texts() -> tuple:
    """Texts and their labels, as token ids of the same length."""
    texts, labels = read_texts(DATA_FILE)  # [!columns]
    texts, labels = table_texts(DATA_FILE, TEXT_COLUMN, LABEL_COLUMN)  # [columns]
    split = (VAL_FRACTION, TEST_FRACTION, SEED)  # the vocabulary of the training rows
    return text_tensors(texts, labels, TOKENIZER, MAX_LENGTH, MAX_VOCAB, split)[:5]


def next_char() -> tuple:
    """Every WINDOW characters of the text, the class the character after them."""
    return next_char_tensors(DATA_FILE, WINDOW)[:5]  # [5]: the vocabulary
