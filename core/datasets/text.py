"""Text sources: ``text:PATH`` for a ``label<TAB>text`` file or a folder of class folders of ``.txt`` files, and a
character-level next-character set from any text file.

Spec: ``text:reviews.txt`` (words, 50 tokens, a vocabulary of up to 20,000), with options after ``?``:
``text:reviews.txt?tokenizer=char&max_length=120&max_vocab=500``; ``text:book.txt?task=next&max_length=40`` (windows
of 40 characters, each labelled with the character after it). The samples are int64 token ids for an Embedding.
The vocabulary is built from the training split (``core.portable.text``); a run keeps it as ``vocab.json`` in its
folder, and ``Vocabulary.encode`` tokenises a typed sentence for Try it the way the run and its script did.
The wizard's survey of a text source is ``core.datasets.text_survey``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from core.datasets.info import DataInfo
from core.datasets.spec import (
    Constant,
    DataSpec,
    LoadRequest,
    ScriptLoad,
    Source,
    file_path,
    question_mark_hint,
    register,
)
from core.errors import DataError
from core.portable import frames
from core.portable.frames import table_texts
from core.portable.text import encode, is_header, next_char_tensors, read_texts, read_utf8, text_tensors, tokens_of
from core.settings import TrainingSettings

if TYPE_CHECKING:
    from core.datasets.base import Dataset

TOKENIZERS = ("word", "char")
DEFAULTS = {"word": (50, 20000), "char": (200, 1000)}  # (max_length, max_vocab)
NEXT_LENGTH = 40
SAFE = " ()[]-_./+:'"  # what stays readable in a column name of the spec
DESCRIBE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Vocabulary:
    """What a run tokenised with: ``tokens[i]`` is id i (0 padding, 1 unknown); ``classes[k]``: what output k of
    its network means (None for a run saved before it was kept: ``run_classes``)."""

    tokenizer: str
    max_length: int
    tokens: tuple[str, ...]
    classes: tuple[str, ...] | None = None

    def encode(self, text: str) -> list[int]:
        """Token ids of a typed sentence, cut or padded to ``max_length``: what Try it gives the network."""
        return encode(text, {t: k for k, t in enumerate(self.tokens)}, self.tokenizer, self.max_length)  # type: ignore[no-any-return]

    def to_json(self) -> str:
        data = {"tokenizer": self.tokenizer, "max_length": self.max_length, "pad": 0, "unknown": 1}
        classes = {} if self.classes is None else {"classes": list(self.classes)}
        return json.dumps({**data, **classes, "tokens": list(self.tokens)}, ensure_ascii=False, indent=1) + "\n"

    def run_classes(self, class_names: list[str]) -> list[str]:
        """The class names in the order of the run's outputs, for the names the data has now: an older run's
        whole-number labels were in text order ("10" before "2"), any other labels in the order they have now."""
        if self.classes is not None:
            return list(self.classes)
        numbers = all(re.fullmatch(r"-?[0-9]+", name) for name in class_names)
        return sorted(class_names) if numbers else list(class_names)


def read_vocab(run_dir: str | Path) -> Vocabulary | None:
    """The vocabulary a run saved (``vocab.json``), or None when the run has none or it cannot be read."""
    try:
        data = json.loads((Path(run_dir) / "vocab.json").read_text(encoding="utf-8"))
        classes = tuple(str(c) for c in data["classes"]) if "classes" in data else None
        tokens = tuple(str(t) for t in data["tokens"])
        return Vocabulary(str(data["tokenizer"]), int(data["max_length"]), tokens, classes)
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- the spec ----------------------------------------------------------------------------------------------------
def _parse(key: str, rest: str, text: str) -> DataSpec:
    body = file_path(key, rest, text)
    path, _, query = body.rpartition("?") if "?" in body else (body, "", "")
    given: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        name, eq, value = item.partition("=")
        if not eq or name not in ("tokenizer", "max_length", "max_vocab", "task", "column", "label"):
            raise DataError(
                f"{text!r}: options after '?' are tokenizer=word|char, max_length=N, max_vocab=N, task=next, and "
                f"for a table column=TEXT&label=LABEL (joined by '&'), not {item!r}" + question_mark_hint(item, text)
            )
        if name in given:
            raise DataError(f"{text!r}: {name}= is given twice ({given[name]!r} and {unquote(value)!r}); give it once")
        given[name] = unquote(value)
    nxt = given.get("task", "classify")
    tokenizer = given.get("tokenizer", "char" if nxt == "next" else "word")
    if nxt not in ("classify", "next") or tokenizer not in TOKENIZERS or (nxt == "next" and tokenizer != "char"):
        raise DataError(f"{text!r}: tokenizer is word or char, task is next (characters only)")
    length, size = DEFAULTS[tokenizer]
    options = {"chars": float(tokenizer == "char"), "next": float(nxt == "next")}
    for name, default in (("max_length", NEXT_LENGTH if nxt == "next" else length), ("max_vocab", size)):
        value = given.get(name, str(default))
        if not value.isdigit() or not 1 <= int(value) <= 100_000:
            raise DataError(f"{text!r}: {name} must be a whole number from 1 to 100000, not {value!r}")
        options[name] = float(value)
    if ("column" in given) != ("label" in given) or ("column" in given and nxt == "next"):
        raise DataError(f"{text!r}: a table's text needs both column=TEXT and label=LABEL (not with task=next)")
    columns = (("text", given["column"]), ("label", given["label"])) if "column" in given else ()
    return DataSpec("text", "text", (path,), options=options, column_kinds=columns)


def tokenizer_of(spec: DataSpec) -> str:
    """``word`` or ``char``: the spec keeps the choice as the ``chars`` option."""
    return "char" if spec.options.get("chars") else "word"


def _text(spec: DataSpec) -> str:
    tokenizer, nxt = tokenizer_of(spec), bool(spec.options.get("next"))
    length, size = DEFAULTS[tokenizer]
    parts = ["task=next"] if nxt else []
    if tokenizer == "char" and not nxt:
        parts.append("tokenizer=char")
    if int(spec.options["max_length"]) != (NEXT_LENGTH if nxt else length):
        parts.append(f"max_length={int(spec.options['max_length'])}")
    if int(spec.options["max_vocab"]) != size:
        parts.append(f"max_vocab={int(spec.options['max_vocab'])}")
    columns = dict(spec.column_kinds)
    if columns:
        parts += [f"column={quote(columns['text'], safe=SAFE)}", f"label={quote(columns['label'], safe=SAFE)}"]
    path = spec.paths[0]
    return f"text:{path}?{'&'.join(parts)}" if parts or "?" in path else f"text:{path}"


def _options(spec: DataSpec) -> dict[str, Any]:
    o = spec.options
    return {"tokenizer": tokenizer_of(spec), "max_length": int(o["max_length"]), "max_vocab": int(o["max_vocab"])}


# --- loading -----------------------------------------------------------------------------------------------------
def texts_and_labels(spec: DataSpec) -> tuple[list[str], list[str]]:
    """Every sample's text and label, read as the loader reads them (the survey counts the same samples)."""
    path, columns = str(Path(spec.paths[0]).expanduser()), dict(spec.column_kinds)
    try:
        if columns:
            return table_texts(path, columns["text"], columns["label"])  # type: ignore[no-any-return]
        return read_texts(path)  # type: ignore[no-any-return]
    except (ValueError, OSError) as exc:
        raise DataError(str(exc)) from None


def _where(spec: DataSpec, index: int) -> str:
    """Where sample ``index`` of ``texts_and_labels`` is in the user's files: a class folder's file, a file's line or a
    table's row (its header is row 1), in ``read_texts``' and ``table_texts``' order."""
    path = Path(spec.paths[0]).expanduser()
    if spec.column_kinds:
        return f"row {index + 2}"
    if path.is_dir():
        files = [f for folder in sorted(p for p in path.iterdir() if p.is_dir()) for f in sorted(folder.glob("*.txt"))]
        return str(files[index]) if index < len(files) else f"sample {index + 1}"
    lines = [n for n, line in enumerate(read_utf8(path).splitlines(), start=1) if line.strip()]
    lines = lines[1:] if header_line(spec) else lines
    return f"line {lines[index]}" if index < len(lines) else f"sample {index + 1}"


def header_line(spec: DataSpec) -> str | None:
    """The first line of a ``label<TAB>text`` file when ``read_texts`` skips it as the columns' names
    (``core.portable.text.is_header``); None for a sample, a folder or a table."""
    path = Path(spec.paths[0]).expanduser()
    if spec.column_kinds or spec.options.get("next") or not path.is_file():
        return None
    lines = [line.partition("\t") for line in read_utf8(path).splitlines() if line.strip()]
    labels = [label.strip() for label, _, _ in lines]
    if len(lines) > 1 and is_header(labels[0], lines[0][2].strip(), labels):
        return f"{labels[0]}<TAB>{lines[0][2].strip()}"
    return None


def empty_samples(spec: DataSpec, texts: list[str]) -> tuple[str | None, str | None]:
    """(problem, note) about samples without a single token: all of them empty is refused (the network would
    learn the class counts: 40 empty lines trained to "test accuracy 0.5" in silence); some empty is said with
    where the first few are."""
    empty = [k for k, text in enumerate(texts) if not tokens_of(text, tokenizer_of(spec))]
    if not empty:
        return None, None
    if len(empty) == len(texts):
        return f"{spec.paths[0]}: every sample is empty (no text after the label); write the texts to classify", None
    shown = ", ".join(_where(spec, k) for k in empty[:3]) + (", ..." if len(empty) > 3 else "")
    return None, f"{len(empty):,} of {len(texts):,} samples are empty: {shown}."


def raw_samples(spec: DataSpec, request: LoadRequest) -> tuple[tuple, list[str]]:
    """The labelled samples as tensors and the vocabulary built from the training split."""
    texts, labels = texts_and_labels(spec)
    names = sorted(set(labels))
    if len(names) < 2:
        raise DataError(f"{spec.paths[0]}: only one class ({names[0]!r}); a classifier needs at least two")
    problem, _ = empty_samples(spec, texts)
    if problem:
        raise DataError(problem)
    # deferred: core.portable.tables imports torch; the editor describes data without it
    from core.portable.tables import split_rows

    rows = split_rows(len(texts), request.val_fraction, request.test_fraction, request.seed)  # prepare's training rows
    o = _options(spec)
    *raw, vocab = text_tensors(texts, labels, o["tokenizer"], o["max_length"], o["max_vocab"], rows)
    return tuple(raw), vocab


def _load(spec: DataSpec, request: LoadRequest) -> Dataset:
    """The finished Dataset, with its vocabulary (``extra["vocab"]``) and ``vocab.json`` for the run folder."""
    # deferred: core.datasets.base imports torch; the editor describes data without it
    from core.datasets.base import finish

    if spec.options.get("next"):
        return _next_char(spec, request)
    raw, tokens = raw_samples(spec, request)
    if spec.keep_classes or spec.per_class:  # after the split and the vocabulary, as the exported script does
        # here, not above: the core.datasets package imports this module (cycle)
        from core.datasets import keep_subset

        raw = keep_subset(raw, spec, request.seed)
    data = finish(
        raw,
        spec,
        f"Text {Path(spec.paths[0]).name}",
        seed=request.seed,
        val_fraction=request.val_fraction,
        test_fraction=request.test_fraction,
        normalize=request.normalize,
        input_shape=request.input_shape,
    )
    vocab = Vocabulary(tokenizer_of(spec), int(spec.options["max_length"]), tuple(tokens), tuple(data.class_names))
    data.vocab_size = len(tokens)
    data.extra["vocab"] = vocab
    data.extra["run_files"] = {"vocab.json": vocab.to_json()}
    return data


def next_char_splits(spec: DataSpec, request: LoadRequest) -> tuple[tuple, list[str]]:
    """The six splits of a next-character text, each cut from its own part of the text, and its characters."""
    no_subset(spec)
    length = int(spec.options["max_length"])
    fractions = (request.val_fraction, request.test_fraction)
    try:
        *splits, vocab = next_char_tensors(str(Path(spec.paths[0]).expanduser()), length, *fractions)
    except (ValueError, OSError) as exc:
        raise DataError(str(exc)) from None
    return tuple(splits), vocab


def no_subset(spec: DataSpec) -> None:
    """A next-character text keeps every window: its samples are places in one text, not samples of classes."""
    if spec.keep_classes or spec.per_class:
        raise DataError(
            f"{spec.text}: classes= and per_class= keep samples of some classes; a next-character text is split "
            "by where its characters are, every character a class: leave them out"
        )


def _next_char(spec: DataSpec, request: LoadRequest) -> Dataset:
    """A next-character text's Dataset, split by position (``next_char_tensors`` says why) without ``prepare``,
    which would split its windows at random; its classes are its characters, for Try it to continue a text."""
    from core.datasets.base import Dataset  # deferred: core.datasets.base imports torch; describing text needs none

    (x_train, y_train, x_val, y_val, x_test, y_test), tokens = next_char_splits(spec, request)
    length = int(spec.options["max_length"])
    if request.input_shape is not None and tuple(request.input_shape) != (length,):
        raise DataError(
            f"The windows of {spec.paths[0]} are {length} characters but the Input node expects "
            f"{list(request.input_shape)}; set the Input shape to [{length}]"
        )
    vocab = Vocabulary("char", length, tuple(tokens), tuple(tokens))
    return Dataset(
        name=f"Text {Path(spec.paths[0]).name}",
        spec=spec,
        input_shape=(length,),
        num_classes=len(tokens),
        class_names=list(tokens),
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        sample_shape=(length,),
        input_dtype="int64",
        vocab_size=len(tokens),
        extra={"vocab": vocab, "run_files": {"vocab.json": vocab.to_json()}},
    )


def _script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # here, not above: at the top the module would be shadowed by the `text` arguments of this module;
    # tables imports torch, text_table pandas: the editor describes data without them
    from core.portable import tables, text, text_table

    constants = [Constant("DATA_FILE", spec.paths[0])]
    if spec.options.get("next"):
        no_subset(spec)
        constants.append(Constant("WINDOW", int(spec.options["max_length"]), "characters before the one to predict"))
        # its load_data gives the splits by position, without prepare (next_char_splits)
        return ScriptLoad([text.read_utf8, text.next_char_tensors], "read_text.next_char", constants, {"splits": True})
    o = _options(spec)
    constants.append(Constant("TOKENIZER", o["tokenizer"], "word (punctuation marks apart) or char"))
    constants.append(Constant("MAX_LENGTH", o["max_length"], "token ids a text: longer cut, shorter padded with 0"))
    constants.append(Constant("MAX_VOCAB", o["max_vocab"], "the most frequent tokens get ids, the others 1"))
    helpers = [text.read_utf8, text.read_texts, text.is_header, text.tokens_of, text.build_vocab, text.encode]
    helpers += [text.class_names, tables.split_rows, text.text_tensors]
    columns = dict(spec.column_kinds)
    if not columns:
        return ScriptLoad(helpers, "read_text.texts", constants, {"columns": False, "sep": False, "parquet": False})
    # a table: read with the one pandas call read_table makes for this file, its checks the app's (texts_and_labels)
    path = spec.paths[0]
    parquet = Path(path).suffix.lower() in (".parquet", ".pq")
    sep = "," if parquet else frames.table_separator(path)
    constants.append(Constant("TEXT_COLUMN", columns["text"]))
    constants.append(Constant("LABEL_COLUMN", columns["label"]))
    helpers = [text_table.column_texts, *helpers[3:]]
    flags = {"columns": True, "sep": sep != ",", "parquet": parquet}
    return ScriptLoad(helpers, "read_text.texts", constants, flags, {"SEPARATOR": sep})


def _describe(spec: DataSpec) -> Any:
    """Shape and classes; the vocabulary size as an upper bound (every token of the file, up to max_vocab)."""
    path = Path(spec.paths[0]).expanduser()
    length = int(spec.options["max_length"])
    files = [path] if path.is_file() else [f for sub in path.iterdir() if sub.is_dir() for f in sub.iterdir()]
    if sum(f.stat().st_size for f in files) > DESCRIBE_BYTES:
        return DataInfo(path.name, (length,), None, task=None, dtypes=("int64",))
    if spec.options.get("next"):
        chars = len(set(read_utf8(path))) + 2
        return DataInfo(path.name, (length,), chars, dtypes=("int64",), vocab_size=chars)
    try:
        texts, labels = texts_and_labels(spec)
    except DataError as exc:  # check says what Train will refuse: a line without its tab, a binary file
        return DataInfo(path.name, None, None, task=None, dtypes=("int64",), problems=(str(exc),))
    names = sorted(set(labels))
    if len(names) == 1:
        only = f"{spec.paths[0]}: only one class ({names[0]!r}); a classifier needs at least two"
        return DataInfo(path.name, None, None, task=None, dtypes=("int64",), problems=(only,))
    problem, _ = empty_samples(spec, texts)
    if problem:
        return DataInfo(path.name, None, None, task=None, dtypes=("int64",), problems=(problem,))
    tokens = [tokens_of(text, tokenizer_of(spec)) for text in texts]
    vocab = min(len({token for sample in tokens for token in sample}) + 2, int(spec.options["max_vocab"]))
    lengths = sorted(len(sample) for sample in tokens)
    spread = (percentile_95(lengths), lengths[-1])
    return DataInfo(path.name, (length,), len(set(labels)), dtypes=("int64",), vocab_size=vocab, lengths=spread)


def percentile_95(lengths: list[int]) -> int:
    """The length 95 % of the (sorted) samples fit in: the max_length that pads least while cutting few."""
    return max(lengths[math.ceil(0.95 * len(lengths)) - 1], 1)


def with_max_length(spec: DataSpec, length: int) -> str:
    """The spec text with ``max_length`` set: what the advice asks the user to write."""
    return replace(spec, options={**spec.options, "max_length": float(length)}).text


register(
    Source(
        kind="text",
        names=("text",),
        group="your files",
        help="text:PATH (LABEL<TAB>TEXT lines, or a folder of class folders of .txt; ?tokenizer=char, ?task=next)",
        parse=_parse,
        text=_text,
        load=_load,
        script=_script,
        describe=_describe,
        ask="text",
        file_filter="Text (*.txt *.tsv);;All files (*)",
        tokens="always",
        subsets_itself=True,
        rank=5,
    )
)
