"""Where each test sample is in the user's own files, so a result can be traced back: "row 212 of table.csv is
off by 3.1" (the tester's F2: ``test_predictions.csv`` numbered the samples of the shuffled test split only).

A table's sample is its row in the file (the header is row 1, as the loader's messages count), an image folder's
its file, an array file's its index in the arrays (``x_test`` when the file has a test split, else ``x_train``).
The test split is the first part of ``prepare``'s seeded order (``core.portable.steps.prepare``; a test below
checks the two agree)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.datasets.folder import scan_images
from core.datasets.spec import DataSpec
from core.portable.frames import read_csv_rows


def test_indices(count: int, seed: int, test_fraction: float) -> list[int]:
    """The raw samples ``prepare`` puts in the test split when the source has none of its own, in its order."""
    # deferred: imports torch; the editor describes data without it
    import torch

    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return [int(i) for i in order[: round(count * test_fraction)]]


def _places(spec: DataSpec, count: int) -> list[str]:
    """Each raw sample's place: a table's row number, a folder's file, else its index."""
    if spec.kind == "tabular":  # pandas' rows, numbered as the table's messages number them
        return [str(i + 2) for i in range(count)]
    if spec.kind == "csv":  # csv_samples' rows: blank ones skipped
        numbers = [
            str(n)
            for n, row in enumerate(read_csv_rows(str(Path(spec.paths[0]).expanduser()))[1:], start=2)
            if any(map(str.strip, row))
        ]
        if len(numbers) == count:
            return numbers
    if spec.kind == "folder":
        files = [str(file) for file, _ in scan_images(Path(spec.paths[0]).expanduser())[0]]
        if len(files) == count:
            return files
    return [str(i) for i in range(count)]


def test_rows(spec: DataSpec, count: int, own_test: int | None, seed: int, test_fraction: float) -> list[str] | None:
    """The place of every test sample, in the test split's order (``count`` raw samples; ``own_test`` samples in
    the source's own test split, None when it has none); None where it cannot be told (a few-shot subset has
    dropped samples before the split). Asked when a run writes its predictions, not at every load."""
    if spec.keep_classes or spec.per_class:
        return None
    if own_test is not None:
        return [str(i) for i in range(own_test)]
    places = _places(spec, count)
    return [places[i] for i in test_indices(count, seed, test_fraction)]


def rows_later(spec: DataSpec, raw: tuple[Any, ...], seed: int, test_fraction: float) -> Callable[[], list[str] | None]:
    """``test_rows`` for these raw samples, to be called when needed (a big table's row numbers cost memory)."""
    x, _, x_test, *_ = raw
    return functools.partial(test_rows, spec, len(x), None if x_test is None else len(x_test), seed, test_fraction)
