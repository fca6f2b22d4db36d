"""Two generated text examples, written as files a ``text:`` spec reads: short sentences labelled positive or
negative (negations make word order matter: "not bad" is positive), and a text for next-character prediction.

Generated from the seed, so no licence question arises and the files are the same on every machine.
"""

from __future__ import annotations

import random
from pathlib import Path

from core.files.fileio import atomic_write_text

GOOD = ("great", "wonderful", "lovely", "excellent", "fun", "delightful", "good", "superb")
BAD = ("awful", "boring", "terrible", "dull", "bad", "dreadful", "poor", "tedious")
THINGS = ("movie", "food", "service", "book", "show", "hotel", "game", "song", "room", "staff")
OPENINGS = ("the {thing} was", "this {thing} is", "honestly the {thing} was", "i thought the {thing} was")
SENTIMENT_SPEC = "text:{path}"
NEXT_CHAR_SPEC = "text:{path}?task=next&max_length=40"


def sentiment_lines(samples: int = 600, seed: int = 0) -> list[str]:
    """``positive<TAB>sentence`` lines; a third say "not" before the word, which turns the label round."""
    pick = random.Random(seed)
    lines = []
    for i in range(samples):
        positive = i % 2 == 0
        negated = pick.random() < 1 / 3
        word = pick.choice(BAD if positive == negated else GOOD)
        opening = pick.choice(OPENINGS).format(thing=pick.choice(THINGS))
        text = f"{opening} {'not ' if negated else ''}{word}"
        if pick.random() < 0.3:
            text += pick.choice((" at all", ", really", "!") if negated else (", really", " overall", "!"))
        lines.append(f"{'positive' if positive else 'negative'}\t{text}")
    return lines


def write_sentiment(folder: str | Path, samples: int = 600, seed: int = 0) -> str:
    """Write ``sentiment.txt`` into folder (atomically); the spec that reads it."""
    path = Path(folder) / "sentiment.txt"
    atomic_write_text(path, "\n".join(sentiment_lines(samples, seed)) + "\n")
    return SENTIMENT_SPEC.format(path=path)


def write_next_char(folder: str | Path, sentences: int = 800, seed: int = 1) -> str:
    """Write ``next_char.txt``: the sentiment sentences run together as prose; the spec of the next-character set."""
    text = ". ".join(line.split("\t", 1)[1] for line in sentiment_lines(sentences, seed)) + ".\n"
    path = Path(folder) / "next_char.txt"
    atomic_write_text(path, text)
    return NEXT_CHAR_SPEC.format(path=path)
