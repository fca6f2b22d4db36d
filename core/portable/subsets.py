"""Few-shot subsets (``SPEC:classes=5-9,per_class=20``), pasted verbatim into exported
scripts (core/portable): the app and the script keep the same samples. ``few_shot``
works on the four tensors any loader gives, so a script with the short ``.npz``
loader (core.portable.lean) pastes it alone; ``keep_classes`` is the app's call."""

from __future__ import annotations

import torch


def keep_classes(
    raw: tuple, classes: list, per_class: int, seed: int, where: str
) -> tuple:
    """``few_shot`` of a source's five arrays, the names of the kept classes with
    them; no classes keeps every class the names or the labels count."""
    x, y, x_test, y_test, names = raw
    if y.is_floating_point():
        raise ValueError(
            f"{where}: classes= and per_class= pick classes, but the labels are "
            "numbers to predict (regression)"
        )
    wanted = list(classes) or list(range(max(len(names), int(y.max()) + 1)))
    x, y, x_test, y_test = few_shot(
        x, y, x_test, y_test, wanted, per_class, seed, where
    )
    names = [names[c] if c < len(names) else str(c) for c in wanted]
    return x, y, x_test, y_test, names


def few_shot(x, y, x_test, y_test, classes, per_class, seed, where) -> tuple:
    """Only the samples of ``classes`` (all when empty), numbered 0, 1, ... in that
    order, and ``per_class`` samples of each (0: all) drawn with the seed, before
    the split; a test split of the source keeps every sample of those classes."""
    classes = list(classes) or list(range(int(y.max()) + 1))
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for c in classes:
        found = (y == c).nonzero().flatten()
        if not len(found):
            raise ValueError(
                f"{where}: there is no class {c}; the classes are numbered 0 to "
                f"{int(y.max())}"
            )
        if len(found) < per_class:
            raise ValueError(
                f"{where}: class {c} has {len(found)} samples, fewer than the "
                f"{per_class} to keep of each class"
            )
        if per_class:
            found = found[torch.randperm(len(found), generator=generator)[:per_class]]
        rows.append(found)
    keep = torch.cat(rows).sort().values
    number = torch.full((int(y.max()) + 1,), -1)  # each kept class's new number
    number[torch.tensor(classes)] = torch.arange(len(classes))
    if x_test is not None and y_test is not None:
        test = torch.isin(y_test, torch.tensor(classes))
        x_test, y_test = x_test[test], number[y_test[test]]
    return x[keep], number[y[keep]], x_test, y_test
