"""What a data source holds, before anything trains: the data wizard shows it, ``torchcanvas check`` could print it.

``survey(spec)`` reads the source (a table whole, an image folder's headers, an array file's labels) and answers in
plain words: the kind of source, how many samples, the task, the classes with their counts and how unequal they
are, the split sizes the settings give, the image sizes found and the one that will be used, and for a table every
column with its detected kind. It writes nothing and trains nothing. ``problems`` are what training will refuse,
in the loader's words; ``notes`` are said before training and do not stop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.folder import image_geometry, image_headers, scan_images, wxh
from core.datasets.info import dataset_info
from core.datasets.spec import SOURCES, DataSpec, LoadRequest, parse_spec
from core.datasets.tabular import MAX_TABLE_CLASSES, Column, TablePlan, plan_problems, table_plan, with_choices
from core.datasets.text_survey import survey_text
from core.errors import DataError
from core.portable.frames import label_codes
from core.portable.text import is_header

__all__ = ["ClassCount", "Column", "SizeCount", "Splits", "Survey", "guess_spec", "imbalance_words", "survey"]

# the user's own kinds of file; every other source (built in, generated, downloaded) is "builtin"
SOURCE_WORDS = {"folder": "images", "tabular": "table", "csv": "table", "text": "text", "npz": "npz", "idx": "idx"}
VISION_COUNTS = {"MNIST": (60000, 10000), "FashionMNIST": (60000, 10000), "KMNIST": (60000, 10000)}
VISION_COUNTS["CIFAR10"] = (50000, 10000)


@dataclass(frozen=True)
class ClassCount:
    name: str
    count: int


@dataclass(frozen=True)
class SizeCount:
    size: tuple[int, int]  # (height, width)
    count: int


@dataclass(frozen=True)
class Splits:
    """Samples per split as the settings cut them (``core.portable.steps.prepare``'s rounding)."""

    train: int
    val: int
    test: int
    test_from_source: bool  # the source has its own test split (npz x_test, MNIST's test set)


@dataclass(frozen=True)
class Survey:
    spec: str  # the spec with the choices made (label column, column kinds): store it in the settings
    source: str  # images | table | text | npz | idx | builtin
    samples: int | None
    task: str | None  # classification | regression | None (not known)
    classes: tuple[ClassCount, ...]  # in class-number order
    imbalance: str  # in words: "balanced: 50 to 52 samples a class", "one class only", ...
    splits: Splits | None
    sample_shape: tuple[int, ...] | None  # one sample as the network gets it (images: at the size used)
    image_sizes: tuple[SizeCount, ...] = ()  # (height, width) found, most common first
    image_size: tuple[int, int] | None = None  # the size every image is brought to
    image_size_reason: str = ""
    channels: int | None = None  # 1 (grey) or 3 (colour) as found in the files
    columns: tuple[Column, ...] = ()  # tables
    label_column: str | None = None
    problems: tuple[str, ...] = ()  # what training refuses, in its words
    notes: tuple[str, ...] = ()


def split_sizes(samples: int, test: int | None, val_fraction: float, test_fraction: float) -> Splits:
    """``test`` is the source's own test split (None: cut from the samples, first, as ``prepare`` does)."""
    n_test = test if test is not None else round(samples * test_fraction)
    n_val = round(samples * val_fraction)
    pool = samples if test is not None else samples - n_test
    return Splits(max(pool - n_val, 0), n_val, n_test, test is not None)


def imbalance_words(counts: list[ClassCount]) -> str:
    if not counts:
        return ""
    if len(counts) == 1:
        return f"one class only ({counts[0].name!r}): a classifier needs at least two"
    big = max(counts, key=lambda c: c.count)
    small = min(counts, key=lambda c: c.count)
    if small.count == 0:
        return f"class {small.name!r} has no samples"
    ratio = big.count / small.count
    if ratio <= 1.5:
        return f"balanced: {small.count:,} to {big.count:,} samples a class"
    words = "imbalanced" if ratio < 10 else "strongly imbalanced"
    return (
        f"{words}: {big.name!r} has {ratio:.0f}x the samples of {small.name!r} ({big.count:,} vs {small.count:,}); "
        f"a network that always answers {big.name!r} is right {big.count / sum(c.count for c in counts):.0%} of "
        "the time, so look at the per-class accuracy"
    )


def _classes(labels: Any, names: list[str]) -> tuple[ClassCount, ...]:
    counts = np.bincount(np.asarray(labels, dtype=np.int64).reshape(-1), minlength=len(names))
    names = names + [str(k) for k in range(len(names), len(counts))]
    return tuple(ClassCount(name, int(count)) for name, count in zip(names, counts, strict=True))


def target_note(values: Any) -> str:
    """A regression's number to predict in the data's own statistics, and the baseline a network must beat:
    predicting the training mean for every sample (a regression was described by nothing, or by its values
    rounded into classes)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if not len(v):
        return ""
    mean = float(v.mean())
    return (
        f"The number to predict goes from {v.min():.4g} to {v.max():.4g} (mean {mean:.4g}, std {v.std():.4g}); "
        f"predicting the mean for every sample scores MAE {float(np.abs(v - mean).mean()):.4g}, which a network "
        "has to beat."
    )


# --- per kind of source ------------------------------------------------------------------------------------------
def _table(spec: DataSpec, label_column: str | None, kinds: dict[str, str] | None, fractions: tuple) -> Survey:
    if spec.kind == "csv":  # read by pandas with the same label: the table: spec keeps the choices
        spec = DataSpec("tabular", "table", spec.paths, label_column=spec.label_column)
    spec = with_choices(spec, label_column, kinds)
    frame, plan = table_plan(spec)
    problems = plan_problems(frame, plan)
    classes = _table_classes(frame, plan) if plan.task == "classification" else ()
    notes = [n for n in plan.notes if n.split(": ", 1)[-1] not in " ".join(problems)]
    if plan.task == "regression" and not problems:
        # deferred: imports pandas; the editor describes data without it
        import pandas as pd

        notes.append(target_note(pd.to_numeric(frame[plan.label], errors="coerce").to_numpy("float64")))
    return Survey(
        spec=spec.text,
        source="table",
        samples=plan.rows,
        task=plan.task,
        classes=classes,
        imbalance=imbalance_words(list(classes)),
        splits=split_sizes(plan.rows, None, *fractions),
        sample_shape=(plan.features,),
        columns=plan.columns,
        label_column=plan.label,
        problems=tuple(problems),
        notes=tuple(n for n in notes if n),
    )


def _table_classes(frame: Any, plan: TablePlan) -> tuple[ClassCount, ...]:
    """The classes of the labelled rows (a missing label is one of the problems)."""
    try:
        labelled = frame[[plan.label]].dropna()  # one column copied, not the table
        y, names = label_codes(labelled, plan.label, plan.task, plan.path, MAX_TABLE_CLASSES)
    except ValueError:
        return ()  # told in the problems
    return _classes(y, names)


def _folder(spec: DataSpec, input_shape: tuple[int, ...] | None, resize: Any, fractions: tuple) -> Survey:
    root = Path(spec.paths[0]).expanduser()
    files, names = scan_images(root)
    problems = [f"{root / name}: no images in this class folder; add images or remove the folder" for name in names]
    problems = [p for p, name in zip(problems, names, strict=True) if not any(f.parent.name == name for f, _ in files)]
    if not names:
        problems.append(
            f"{root}: no class sub-folders; put the images of each class in a sub-folder named after the class "
            "(e.g. cats/, dogs/)"
        )
    if len(names) == 1:
        problems.append(f"{root}: only one class folder ({names[0]!r}); a classifier needs at least two")
    headers = image_headers([f for f, _ in files])
    problems += headers.unreadable[:3]
    notes = []
    if len(files) > headers.read:
        notes.append(f"Image sizes of the first {headers.read:,} of {len(files):,} images.")
    found = tuple(SizeCount(size, count) for size, count in headers.sizes)
    channels = headers.channels
    size, wanted = image_geometry(input_shape, tuple(resize) if resize else None, headers.found)
    if resize:
        reason = f"the resize setting {list(size)}, height and width"
    elif input_shape and len(input_shape) == 3:
        reason = f"the Input node's size {list(input_shape)}"
    elif found:
        read = sum(c.count for c in found)
        reason = f"the most common size ({found[0].count:,} of {read:,} images); a new Input gets it"
    else:
        reason = "no images found: 32x32, the default"
    if len(found) > 1:
        notes.append(f"{len(found)} different image sizes: every image is resized to {wxh(size)} ({reason}).")
    elif found and found[0].size != size:
        notes.append(f"The images are {wxh(found[0].size)} (width x height): resized to {wxh(size)} ({reason}).")
    if headers.deep:
        notes.append(
            f"{headers.deep:,} of {headers.read:,} images have more than 8 bits a pixel (16-bit PNG or TIFF): each "
            "is scaled from its full range (0..65535) to 0..255 for training, not clipped to white."
        )
    if channels == 3 and wanted == 1:
        notes.append("The images are in colour; the 1-channel Input gets them turned grey.")
    elif channels == 1 and wanted == 3:
        notes.append("The images are grey; the 3-channel Input gets the grey repeated in each channel.")
    classes = tuple(ClassCount(n, sum(1 for _, k in files if k == i)) for i, n in enumerate(names))
    return Survey(
        spec=spec.text,
        source="images",
        samples=len(files),
        task="classification",
        classes=classes,
        imbalance=imbalance_words(list(classes)),
        splits=split_sizes(len(files), None, *fractions),
        sample_shape=(wanted, *size),
        image_sizes=found,
        image_size=size,
        image_size_reason=reason,
        channels=channels,
        problems=tuple(problems),
        notes=tuple(notes),
    )


def _arrays(spec: DataSpec, fractions: tuple) -> Survey:
    """npz, idx and the built-in and generated sets: their labels are read (downloads are not fetched)."""
    info = dataset_info(spec)
    if spec.kind == "vision":
        train, test = VISION_COUNTS[spec.name]
        shape = info.sample_shape if info else None
        kept = spec.keep_classes or tuple(range(10))
        each = spec.per_class or train // 10
        classes = tuple(ClassCount(str(k), each) for k in kept)  # about: not downloaded to count
        train, test = each * len(kept), test * len(kept) // 10
        notes = (f"Downloaded on first use; about {train // 10:,} training images a class.",)
        splits = split_sizes(train, test, *fractions)
        channels = shape[0] if shape else None
        return Survey(
            spec.text,
            "builtin",
            train + test,
            "classification",
            classes,
            "balanced (about equal)",
            splits,
            shape,
            channels=channels,
            notes=notes,
        )
    try:
        raw = SOURCES[spec.kind].load(spec, LoadRequest())
    except (ValueError, OSError) as exc:
        raise DataError(str(exc)) from None
    if spec.keep_classes or spec.per_class:
        # here, not above: the core.datasets package imports this module (cycle)
        from core.datasets import keep_subset

        raw = keep_subset(raw, spec, 0)
    x, y, x_test, y_test, names = raw
    regression = y.dtype.is_floating_point
    classes = () if regression else _classes(y.numpy(), list(names))
    samples = len(x) + (len(x_test) if x_test is not None else 0)
    return Survey(
        spec=spec.text,
        source=SOURCE_WORDS.get(spec.kind, "builtin"),
        samples=samples,
        task="regression" if regression else "classification",
        classes=classes,
        imbalance=imbalance_words(list(classes)),
        splits=split_sizes(len(x), len(x_test) if x_test is not None else None, *fractions),
        sample_shape=tuple(x.shape[1:]),
        channels=int(x.shape[1]) if x.dim() == 4 else None,
        notes=(target_note(y.numpy()),) if regression and len(y) else (),
    )


# --- the entry points --------------------------------------------------------------------------------------------
def survey(
    spec: str,
    *,
    label_column: str | None = None,
    column_kinds: dict[str, str] | None = None,
    val_fraction: float = 0.2,
    test_fraction: float = 0.1,
    input_shape: tuple[int, ...] | None = None,
    resize: tuple[int, int] | list[int] | None = None,
) -> Survey:
    """What ``spec`` holds; DataError (one line naming the file) when it cannot be read at all.

    ``label_column`` and ``column_kinds`` (column -> number|category|text|ignore|label) are the user's choices for
    a table; the returned ``Survey.spec`` holds them. ``input_shape`` and ``resize`` decide an image folder's size."""
    parsed = parse_spec(spec)
    fractions = (val_fraction, test_fraction)
    if parsed.kind in ("tabular", "csv"):
        return _table(parsed, label_column, column_kinds, fractions)
    if label_column or column_kinds:
        raise DataError(f"{parsed.text}: label and column choices are for tables (table:PATH)")
    if parsed.kind == "folder":
        return _folder(parsed, input_shape, resize, fractions)
    if parsed.kind == "text":
        return survey_text(parsed, fractions)  # type: ignore[no-any-return]
    return _arrays(parsed, fractions)


def guess_spec(path: str | Path) -> str:
    """The spec for a file or folder the user picked: a folder of class sub-folders of images (``folder:``) or of
    text files (``text:``), a table (``table:``), a text file (``text:``), an .npz (``npz:``)."""
    p = Path(path).expanduser()
    if p.is_dir():
        files = [f for sub in p.iterdir() if sub.is_dir() for f in sub.iterdir() if f.is_file()]
        if files and sum(f.suffix.lower() == ".txt" for f in files) > len(files) / 2:
            return f"text:{p}"
        return f"folder:{p}"
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return f"npz:{p}"
    if suffix == ".txt":
        return f"text:{p}"
    if suffix in (".tsv", ".tab") and label_text_lines(p):
        return f"text:{p}" + ("?" if "?" in str(p) else "")
    if suffix in (".csv", ".tsv", ".tab", ".parquet", ".pq"):
        return f"table:{p}" + ("?" if "?" in str(p) else "")
    raise DataError(f"{p}: not a kind of data TorchCanvas reads (a folder of images, a table, a text file or an .npz)")


SNIFF_BYTES = 256 * 1024


def label_text_lines(path: Path) -> bool:
    """Whether a .tsv holds the text format (README: LABEL<TAB>TEXT lines) rather than a table. Rule: 90 % of the
    lines of the file's start have exactly one tab; the labels (first field) are short (1-2 words, up to 30 characters)
    and repeat (at most half as many different ones as lines); the texts (second field) are free text (the median
    one has 2 words or more). A first line such as ``label<TAB>text`` (``core.portable.text.is_header``) is the
    columns' names and is left out. Read as a table, the first sample was the header and the sentences classes."""
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return False
    lines = head.decode("utf-8-sig", errors="replace").splitlines()
    lines = lines[:-1] if len(head) == SNIFF_BYTES else lines  # the last one may be cut
    split = [line.split("\t") for line in lines if line.strip()][:1000]
    rows = [row for row in split if len(row) == 2]
    if len(rows) < 2 or len(rows) < 0.9 * len(split):  # a few bad lines are the text loader's to name
        return False
    labels, texts = [row[0].strip() for row in rows], [row[1].strip() for row in rows]
    if is_header(labels[0], texts[0], labels):
        labels, texts = labels[1:], texts[1:]
    short = all(0 < len(label) <= 30 and len(label.split()) <= 2 for label in labels)
    repeated = len(set(labels)) <= max(2, len(labels) // 2)
    words = sorted(len(text.split()) for text in texts)
    return short and repeated and words[len(words) // 2] >= 2


def survey_lines(found: Survey) -> list[str]:
    """The survey in plain lines (``torchcanvas data``): what was found, then the problems and the notes."""
    sizes = found.splits
    lines = [f"Data: {found.spec} ({found.source})"]
    count = f"{found.samples:,} samples" if found.samples is not None else "samples not known"
    shape = f"; one sample is {list(found.sample_shape)}" if found.sample_shape else ""
    lines.append(f"{count}; task: {found.task or 'not known'}{shape}")
    if sizes:
        given = " (the source's own)" if sizes.test_from_source else ""
        lines.append(f"Splits: {sizes.train:,} training / {sizes.val:,} validation / {sizes.test:,} test{given}")
    if found.classes:
        listed = ", ".join(f"{c.name} {c.count:,}" for c in found.classes[:20])
        more = f" and {len(found.classes) - 20} more" if len(found.classes) > 20 else ""
        lines.append(f"{len(found.classes)} classes: {listed}{more}")
        lines.append(f"Balance: {found.imbalance}")
    if found.image_sizes:
        listed = ", ".join(f"{wxh(s.size)} ({s.count:,})" for s in found.image_sizes[:5])
        used = wxh(found.image_size) if found.image_size else "none"
        lines.append(f"Image sizes (width x height): {listed}; used: {used} ({found.image_size_reason})")
    for column in found.columns:
        note = f" - {column.note}" if column.note else ""
        lines.append(
            f"  {column.name}: {column.kind} (looks like {column.detected}), {column.missing:,} missing, "
            f"{column.distinct:,} different; {column.encoding}{note}"
        )
    lines += [f"error: {problem}" for problem in found.problems]
    lines += [f"note: {note}" for note in found.notes]
    return lines
