"""Weights a model ties (nanoGPT's ``self.transformer.wte.weight = self.lm_head.weight``): one tensor under two
names. A drawing gives every layer weights of its own, so the import keeps both keys, loads the same values into
both (the outputs are the same) and says in a note what differs: the parameter count, and that training moves
the two apart."""

from __future__ import annotations

from torch import nn


def tied_note(module: nn.Module, kept: set[str]) -> str | None:
    """The note for the model's tied parameters among the keys ``kept`` (those the drawing holds), or None."""
    names: dict[int, list[str]] = {}
    for name, parameter in module.named_parameters(remove_duplicate=False):
        if name in kept:
            names.setdefault(id(parameter), []).append(name)
    groups = [sorted(group) for group in names.values() if len(group) > 1]
    if not groups:
        return None
    shared = dict(module.named_parameters(remove_duplicate=False))
    extra = sum(shared[group[0]].numel() * (len(group) - 1) for group in groups)
    listing = "; ".join(" and ".join(f"`{n}`" for n in group) for group in groups)
    return (
        f"{listing} are one tensor in {type(module).__name__} (tied weights); the drawing holds "
        f"{'them' if len(groups) == 1 and len(groups[0]) == 2 else 'each'} as layers of their own that start "
        f"equal, so it gives the same outputs but counts {extra:,} parameters more, and training changes them "
        "separately."
    )
