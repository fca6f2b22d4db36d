"""Text as token ids, pasted verbatim into exported scripts (core/portable).

A text file holds one sample a line, ``label<TAB>text``; a folder holds one
sub-folder per class of ``.txt`` files, one sample each. The vocabulary is built
from the training split only (the most frequent tokens first), with id 0 for
padding and id 1 for a token it does not hold; every sample is cut or padded to
``max_length`` ids. The app, Try it and the exported script call these same
functions, so they tokenise identically.
"""

from __future__ import annotations

from pathlib import Path

PAD_TOKEN, UNKNOWN_TOKEN = "<pad>", "<unk>"  # ids 0 and 1 (spelt out in the code)


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
    import re

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


def text_tensors(texts: list, labels: list, options: dict, split: tuple) -> tuple:
    """(x, y, None, None, class_names, vocab): the vocabulary from the rows of
    the training split (``split``: val_fraction, test_fraction, seed, as in
    prepare()), classes named in sorted order."""
    import torch  # here, not above: reading and tokenising need no torch

    order = torch.randperm(
        len(texts), generator=torch.Generator().manual_seed(split[2])
    )
    start = round(len(texts) * split[1]) + round(len(texts) * split[0])
    train = [texts[i] for i in order[start:].tolist()]
    tokenizer, length = options["tokenizer"], options["max_length"]
    vocab = build_vocab(train, tokenizer, options["max_vocab"])
    index = {token: k for k, token in enumerate(vocab)}
    x = torch.tensor([encode(text, index, tokenizer, length) for text in texts])
    names = sorted(set(labels))
    y = torch.tensor([names.index(label) for label in labels], dtype=torch.int64)
    return x.reshape(len(texts), length), y, None, None, names, vocab


def next_char_tensors(path: str, length: int) -> tuple:
    """Windows of ``length`` characters of one text file, each labelled with the
    character after it; the vocabulary (and the classes) is every character of
    the file, so a class is a character."""
    import torch  # here, not above: reading a text needs no torch

    text = read_utf8(Path(path))
    if len(text) < length + 3:
        raise ValueError(
            f"{path}: {len(text)} characters; next-character training needs more "
            f"than the window of {length}"
        )
    vocab = ["<pad>", "<unk>", *sorted(set(text))]
    index = {char: k for k, char in enumerate(vocab)}
    ids = torch.tensor([index[char] for char in text])
    step = max(1, (len(text) - length) // 100_000)
    starts = torch.arange(0, len(text) - length, step)
    x = ids[starts[:, None] + torch.arange(length)]
    y = ids[starts + length]
    return x, y, None, None, vocab, vocab
