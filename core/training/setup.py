"""Turning settings into torch objects: the device, the loss, the generated script run as a module, and the
weights a run starts from.

The optimizer and the scheduler come from the script itself (``make_optimizer``, ``make_scheduler``)."""

from __future__ import annotations

import itertools
import linecache
import os
import types
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.code.script_transfer import initial_file
from core.errors import ExportError, TrainingError
from core.files.weights import load_weights

_counter = itertools.count(1)


def resolve_device(requested: str) -> tuple[torch.device, str]:
    """The device to train on and, when the request cannot be met, a notice saying what happened instead."""
    if requested in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda"), ""
    if requested in ("auto", "mps") and torch.backends.mps.is_available():
        return torch.device("mps"), ""
    if requested in ("cuda", "mps"):
        what = "CUDA GPU" if requested == "cuda" else "Apple GPU (MPS)"
        return torch.device("cpu"), f"No {what} is available here, so training runs on the CPU instead."
    return torch.device("cpu"), ""


def exec_source(source: str, label: str = "script") -> tuple[dict[str, Any], str]:
    """Run generated source as a module and register it with linecache (as torch.fx does), so a
    traceback from inside the model shows the real generated line."""
    module, filename = run_as_module(source, label)
    return vars(module), filename


def run_as_module(source: str, label: str = "script") -> tuple[types.ModuleType, str]:
    """The generated source run as a module, as ``import train`` would give it: the trainer calls
    ``script.train_one_epoch`` like any reader of the exported file (its traceback lines: see exec_source)."""
    filename = f"<torchcanvas-{label}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(f"torchcanvas_{label}")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), vars(module))
    return module, filename


def make_loss(name: str) -> nn.Module:
    return getattr(nn, name)()


def start_weights(
    model: nn.Module,
    script: types.ModuleType | None,
    initial: str,
    imported: str | os.PathLike[str] | None,
    missing: str | None,
) -> str:
    """Load the weights training starts from into ``model``; returns what to tell the user ("" for fresh ones).

    ``initial`` (the initial weights setting, a file) goes through the script's own ``start_from``, as the
    exported script loads it: matched by name and shape, the rest stays new. Else ``imported`` (an imported
    project's own weights while fine-tuning), matched the same way. ``missing``: the project names imported
    weights that are not beside it: a notice, or a refusal when the script freezes layers (they would stay random,
    as the exported script refuses them)."""
    if initial:
        loaded, new = start_by_name(model, script, initial, "the initial weights")
        return f"Initial weights {Path(initial).name}: {_loaded_words(script, loaded, new)}"
    if imported is not None:
        # Matched by name and shape as the initial weights are: after a new head (fc 1000 -> 10 outputs) the
        # imported file no longer fits whole, and the user's next step is exactly that change.
        loaded, new = start_by_name(model, script, imported, "the imported weights")
        # not "fine-tuning": an import without a weights file saved only the constructor's random values (D)
        return (
            f"Starting from the imported network's weights {Path(imported).name} (without a weights file at "
            f"import, its random starting values): {_loaded_words(script, loaded, new)}"
        )
    frozen = getattr(script, "FROZEN", None)
    if missing is not None and frozen:  # frozen random layers would learn nothing
        raise TrainingError(
            f"Fine-tuning is on and {', '.join(frozen)} are frozen, but the initial weights {missing} are "
            "not beside the project file: the frozen layers would keep random values. Put the file beside the "
            "project, or train from scratch (torchcanvas train --from-scratch, or unfreeze those layers)."
        )
    if missing is not None:
        return (
            f"Fine-tuning is on, but the initial weights {missing} are not beside the project file: "
            "this run starts from fresh random weights."
        )
    return ""


def initial_weights_problems(setting: str) -> list[str]:
    """What keeps the initial weights from loading, in the words training refuses them with, so ``check`` says
    it too (tester's F5: check said OK, train refused after loading the data); [] when they read or are unset."""
    if not setting:
        return []
    try:
        load_weights(Path(initial_file(setting)))
    except ExportError as exc:
        return [f"Cannot start from the initial weights: {exc}"]
    return []


def start_by_name(
    model: nn.Module, script: types.ModuleType | None, path: str | os.PathLike[str], what: str, load: bool = True
) -> tuple[list[str], list[str]]:
    """The file's tensors whose name and shape fit (the script's ``start_from`` where it has one); a file of
    which nothing fits is refused: training on would start from random weights while the user believes not.
    ``load=False`` (no script) only matches: the window's preview builds the network on the meta device, shapes
    without values, so that it never draws from the random numbers a run is seeding meanwhile."""
    try:
        state = load_weights(Path(path))
    except ExportError as exc:
        raise TrainingError(f"Cannot start from {what}: {exc}") from None
    start_from = getattr(script, "start_from", None) if script is not None else None
    if start_from is not None:
        loaded, new = start_from(model, state)
    else:
        own = model.state_dict()
        fits = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
        if load:
            model.load_state_dict(fits, strict=False)
        loaded, new = list(fits), [k for k in own if k not in fits]
    if not loaded and state:
        raise TrainingError(
            f"None of the {len(state)} tensors in {Path(path).name} fit this network (no name and shape in "
            f"common, for example {next(iter(state))!r}): {what} were made for another network. Choose weights "
            "saved from this network, or clear them to train from fresh weights."
        )
    return loaded, new


def new_listing(new: list[str]) -> str:
    """The names left new, the first six: 'fc.weight, fc.bias' or '... and 4 more'."""
    return ", ".join(new[:6]) + (f" and {len(new) - 6} more" if len(new) > 6 else "")


def _loaded_words(script: types.ModuleType | None, loaded: list[str], new: list[str]) -> str:
    """'8 tensors loaded, 2 new (fc3.weight, fc3.bias).', and a warning when a frozen layer starts fresh (it
    would stay random: frozen layers never learn)."""
    words = f"{len(loaded)} tensors loaded, {len(new)} new" + (f" ({new_listing(new)})." if new else ".")
    frozen = tuple(getattr(script, "FROZEN", ()))
    stuck = sorted({k.rsplit(".", 1)[0] for k in new if any(k.startswith(f + ".") for f in frozen)})
    if stuck:
        words += (
            f" Warning: {', '.join(stuck[:4])} {'is' if len(stuck) == 1 else 'are'} frozen but not in the file, so "
            "will stay at random weights: unfreeze them or choose weights that hold them."
        )
    return words
