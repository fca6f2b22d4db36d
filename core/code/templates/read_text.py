"""How the generated script reads text: labelled texts made into token ids with the
vocabulary of the training rows, or one long text whose next character is the class.
``core.code.script_data`` pastes a body into ``load_data``, its ``raw`` going to
``prepare`` and its ``tokens`` (the vocabulary) to ``load_data``'s end, ``vocab_end``
(its docstring is ``load_data``'s): the splits, then what ``vocab.json`` holds, which
``main`` saves beside the weights. The next character's body is ``load_data`` whole:
its text is split by position, not by ``prepare`` (``next_char_tensors`` says why).
``# [columns]``: the texts and labels are two columns of a table, read with the one
pandas call the app reads it with (``core.portable.frames.read_table``):
``pd.read_csv``, with the file's separator when it is not a comma (``# [sep]``), or
``pd.read_parquet`` (``# [parquet]``). The app checks the file in words first.
"""

from __future__ import annotations

import pandas as pd

from core.code.templates.script_names import (
    DATA_FILE,
    SEED,
    TEST_FRACTION,
    VAL_FRACTION,
)
from core.portable.tables import split_rows
from core.portable.text import next_char_tensors, read_texts, text_tensors
from core.portable.text_table import column_texts

# the script's constants (core.datasets.text writes them); SEPARATOR: a placeholder
TOKENIZER, MAX_LENGTH, MAX_VOCAB = "word", 50, 20000
TEXT_COLUMN, LABEL_COLUMN, SEPARATOR = "text", "label", ";"
WINDOW = 40  # characters before the one to predict


def texts() -> list:
    """Texts and their labels, as token ids of the same length."""
    texts, labels = read_texts(DATA_FILE)  # [!columns]
    frame = pd.read_csv(DATA_FILE)  # [columns !sep !parquet]
    frame = pd.read_csv(DATA_FILE, sep=SEPARATOR)  # [columns sep]
    frame = pd.read_parquet(DATA_FILE)  # [columns parquet]
    if frame[LABEL_COLUMN].isna().any():  # [columns]
        raise ValueError(f"{DATA_FILE}: an empty label; fill it in")
    texts, labels = column_texts(frame, TEXT_COLUMN, LABEL_COLUMN)  # [columns]
    rows = split_rows(len(texts), VAL_FRACTION, TEST_FRACTION, SEED)  # the vocabulary's
    *raw, tokens = text_tensors(texts, labels, TOKENIZER, MAX_LENGTH, MAX_VOCAB, rows)
    return raw


def next_char() -> list:
    """Inputs and labels of the three splits (train, validation, test), each cut from
    its own part of the text, then what vocab.json holds (as TorchCanvas writes it)."""
    *splits, tokens = next_char_tensors(DATA_FILE, WINDOW, VAL_FRACTION, TEST_FRACTION)
    vocab = {"tokenizer": "char", "max_length": WINDOW, "pad": 0, "unknown": 1}
    vocab.update(classes=tokens, tokens=tokens)  # output k and token id k: tokens[k]
    return [*splits, vocab]


def vocab_end(raw: list, tokens: list, data: dict) -> list:
    """Inputs and labels of the three splits (train, validation, test), then what
    vocab.json holds (as TorchCanvas writes it): each token's id, each output's class."""
    splits = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    vocab = {"tokenizer": TOKENIZER, "max_length": MAX_LENGTH, "pad": 0, "unknown": 1}
    vocab.update(classes=raw[4], tokens=tokens)  # output k is classes[k], token i id i
    return [*(data[name] for name in splits), vocab]
