"""Text as token ids, pasted verbatim into exported scripts (core/portable).

A text file holds one sample a line, ``label<TAB>text``; a folder holds one
sub-folder per class of ``.txt`` files, one sample each. The vocabulary is built
from the training split only (the most frequent tokens first), with id 0 for
padding and id 1 for a token it does not hold; every sample is cut or padded to
``max_length`` ids. The app, Try it and the exported script call these same
functions, so they tokenise identically. The app imports torch inside the two
functions that need it (the editor reads texts without it); the script has it at
the top, so those imports are the app's lines (``# [app]``), not pasted.
"""

from __future__ import annotations

import re
from pathlib import Path

PAD_TOKEN, UNKNOWN_TOKEN = "<pad>", "<unk>"  # ids 0 and 1 (spelt out in the code)
MAX_WINDOWS = 100_000  # every step-th window of a longer text


def read_utf8(path: Path) -> str:
    """A text file's text; ValueError naming the file and line when not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, row {line}: the file is not UTF-8 text (byte "
            f"{data[exc.start]:#04x}); save it as UTF-8"
        ) from None


def read_texts(path: str) -> tuple:
    """(texts, labels) of a ``label<TAB>text`` file or a folder of class folders."""
    root = Path(path)
    if root.is_dir():
        texts, labels = [], []
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            for file in sorted(folder.glob("*.txt")):
                texts.append(read_utf8(file).strip())
                labels.append(folder.name)
        if not texts:
            raise ValueError(
                f"{root}: no .txt files in class sub-folders; put each class's "
                "texts in a sub-folder named after the class"
            )
        return texts, labels
    if not root.is_file():
        raise ValueError(f"{root}: no such file or folder")
    texts, labels = [], []
    for number, line in enumerate(read_utf8(root).splitlines(), start=1):
        if not line.strip():
            continue
        label, tab, text = line.partition("\t")
        if not tab or not label.strip():
            raise ValueError(
                f"{root}, row {number}: no label and tab before the text; write "
                "each sample as LABEL<TAB>TEXT on a line of its own"
            )
        texts.append(text.strip())
        labels.append(label.strip())
    if len(texts) > 1 and is_header(labels[0], texts[0], labels):
        del texts[0], labels[0]
    if not texts:
        raise ValueError(f"{root}: the file is empty; write LABEL<TAB>TEXT lines")
    return texts, labels


def is_header(label: str, text: str, labels: list) -> bool:
    """Whether a file's first line names its columns (``label<TAB>text``) and is
    skipped: its label is on no other line, its text is one word, and one of
    the two is a usual column name. Read as a sample it was a class of its own."""
    names = {"label", "labels", "class", "category", "sentiment", "target", "y"}
    names |= {"tag", "polarity", "intent", "topic", "text", "texts", "sentence"}
    names |= {"review", "document", "message", "comment", "content", "body", "x"}
    names |= {"tweet", "utterance", "title", "sample", "review_text", "sms"}
    return (
        labels.count(label) == 1
        and len(text.split()) == 1
        and (label.lower() in names or text.lower() in names)
    )


def tokens_of(text: str, tokenizer: str) -> list:
    """Words (lower case, punctuation marks apart) or characters."""
    if tokenizer == "char":
        return list(text)
    return re.findall(r"\w+|[^\w\s]", text.lower())


def build_vocab(texts: list, tokenizer: str, max_size: int) -> list:
    """Padding, unknown, then the most frequent tokens (ties in sorted order)."""
    counts: dict = {}
    for text in texts:
        for token in tokens_of(text, tokenizer):
            counts[token] = counts.get(token, 0) + 1
    ranked = sorted(counts, key=lambda token: (-counts[token], token))
    return ["<pad>", "<unk>", *ranked[: max(max_size - 2, 0)]]


def encode(text: str, index: dict, tokenizer: str, max_length: int) -> list:
    """Token ids of one text (``index``: token -> id): unknown tokens 1, cut or
    padded with 0 to max_length."""
    ids = [index.get(token, 1) for token in tokens_of(text, tokenizer)][:max_length]
    return ids + [0] * (max_length - len(ids))


def class_names(labels: list) -> list:
    """The classes of the labels in their order: whole numbers by value (2 before
    10, as a table's number labels), any other text alphabetically."""
    names = set(labels)
    if all(re.fullmatch(r"-?[0-9]+", name) for name in names):
        return sorted(names, key=lambda name: (int(name), name))
    return sorted(names)


def text_tensors(texts, labels, tokenizer, max_length, max_vocab, train_rows) -> tuple:
    """(x, y, None, None, class_names, vocab): each text as ``max_length`` token
    ids of a vocabulary of at most ``max_vocab`` tokens, built from the texts of
    ``train_rows``: those prepare() trains on (``split_rows``), so no validation or
    test word gets an id of its own."""
    import torch  # [app]

    vocab = build_vocab([texts[i] for i in train_rows], tokenizer, max_vocab)
    index = {token: k for k, token in enumerate(vocab)}
    x = torch.tensor([encode(text, index, tokenizer, max_length) for text in texts])
    names = class_names(labels)
    number = {name: k for k, name in enumerate(names)}
    y = torch.tensor([number[label] for label in labels], dtype=torch.int64)
    return x.reshape(len(texts), max_length), y, None, None, names, vocab


def next_char_tensors(path: str, length: int, val_fraction, test_fraction) -> tuple:
    """(x_train, y_train, x_val, y_val, x_test, y_test, vocab): windows of
    ``length`` characters, each labelled with the character after it, cut from
    three parts of the text: its last test_fraction is the test text, the
    val_fraction before it the validation text, the rest the training text (as
    char-rnn does). Windows overlap by all but one character, so splitting the
    windows at random (prepare's way, which can be given a test split but
    not a validation one) put every held-out character in the training windows
    beside it; cut from parts of their own, the held-out windows are text the
    network never read, and no prepare is needed: token ids get no
    normalisation and the training loop draws its own order. The vocabulary
    (the classes too) is every character of the file, so a character only the
    held-out text has still has an output (never learnt: a miss)."""
    import torch  # [app]

    text = read_utf8(Path(path))
    vocab = ["<pad>", "<unk>", *sorted(set(text))]
    index = {char: k for k, char in enumerate(vocab)}
    ids = torch.tensor([index[char] for char in text], dtype=torch.int64)
    test_start = len(ids) - round(len(ids) * test_fraction)
    val_start = test_start - round(len(ids) * val_fraction)
    sizes = (val_start, test_start - val_start, len(ids) - test_start)
    if sizes[0] <= length or any(0 < size <= length for size in sizes):
        raise ValueError(
            f"{path}: {len(ids)} characters, {sizes[0]} for training, {sizes[1]} for "
            f"validation and {sizes[2]} for test; each part needs more than the "
            f"window of {length}: use a longer text or a shorter window"
        )
    windows = len(ids) - length
    step = max(1, -(-windows // MAX_WINDOWS))  # rounded up: MAX_WINDOWS at most
    splits = []
    for part in (ids[:val_start], ids[val_start:test_start], ids[test_start:]):
        starts = torch.arange(0, max(len(part) - length, 0), step)
        splits += [part[starts[:, None] + torch.arange(length)], part[starts + length]]
    return *splits, vocab
