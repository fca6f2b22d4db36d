"""The survey and a few samples, read in a thread: a big table or folder takes seconds, and the wizard (and the
window under it) must keep answering meanwhile. Only the newest request's answer counts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.datasets.folder import scan_images
from core.datasets.spec import SOURCES, LoadRequest, parse_spec
from core.datasets.survey import survey
from core.datasets.tabular import read_frame
from core.portable.text import read_texts, read_utf8

PER_CLASS = 2  # sample images shown for each class
MAX_SAMPLES = 16
HEAD_ROWS = 5  # a table's first rows


@dataclass
class Found:
    """What the wizard shows: the survey, sample pictures (arrays with captions) or a table's first rows."""

    survey: Any
    images: list[tuple[Any, str]] = field(default_factory=list)  # (array [C, H, W] or [H, W], caption)
    head: list[list[str]] = field(default_factory=list)  # the table's first rows, as text
    head_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    spec: str
    label_column: str | None = None
    column_kinds: dict[str, str] | None = None
    val_fraction: float = 0.2
    test_fraction: float = 0.1
    resize: tuple[int, int] | None = None


def look(request: Request) -> Found:
    """The survey of the request's source and its samples (run in the surveyor's thread)."""
    found = Found(
        survey(
            request.spec,
            label_column=request.label_column,
            column_kinds=request.column_kinds,
            val_fraction=request.val_fraction,
            test_fraction=request.test_fraction,
            resize=request.resize,
        )
    )
    try:
        _samples(found, request.spec)
    except Exception:  # the pictures are a help: a file that cannot be read is a problem the survey names
        found.images, found.head = [], []
    return found


def _samples(found: Found, spec: str) -> None:
    kind = spec.partition(":")[0]
    if kind == "folder":
        found.images = _folder_images(Path(spec.partition(":")[2]).expanduser())
    elif kind in ("table", "csv"):
        found.head_columns, found.head = _table_head(found.survey.spec)
    elif kind in ("npz", "idx"):
        found.images = _array_images(spec, list(c.name for c in found.survey.classes))
    elif kind == "text":
        found.head_columns, found.head = _text_head(found.survey.spec)


def _folder_images(root: Path) -> list[tuple[Any, str]]:
    """The first PER_CLASS images of each class, as loaded by Pillow (grey or RGB)."""
    # deferred: imports Pillow; the window paints without it
    from PIL import Image

    files, names = scan_images(root)
    taken: dict[int, int] = {}
    images: list[Any] = []
    for file, label in files:
        if taken.get(label, 0) >= PER_CLASS or len(images) >= MAX_SAMPLES:
            continue
        with Image.open(file) as image:
            picture = image.convert("L" if image.mode in ("1", "L", "I", "I;16", "F") else "RGB")
            array = np.asarray(picture)
        images.append((array.transpose(2, 0, 1) if array.ndim == 3 else array, names[label]))
        taken[label] = taken.get(label, 0) + 1
    return images


def _table_head(spec: str) -> tuple[list[str], list[list[str]]]:
    """The first rows as text: a CSV or TSV reads only those (the survey read the whole table already)."""
    # deferred: imports pandas; the window paints without it
    import pandas as pd

    path = parse_spec(spec).paths[0]
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv", ".tab"):
        frame = pd.read_csv(path, nrows=HEAD_ROWS, sep="," if suffix == ".csv" else "\t")
    else:
        frame = read_frame(path).head(HEAD_ROWS)
    rows = [["" if value != value else str(value) for value in row] for row in frame.itertuples(index=False)]
    return [str(c) for c in frame.columns], rows


def _text_head(spec: str) -> tuple[list[str], list[list[str]]]:
    """A text source's first samples: class and text, or the start of a text read for its next characters."""
    parsed = parse_spec(spec)
    path = Path(parsed.paths[0]).expanduser()
    if parsed.options.get("next"):
        lines = [line.strip() for line in read_utf8(path)[:4000].splitlines() if line.strip()]
        return ["Text"], [[line[:200]] for line in lines[:HEAD_ROWS]]
    texts, labels = read_texts(str(path))
    return ["Class", "Text"], [[label, text[:200]] for label, text in zip(labels[:HEAD_ROWS], texts)]


def _array_images(spec: str, names: list[str]) -> list[tuple[Any, str]]:
    parsed = parse_spec(spec)
    x, y, *_ = SOURCES[parsed.kind].load(parsed, LoadRequest())
    if x.dim() not in (3, 4):  # not pictures (a table's rows, token ids)
        return []
    captions = [names[int(v)] if 0 <= int(v) < len(names) else str(float(v)) for v in y[:MAX_SAMPLES]]
    return [(sample.numpy(), caption) for sample, caption in zip(x[:MAX_SAMPLES], captions)]


class Surveyor(QObject):
    """``look(request)`` in a daemon thread; ``done(number, Found or the exception)`` on the GUI thread."""

    done = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.latest = 0

    def start(self, request: Request) -> int:
        self.latest += 1
        args = (self.latest, request)
        threading.Thread(target=self._work, args=args, name="torchcanvas-data-survey", daemon=True).start()
        return self.latest

    def _work(self, number: int, request: Request) -> None:
        try:
            result: Any = look(request)
        except Exception as exc:  # told in the wizard in plain words
            result = exc
        try:
            self.done.emit(number, result)
        except RuntimeError:  # the wizard was closed meanwhile
            pass
