"""Few-shot subsets (``SPEC:classes=5-9,per_class=20``), pasted verbatim into exported
scripts (core/portable): the app and the script keep the same samples."""

from __future__ import annotations

import torch


def keep_classes(
    raw: tuple, classes: list, per_class: int, seed: int, where: str
) -> tuple:
    """A few-shot subset: the samples of ``classes`` only (all when empty), numbered
    0, 1, ... in that order, and ``per_class`` samples of each (0: all) drawn with
    the seed, before the split; a test split of the source keeps every sample of
    the kept classes."""
    x, y, x_test, y_test, names = raw
    if y.is_floating_point():
        raise ValueError(
            f"{where}: classes= and per_class= pick classes, but the labels are "
            "numbers to predict (regression)"
        )
    count = max(len(names), int(y.max()) + 1 if len(y) else 0)
    wanted = list(classes) or list(range(count))
    outside = [c for c in wanted if not 0 <= c < count]
    if outside:
        raise ValueError(
            f"{where}: there is no class {outside[0]}; the classes are numbered 0 "
            f"to {count - 1}"
        )
    generator = torch.Generator().manual_seed(seed)
    renumber = torch.full((count,), -1, dtype=torch.int64)
    renumber[torch.tensor(wanted)] = torch.arange(len(wanted))

    def rows_of(labels: torch.Tensor, limit: int) -> torch.Tensor:
        rows = []
        for c in wanted:
            found = (labels == c).nonzero().flatten()
            if limit and len(found) < limit:
                name = names[c] if c < len(names) else c
                raise ValueError(
                    f"{where}: class {name} has {len(found)} samples, fewer than "
                    f"per_class={limit}"
                )
            if limit:
                found = found[torch.randperm(len(found), generator=generator)[:limit]]
            rows.append(found)
        return torch.cat(rows).sort().values

    keep = rows_of(y, per_class)
    x, y = x[keep], renumber[y[keep]]
    if x_test is not None and y_test is not None:
        keep = rows_of(y_test, 0)
        x_test, y_test = x_test[keep], renumber[y_test[keep]]
    names = [names[c] if c < len(names) else str(c) for c in wanted]
    return x, y, x_test, y_test, names
