"""The survey of a text source (``text:PATH``): its classes, how long its samples are in tokens and what the
chosen ``max_length`` cuts or pads.

The survey is what the data wizard and ``check`` show before a run; it reads the whole file and gives advice in
words (a length that pads most samples with zeros, a first line that names columns), which is a concern of its
own beside reading and encoding the text (``core.datasets.text``), whose helpers it calls so that the survey counts
exactly what the loader will read.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from core.datasets.spec import DataSpec, LoadRequest
from core.datasets.text import (
    empty_samples,
    header_line,
    next_char_splits,
    percentile_95,
    texts_and_labels,
    tokenizer_of,
    with_max_length,
)
from core.portable.text import class_names, tokens_of


def survey_text(spec: DataSpec, fractions: tuple[float, float]) -> Any:
    """The survey of a text source: classes, lengths in tokens and how many a max_length cuts."""
    # here, not above: core.datasets.survey imports this module (cycle)
    from core.datasets.survey import ClassCount, Splits, Survey, imbalance_words, split_sizes

    length = int(spec.options["max_length"])
    if spec.options.get("next"):
        splits, vocab = next_char_splits(spec, LoadRequest(val_fraction=fractions[0], test_fraction=fractions[1]))
        train, val, test = (len(x) for x in splits[0::2])  # by position: next_char_tensors
        said = (
            f"Windows of {length} characters, each followed by the character to predict; "
            f"{len(vocab) - 2} different characters.",
        )
        return Survey(
            spec.text,
            "text",
            train + val + test,
            "classification",
            (),
            "",
            Splits(train, val, test, False),
            (length,),
            notes=said,
        )
    texts, labels = texts_and_labels(spec)
    names = class_names(labels)  # the loader's order: number labels by value
    counts = Counter(labels)
    classes = tuple(ClassCount(name, counts[name]) for name in names)
    lengths = sorted(len(tokens_of(text, tokenizer_of(spec))) for text in texts)
    cut = sum(1 for n in lengths if n > length)
    unit = "characters" if tokenizer_of(spec) == "char" else "words"
    notes = [f"Samples are {lengths[0]} to {lengths[-1]} {unit} long (median {lengths[len(lengths) // 2]})."]
    if cut:
        notes.append(f"max_length={length} cuts {cut:,} of {len(texts):,} samples short.")
    fit = percentile_95(lengths)
    if fit <= length // 2:  # mostly padding: an LSTM reading the last step reads zeros (trial 4: at chance)
        notes.append(
            f"max_length={length} pads 95 % of the samples with {length - fit}+ zeros after the {unit}; a recurrent "
            f"layer that returns its last step (LSTM, GRU, RNN) then reads padding. Use {with_max_length(spec, fit)} "
            f"(95 % of the samples fit) with an Input of [{fit}]."
        )
    header = header_line(spec)
    if header:
        notes.append(f"The first line ({header!r}) names the columns: it is skipped, not read as a sample.")
    problems = (
        [f"{spec.paths[0]}: only one class ({names[0]!r}); a classifier needs at least two"] if len(names) < 2 else []
    )
    problem, note = empty_samples(spec, texts)
    problems += [problem] if problem else []
    notes += [note] if note else []
    return Survey(
        spec.text,
        "text",
        len(texts),
        "classification",
        classes,
        imbalance_words(list(classes)),
        split_sizes(len(texts), None, *fractions),
        (length,),
        problems=tuple(problems),
        notes=tuple(notes),
    )
