"""What a dataset gives the network, known without loading it: sample shape, dtype, classes and task.

The editor checks the network against its task after every edit (``core.model.task_check``), so this must be cheap:
built-in and torchvision sets are described by a table (``tests/core/test_dataset_info.py`` compares every
entry with what the loader really yields), files are peeked at (an .npz member's header and labels, an IDX
header, a CSV's header and label column, a folder's class sub-folders) and the answer is cached by the spec
and the files' modification times. Anything that cannot be known cheaply is ``None``: the check then skips it,
and a source that cannot be read at all gives ``None`` (the Data panel and the loader explain that, once), except
a user's file or folder that does not exist: its ``problems`` hold the loader's refusal, which check reports.

A source's ``describe`` (its ``core.datasets.spec.Source`` entry) answers for it: a fixed entry of ``BUILTIN``
for a named built-in set, or one of the file peeks below.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import stat
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.spec import SOURCES, DataSpec, LoadRequest, parse_spec
from core.errors import TorchCanvasError
from core.portable.frames import check_label_kinds, csv_samples, is_number, read_csv_rows

# The most a peek reads (once per file version; it runs in the editor after an edit). Beyond, the answer is None
# ("not known"), which the checks skip: the loader still checks everything when Train is pressed.
PEEK_BYTES = 64 * 1024 * 1024  # label arrays (.npz y_train, IDX labels): NumPy reads these fast
ARRAY_PEEK_BYTES = 16 * 1024 * 1024  # .npz x arrays, read to tell whole-number tokens and their vocabulary
CSV_PEEK_BYTES = 16 * 1024 * 1024  # CSV files whose label column is read (about 0.5 s per 16 MB)
LABEL_LIMIT = 10_000  # core.portable.sources.MAX_CLASSES (a module that imports torch); a test keeps them equal
NAMES_LIMIT = 1000  # core.portable.tables.csv_labels' max_names: more different label names is refused
CSV_TOKEN_PEEK_BYTES = 2 * 1024 * 1024  # CSV files whose feature cells are parsed as token ids (about 0.4 s)


@dataclass(frozen=True)
class DataInfo:
    """One dataset as the network sees it. ``None`` means "not known without loading the data"."""

    name: str  # as named in messages: digits, mnist, data.npz
    sample_shape: tuple[int, ...] | None  # one sample as loaded, before any resize or reshape to the Input
    num_classes: int | None  # classification only
    task: str | None = "classification"  # "classification" | "regression" | None (unknown)
    dtypes: tuple[str, ...] = ("float32",)  # the Input dtypes this source can feed (first: the natural one)
    adapts_to_input: bool = False  # image folders: decoded at the Input's size and channel count
    vocab_size: int | None = None  # token sets: largest token id + 1 (Embedding's num_embeddings must reach it)
    image_sizes: tuple[tuple[int, int], ...] = ()  # image folders: (height, width) found, most common first
    channels: int | None = None  # image folders: 3 when any image is in colour, 1 when all are grey
    problems: tuple[str, ...] = ()  # what loading will refuse, in the loader's words (check reports them as errors)
    lengths: tuple[int, int] | None = None  # text: samples' length in tokens, (95th percentile, longest)


def loaded_shape(
    info: DataInfo, input_shape: tuple[int, ...] | None, resize: tuple[int, ...] = ()
) -> tuple[int, ...] | None:
    """The shape one sample has when it reaches ``fit_shape``: after the resize setting (images only) and, for
    folders, at the size and channel count ``image_geometry`` picks for this Input."""
    if info.adapts_to_input:
        # here, not above: core.datasets.folder imports this module (cycle)
        from core.datasets.folder import image_geometry

        found = (info.image_sizes[0], info.channels or 3) if info.image_sizes else None
        size, channels = image_geometry(input_shape, (int(resize[0]), int(resize[1])) if resize else None, found)
        return (channels, *size)
    shape = info.sample_shape
    if shape is not None and resize and len(shape) == 3:
        return (shape[0], int(resize[0]), int(resize[1]))
    return shape


# --- the registry ------------------------------------------------------------------------------------------------
BUILTIN: dict[str, DataInfo] = {
    # scikit-learn tables (core.portable.sources.load_sklearn): digits come as 8x8 one-channel images
    "digits": DataInfo("digits", (1, 8, 8), 10),
    "iris": DataInfo("iris", (4,), 3),
    "wine": DataInfo("wine", (13,), 3),
    "breast_cancer": DataInfo("breast_cancer", (30,), 2),
    # torchvision (core.portable.sources.load_torchvision), keyed by the torchvision class name
    "MNIST": DataInfo("mnist", (1, 28, 28), 10),
    "FashionMNIST": DataInfo("fashion_mnist", (1, 28, 28), 10),
    "KMNIST": DataInfo("kmnist", (1, 28, 28), 10),
    "CIFAR10": DataInfo("cifar10", (3, 32, 32), 10),
}


def named_as(info: DataInfo | None, spec: DataSpec) -> DataInfo | None:
    """A fixed entry named as the spec was typed (mnist, not MNIST)."""
    return replace(info, name=spec.text) if info is not None else None


# --- files -------------------------------------------------------------------------------------------------------
def _image_sample(shape: tuple[int, ...]) -> tuple[int, ...]:
    """``images_to_tensor`` on a batch shape: (N, H, W) gains a channel axis, (N, H, W, C) becomes channels-first."""
    if len(shape) == 3:
        return (1, *shape[1:])
    if len(shape) == 4 and shape[-1] in (1, 3, 4) and shape[1] not in (1, 3, 4):
        return (shape[3], shape[1], shape[2])
    return tuple(shape[1:])


def _npy_header(archive: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    return tuple(int(d) for d in shape), np.dtype(dtype)


def _class_labels(y: np.ndarray) -> int | None:
    """Classes as ``labels_to_tensor`` sees them: whole numbers from 0; None when the loader would refuse them."""
    y = y.reshape(-1)
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu" or not len(y) or y.min() < 0 or y.max() >= LABEL_LIMIT:
        return None  # the loader refuses these labels, in words that name the file: check does not guess
    return int(y.max()) + 1


def _token_range(*arrays: np.ndarray) -> tuple[bool, int | None]:
    """Whether the arrays can be read as token ids (whole numbers from 0), and the vocabulary they need."""
    whole = all(
        a.dtype.kind in "iub" or (a.dtype.kind == "f" and bool(np.all(np.isfinite(a) & (a == np.round(a)))))
        for a in arrays
    )
    if not whole or not all(a.size for a in arrays) or min(float(a.min()) for a in arrays) < 0:
        return False, None
    return True, int(max(float(a.max()) for a in arrays)) + 1


def describe_npz(spec: DataSpec) -> DataInfo | None:
    """The x_train header gives the sample shape; y_train (and x when small) are read once for the rest."""
    path = Path(spec.paths[0]).expanduser()
    with zipfile.ZipFile(path) as archive:
        members = {name.removesuffix(".npy"): name for name in archive.namelist()}
        if "x_train" not in members or "y_train" not in members:
            return None
        x_shape, x_dtype = _npy_header(archive, members["x_train"])
        y_shape, y_dtype = _npy_header(archive, members["y_train"])
        x_keys = [k for k in ("x_train", "x_test") if k in members]
        x_bytes = sum(math.prod(_npy_header(archive, members[k])[0]) for k in x_keys) * x_dtype.itemsize
    classes, tokens, vocab = None, True, None  # x too big to read here: tokens allowed, the loader checks them
    with np.load(path, allow_pickle=False) as arrays:
        if math.prod(y_shape) * y_dtype.itemsize <= PEEK_BYTES:
            classes = _class_labels(arrays["y_train"])
        if x_bytes <= ARRAY_PEEK_BYTES:
            tokens, vocab = _token_range(*(arrays[k] for k in x_keys))
    return DataInfo(
        path.name,
        _image_sample(x_shape) if len(x_shape) > 1 else (1,),
        classes,
        dtypes=("float32", "int64") if tokens else ("float32",),
        vocab_size=vocab,
    )


def _idx_shape(path: str) -> tuple[int, ...]:
    opener: Any = gzip.open if path.endswith(".gz") else open
    with opener(Path(path).expanduser(), "rb") as handle:
        head = handle.read(4)
        if len(head) < 4 or head[:3] != b"\x00\x00\x08":
            raise ValueError(f"{path}: not an IDX file of bytes")
        dims = handle.read(4 * head[3])
    return tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(head[3]))


def describe_idx(spec: DataSpec) -> DataInfo | None:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable.sources import read_idx

    images, labels = spec.paths
    shape = _idx_shape(images)
    classes = None
    if math.prod(_idx_shape(labels)) <= PEEK_BYTES:
        classes = _class_labels(read_idx(str(Path(labels).expanduser())))
    return DataInfo(Path(images).name, _image_sample(shape), classes)


def describe_csv(spec: DataSpec) -> DataInfo | None:
    """The header gives the feature count; the label column, read as ``load_csv`` reads it, gives the task, and
    the feature cells whether they can be token ids (whole numbers from 0) and how many an Embedding needs."""
    path = Path(spec.paths[0]).expanduser()
    both = ("float32", "int64")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        header = [name.strip() for name in next(rows, [])]
        if spec.label_column not in header:
            return None
        shape = (len(header) - 1,)
        size = path.stat().st_size
        if size > CSV_PEEK_BYTES:
            return DataInfo(path.name, shape, None, task=None, dtypes=both)
        at = header.index(spec.label_column)
        labels: list[str] = []
        scan = size <= CSV_TOKEN_PEEK_BYTES  # else only the first rows are parsed: the loader checks the rest
        tokens, top = True, 0
        for row in rows:
            if len(row) != len(header) or not any(cell.strip() for cell in row):
                continue  # blank rows are skipped by the loader; ragged ones are its error to explain
            labels.append(row[at].strip())
            if tokens and (scan or len(labels) <= 100):
                try:
                    values = [int(cell) for k, cell in enumerate(row) if k != at]
                except ValueError:
                    tokens = False
                    continue
                tokens = not values or min(values) >= 0
                top = max([top, *values])
    if not labels:
        return DataInfo(path.name, shape, None, task=None, dtypes=both)
    problems = _csv_problems(spec) if scan else ()
    if problems:
        return DataInfo(path.name, shape, None, task=None, dtypes=both, problems=problems)
    dtypes, vocab = (both, top + 1 if scan else None) if tokens else (("float32",), None)
    unknown = DataInfo(path.name, shape, None, task=None, dtypes=dtypes, vocab_size=vocab)  # the loader explains
    if all(label.lstrip("-").isdigit() for label in labels):
        classes = max(int(label) for label in labels) + 1
        if classes > LABEL_LIMIT or min(int(label) for label in labels) < 0:
            return unknown
        return DataInfo(path.name, shape, classes, dtypes=dtypes, vocab_size=vocab)
    try:
        targets = [float(label) for label in labels]
    except ValueError:
        names = len(set(labels))
        return unknown if names > NAMES_LIMIT else DataInfo(path.name, shape, names, dtypes=dtypes, vocab_size=vocab)
    if not all(math.isfinite(value) for value in targets):
        return unknown
    return DataInfo(path.name, shape, None, task="regression", dtypes=dtypes, vocab_size=vocab)


def _csv_problems(spec: DataSpec) -> tuple[str, ...]:
    """What the loader refuses in a small CSV (a word in a number column, labels mixing numbers and names), in its
    words (``core.portable.frames``: no torch in the editor)."""
    path = str(Path(spec.paths[0]).expanduser())
    try:
        rows = read_csv_rows(path)
        header = [name.strip() for name in rows[0]]
        _, labels, numbers = csv_samples(path, rows, header, spec.label_column, False)
        check_label_kinds(labels, numbers, path, spec.label_column)
    except ValueError as exc:
        return (str(exc),)
    if len(set(labels)) == 1 and (labels[0].lstrip("-").isdigit() or not is_number(labels[0])):  # csv_labels' words
        return (
            f"{path}, column {spec.label_column!r}: only one class ({labels[0]!r}); a classifier needs at least two",
        )
    return ()


# --- the entry point ---------------------------------------------------------------------------------------------
_CACHE: dict[tuple[Any, ...], DataInfo | None] = {}
_CACHE_SIZE = 64


def _stamps(spec: DataSpec) -> tuple[tuple[str, int, int], ...]:
    """What a cached answer depends on: each file's (or folder's) modification time and size. Anything but a
    regular file (or the folder of a ``folder:`` set) is not peeked at: opening a named pipe waits for a writer
    forever, and this runs in the editor after every edit."""
    stamps = []
    for path in spec.paths:
        st = os.stat(Path(path).expanduser())
        folder = spec.kind == "folder" or (spec.kind == "text" and stat.S_ISDIR(st.st_mode))  # text: class folders
        if not (stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)):
            raise ValueError(f"{path}: not a regular file")
        stamps.append((path, st.st_mtime_ns, st.st_size))
    return tuple(stamps)


def _missing(spec: DataSpec) -> DataInfo | None:
    """The user's own file or folder that is not there, refused in the loader's words (its load fails before
    reading anything): ``check`` said OK for a folder that did not exist while ``train`` refused it."""
    source = SOURCES.get(spec.kind)
    paths = [Path(p).expanduser() for p in spec.paths]
    if source is None or source.group != "your files" or not paths or all(p.exists() for p in paths):
        return None
    try:
        source.load(spec, LoadRequest())
    except TorchCanvasError as exc:
        missing = next(p for p in paths if not p.exists())
        return DataInfo(missing.name or str(missing), None, None, task=None, problems=(str(exc),))
    except (OSError, ValueError):
        return None
    return None


def missing_data(spec: str | DataSpec) -> tuple[str, ...]:
    """The loader's refusal of the user's own files that are not on this computer, () when they are here: check
    and train refuse them, but an exported script may run on the computer that holds them."""
    try:
        parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    except (TorchCanvasError, OSError, ValueError):
        return ()
    info = _missing(parsed)
    return info.problems if info is not None else ()


def dataset_info(spec: str | DataSpec) -> DataInfo | None:
    """What ``spec`` gives the network, or None where that cannot be known cheaply (or the source is broken)."""
    try:
        parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    except (TorchCanvasError, OSError, ValueError):
        return None
    try:
        key = (parsed.kind, parsed.text, _stamps(parsed))
    except (TorchCanvasError, OSError, ValueError):
        return _missing(parsed)
    if key in _CACHE:
        return _CACHE[key]
    source = SOURCES.get(parsed.kind)
    try:
        info = source.describe(parsed) if source else None
    except (TorchCanvasError, OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error):
        info = None
    if info is not None and (parsed.keep_classes or parsed.per_class):  # a few-shot spec: the classes it keeps
        info = replace(info, name=parsed.text, num_classes=len(parsed.keep_classes) or info.num_classes)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = info
    return info
