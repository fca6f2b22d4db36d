"""The data half of the training scripts, shared by the PyTorch and the Keras one: the loaders pasted from
``core.portable`` word for word, the constants they read and ``load_data()``, so both scripts read the same split.

Grey images read whole (an ``.npz`` file, torchvision's MNIST family) get the short loader of
``core.portable.lean``; every other source the general helpers and ``prepare``, pasted with only the steps its
data takes: ``core.portable.steps`` tags those statements as ``core.code.templates`` does (``# [channels]``), and
the app runs the whole function, whose other steps do nothing for that data.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

from core.code.imports import used_names
from core.code.templates import TAG, function_lines, picked
from core.datasets.fit import weights_crop
from core.datasets.info import dataset_info, loaded_shape
from core.datasets.spec import SOURCES, DataSpec
from core.portable import inference, lean, sources, steps
from core.settings import TrainingSettings


def source_lines(function: Any, flags: Mapping[str, bool] | None = None) -> list[str]:
    """A portable function's text as pasted: the statements whose tags hold for ``flags`` (without flags all
    of them), tags dropped."""
    lines = inspect.getsource(function).rstrip("\n").splitlines()
    if flags is not None and any(TAG.search(line) for line in lines):
        return picked(lines, flags)
    return [TAG.sub("", line) for line in lines]


def prepare_flags(spec: DataSpec, s: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> dict[str, bool]:
    """The tags ``prepare``'s steps are pasted by for this data: ``channels``, ``tokens`` (no normalisation of
    token ids), ``fixed`` (a pretrained network's own mean and std)."""
    fixed = isinstance(s.normalization(), (tuple, list))
    return {"channels": changes_channels(spec, s, shape, tokens), "tokens": tokens, "fixed": fixed}


def changes_channels(spec: DataSpec, s: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> bool:
    """Whether ``fit_channels`` may make these grey images RGB or colour ones grey: only images of 1 channel
    going into a [3, H, W] Input or of 3 into a [1, H, W] one; data that cannot be looked at here (it may be
    where the script runs) keeps the step."""
    if tokens or len(shape) != 3 or shape[0] not in (1, 3):
        return False
    info = dataset_info(spec)
    loaded = loaded_shape(info, shape, tuple(s.resize)) if info is not None else None
    return loaded is None or (len(loaded) == 3 and {loaded[0], shape[0]} == {1, 3})


def prepare_helpers(flags: Mapping[str, bool] | None = None) -> list[Any]:
    """``prepare`` and the steps it calls for ``flags`` (``prepare_flags``; None: all of them)."""
    on = {"channels": True, "tokens": False, "fixed": True} if flags is None else flags
    return [
        steps.prepare,
        *([steps.fit_channels] if on["channels"] else []),
        *([steps.statistics] if not on["tokens"] else []),
        *([steps.weights_statistics] if on["fixed"] and not on["tokens"] else []),
    ]


def quoted(text: str) -> str:
    """A double-quoted Python literal for any text (paths), as ruff format writes it."""
    return json.dumps(text)


def loader(
    spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool = False
) -> tuple[list[Any], list[str], list[str]]:
    """The helpers the data needs, constants naming its files, and the lines of ``load_data``, from the
    source's registry entry (tokens: the Input takes int64 token ids, as ``core.datasets.wants_tokens`` decides)."""
    load = SOURCES[spec.kind].script(spec, settings, shape, tokens)
    if load.lines:
        return load.helpers, load.constants, load.lines
    if settings.resize and not tokens:
        crop = weights_crop(settings, tuple(settings.resize))  # pretrained weights' resize-then-centre-crop
        sizes = {"CROP_RESIZE": str(crop[0]), "CROP_SIZE": str(crop[1])} if crop else {}
        lines = body("resized_raw", {"crop": bool(crop)}, {**sizes, "LOAD": load.call})[:-1]  # all but return
        return [*load.helpers, steps.resize_images, *([steps.resize_crop] if crop else [])], load.constants, lines
    return load.helpers, load.constants, [f"raw = {load.call}"]


def helper_constants(constants: list[str], helper_text: str) -> list[str]:
    """The constants, plus those the pasted helpers read."""
    constants, used = list(constants), used_names(helper_text)
    if "IMAGE_SUFFIXES" in used:
        constants.append(f"IMAGE_SUFFIXES = {sources.IMAGE_SUFFIXES!r}".replace("'", '"'))
    if "GREY" in used:
        constants.append(f"GREY = {inference.GREY!r}  # the weights Pillow's convert('L') gives R, G, B")
    if "MAX_CLASSES" in used:
        constants.append(f"MAX_CLASSES = {sources.MAX_CLASSES:_}  # a larger class label is taken for a mistake")
    return constants


def pasted(helpers: list[Any], flags: Mapping[str, bool] | None = None) -> list[str]:
    """Each helper's source, word for word but for the steps ``flags`` leave out, two blank lines before it."""
    lines: list[str] = []
    for helper in helpers:
        lines += ["", "", *source_lines(helper, flags)]
    return lines


def data_lines(helpers: list[Any], load_lines: list[str]) -> list[str]:
    """The pasted loaders and ``load_data()``: the same text in the PyTorch and the Keras script, so both read
    the same split."""
    template = function_lines("data", "prepared_dict", {}, {"prepared_dict": "load_data"})
    at = template.index("    raw = RAW")
    return [*pasted(helpers), "", "", *template[:at], *[f"    {line}" for line in load_lines], *template[at + 1 :]]


def body(name: str, flags: Mapping[str, bool] | None = None, fill: Mapping[str, str] | None = None) -> list[str]:
    """The statements of the template ``core/code/templates/data.py``'s function ``name`` after its docstring,
    unindented: a form of ``load_data``'s body."""
    lines = function_lines("data", name, {} if flags is None else flags, fill)
    end = next(i for i, line in enumerate(lines) if i and line.rstrip().endswith('"""'))
    return [line.removeprefix("    ") for line in lines[end + 1 :]]


GREY_FAMILY = ("MNIST", "FashionMNIST", "KMNIST")  # torchvision's grey 28x28 digits and clothes


def lean_loader(spec: DataSpec, s: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> list[Any] | None:
    """The short split's helpers for grey images read whole (an ``.npz`` file, torchvision's MNIST family):
    no NHWC, token or byte-order branches; None for any other data, which keeps the general helpers."""
    if tokens or s.resize or s.mean or len(shape) != 3 or shape[0] != 1 or spec.keep_classes or spec.per_class:
        return None  # a few-shot spec keeps the general loader, which keeps its classes (keep_classes)
    if spec.kind == "npz":
        # The short split has no colour-to-grey step (prepare has one): it serves arrays known to be grey, and a
        # file that is here but cannot be read (None), which the script then names. A missing file may hold colour
        # where the script runs: it keeps the general loader.
        info = dataset_info(spec.text)
        if info is not None and (not info.sample_shape or info.sample_shape[0] != 1):
            return None
        return [lean.pixels, lean.class_numbers, lean.split]
    if spec.kind == "vision" and spec.name in GREY_FAMILY:
        return [lean.split]
    return None


def lean_load_lines(spec: DataSpec) -> list[str]:
    """``load_data``'s body for the short split: read the arrays, then split them."""
    return body("npz_data") if spec.kind == "npz" else body("vision_data", fill={"DATASET": spec.name})


def script_data_lines(helpers: list[Any], load_lines: list[str], flags: Mapping[str, bool] | None = None) -> list[str]:
    """The pasted helpers (``prepare`` with the steps ``flags`` keep) and ``load_data()``, which gives the six
    splits as a list."""
    return [
        *pasted(helpers, flags),
        "",
        "",
        *function_lines("data", "prepared_data", {}, {"prepared_data": "load_data"})[:2],  # def, docstring
        *[f"    {line}" if line else "" for line in load_lines],
    ]


def general_load_lines(load_lines: list[str]) -> list[str]:
    """``load_data``'s body for every other source: its lines read ``raw``, ``prepare`` splits it."""
    lines = body("prepared_data")
    at = lines.index("raw = RAW")
    return [*lines[:at], *load_lines, *lines[at + 1 :]]
