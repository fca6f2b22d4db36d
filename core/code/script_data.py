"""The data half of the training scripts, shared by the PyTorch and the Keras one: the loaders pasted from
``core.portable`` word for word, the constants they read and ``load_data()``, so both scripts read the same split.

Grey images read whole (an ``.npz`` file, torchvision's MNIST family) get the short loader of
``core.portable.lean``; every other source the general helpers and ``prepare``, pasted with only the steps its
data takes: ``core.portable.steps`` tags those statements as ``core.code.templates`` does (``# [channels]``), and
the app runs the whole function, whose other steps do nothing for that data.

Each source's own reading lines are a function of ``core/code/templates/read_*.py``: the source's registry entry
(``core.datasets.spec.ScriptLoad``) names it, the tags it keeps and its values, which go in as Python literals
(``python_literal``), never as pasted text, as do the constants naming its files.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

from core.code.imports import used_names
from core.code.line_wrap import LINE_LENGTH, call_lines
from core.code.templates import TAG, function_lines, picked
from core.datasets.fit import weights_crop
from core.datasets.folder import script_load as folder_script
from core.datasets.info import dataset_info, loaded_shape
from core.datasets.spec import SOURCES, Constant, DataSpec
from core.model.graph import Graph
from core.model.pyparse import parse
from core.portable import inference, lean, sources, steps, subsets
from core.portable.text import MAX_WINDOWS
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
    given_test = spec.kind == "vision"  # torchvision's sets come with their test split
    channels = changes_channels(spec, s, shape, tokens)
    # app: lines only the app runs (a helper's dispatch to another, fields only the app reads), never pasted
    return {"channels": channels, "tokens": tokens, "fixed": fixed, "given_test": given_test, "app": False}


def changes_channels(spec: DataSpec, s: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> bool:
    """Whether ``fit_channels`` may make these grey images RGB or colour ones grey: only images of 1 channel
    going into a [3, H, W] Input or of 3 into a [1, H, W] one; data that cannot be looked at here (it may be
    where the script runs) keeps the step."""
    if tokens or len(shape) != 3 or shape[0] not in (1, 3) or spec.kind == "folder":
        return False  # a folder's pictures are read in the Input's channels (load_image_folder)
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
    spec: DataSpec,
    settings: TrainingSettings,
    shape: tuple[int, ...],
    tokens: bool = False,
    stream: bool = False,
    vocab_rows: int | None = None,
) -> tuple[list[Any], list[str], list[str], dict[str, bool]]:
    """The helpers the data needs, constants naming its files, and the lines of ``load_data`` that read ``raw``:
    the source's template (its registry entry says which, ``core/code/templates/read_*.py``), its images
    resized when the settings ask, then a few-shot spec's classes kept (tokens: the Input takes int64 token ids, as
    ``core.datasets.wants_tokens`` decides); and the tags its helpers are pasted by. ``stream``: the script may read
    a big image folder batch by batch (``core.datasets.folder.streams``), as the PyTorch and Keras scripts do.
    ``vocab_rows``: the network's Embedding rows, which a text's vocabulary is sized to (``sized_vocab``)."""
    load = SOURCES[spec.kind].script(spec, settings, shape, tokens)
    if load.flags.get("stream") and not stream:
        load = folder_script(spec, settings, shape, stream=False)
    helpers, constants = list(load.helpers), [constant_line(sized_vocab(c, vocab_rows)) for c in load.constants]
    lines = read_lines(load.read, load.flags, load.values)
    if load.resizes and settings.resize and not tokens:
        crop = weights_crop(settings, tuple(settings.resize))  # pretrained weights' resize-then-centre-crop
        sizes = {"CROP_RESIZE": str(crop[0]), "CROP_SIZE": str(crop[1])} if crop else {}
        lines = body("resized_raw", {"crop": bool(crop)}, {**sizes, "LOAD": _call(lines, load.read)})[:-1]
        helpers += [steps.resize_images, *([steps.resize_crop] if crop else [])]
    if spec.keep_classes or spec.per_class:  # after the source's lines, as the app keeps them (keep_subset)
        lines += read_lines("read_subset.kept", {}, {"SPEC": spec.text})
        constants.append(constant_line(Constant("CLASSES", list(spec.keep_classes), "the classes kept ([]: all)")))
        constants.append(constant_line(Constant("PER_CLASS", spec.per_class, "samples of each class (0: all)")))
        helpers += [subsets.keep_classes, subsets.few_shot]
    return helpers, constants, lines, load.flags


def embedding_rows(graph: Graph) -> int | None:
    """The rows (num_embeddings) of the network's Embeddings, the fewest when there are several: a token id past
    them cannot be looked up. None without an Embedding."""
    rows = [node.params.get("num_embeddings") for node in graph.nodes_of_type("Embedding")]
    return min((int(r) for r in rows if isinstance(r, int) and not isinstance(r, bool)), default=None)


def sized_vocab(constant: Constant, rows: int | None) -> Constant:
    """A text's ``MAX_VOCAB`` no larger than the Embedding's rows: a file grown after the export then gives its
    rarer words the unknown id 1, where token ids past the rows stopped the script with an IndexError. The app
    refuses such a file before training (``core.model.task_check``), so every vocabulary it trains on fits and
    the script's is the same."""
    if constant.name != "MAX_VOCAB" or rows is None or rows >= int(constant.value):
        return constant
    return Constant("MAX_VOCAB", rows, "the Embedding's rows (num_embeddings); other tokens are 1")


def _call(lines: list[str], read: str) -> str:
    """The call of a template that gives images, to be resized: its one line ``raw = CALL``."""
    if len(lines) != 1 or not lines[0].startswith("raw = "):
        raise ValueError(f"the template {read} gives images to resize: its body must be one line, return CALL")
    return lines[0].removeprefix("raw = ")


def read_lines(read: str, flags: Mapping[str, bool], values: Mapping[str, Any]) -> list[str]:
    """The body of the template function ``read`` ("module.function", in ``core/code/templates``) after its
    docstring, unindented, with the statements ``flags`` keep and ``values`` as Python literals in place of its
    placeholders; its ``return`` becomes ``raw = `` (``return raw``, a body that binds it, is dropped), which
    ``load_data`` splits."""
    module, name = read.split(".")
    lines = function_lines(module, name, None, {key: python_literal(value) for key, value in values.items()})
    at = _docstring_end(lines) + 1
    lines[at:] = [f"    raw = {line[11:]}" if line.startswith("    return ") else line for line in lines[at:]]
    lines = [line for line in lines if line != "    raw = raw"]  # ``return raw``: the body bound it
    lines = picked(lines, flags)
    return [wrapped for line in lines[_docstring_end(lines) + 1 :] for wrapped in _wrapped(line.removeprefix("    "))]


def _docstring_end(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if i and line.rstrip().endswith('"""'))


def _wrapped(line: str) -> list[str]:
    """A line of ``load_data`` that a long value made too long (a few-shot spec naming a long path), wrapped as
    ruff format wraps a call: ``raw = call(...)`` only; any other line as it is."""
    if len(line) + 4 <= LINE_LENGTH or not line.endswith(")"):  # + 4: load_data's indent
        return [line]
    statement = parse(line).body[0]
    call = statement.value if isinstance(statement, ast.Assign) else None
    if not isinstance(call, ast.Call) or ast.get_source_segment(line, statement) != line:  # a comment after it
        return [line]
    items: list[ast.expr | ast.keyword] = sorted([*call.args, *call.keywords], key=lambda item: item.col_offset)
    args = [ast.get_source_segment(line, item) or "" for item in items]
    return [part.removeprefix("    ") for part in call_lines("    ", line[: line.index("(")], args)]


def python_literal(value: Any) -> str:
    """Python source for a value a source names (a path, a column, a number, a tuple or list or dict of them):
    what ``repr`` gives, strings quoted as ruff format quotes them (double quotes unless the text holds more double
    than single quotes), so any text reads back exactly and the script passes ``ruff format --check``."""
    if isinstance(value, str):
        quote = "'" if value.count('"') > value.count("'") else '"'
        body = ("\\" + ch if ch in (quote, "\\") else ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)
        return quote + "".join(body) + quote
    if isinstance(value, tuple):
        items = [python_literal(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(python_literal(item) for item in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, numbers.Integral):  # numpy's too, whose repr would be np.int64(3)
        return repr(int(value))
    if isinstance(value, numbers.Real) and math.isfinite(value):  # inf and nan have no literal
        return repr(float(value))
    raise TypeError(f"no Python literal for a value of type {type(value).__name__}")


def constant_line(constant: Constant) -> str:
    """``NAME = value  # comment``; a spread dict one item a line, the comment after its opening brace. A line
    too long (a path deep in folders) as ruff format writes it: the comment above, a text in parentheses when
    that makes it fit."""
    comment = f"  # {constant.comment}" if constant.comment else ""
    if constant.spread and isinstance(constant.value, dict) and constant.value:
        items = [f"    {python_literal(key)}: {python_literal(value)}," for key, value in constant.value.items()]
        return "\n".join([f"{constant.name} = {{{comment}", *items, "}"])
    value = python_literal(constant.value)
    line = f"{constant.name} = {value}"
    if len(line + comment) <= LINE_LENGTH:
        return line + comment
    above = f"# {constant.comment}\n" if comment else ""
    if isinstance(constant.value, str) and len(line) > LINE_LENGTH >= len(value) + 4:  # as ruff format wraps it
        return f"{above}{constant.name} = (\n    {value}\n)"
    return above + line


def helper_constants(constants: list[str], helper_text: str) -> list[str]:
    """The constants, plus those the pasted helpers read."""
    constants, used = list(constants), used_names(helper_text)
    if "IMAGE_SUFFIXES" in used:
        constants.append(constant_line(Constant("IMAGE_SUFFIXES", sources.IMAGE_SUFFIXES)))
    if "GREY" in used:
        grey = Constant("GREY", inference.GREY, "the weights Pillow's convert('L') gives R, G, B")
        constants.append(constant_line(grey))
    if "MAX_WINDOWS" in used:
        constants.append(f"MAX_WINDOWS = {MAX_WINDOWS:_}  # every step-th window of a longer text")
    if "MAX_CLASSES" in used:
        constants.append(f"MAX_CLASSES = {sources.MAX_CLASSES:_}  # a larger class label is taken for a mistake")
    return constants


def pasted(helpers: list[Any], flags: Mapping[str, bool] | None = None) -> list[str]:
    """Each helper's source, word for word but for the steps ``flags`` leave out, two blank lines before it."""
    lines: list[str] = []
    for helper in helpers:
        lines += ["", "", *source_lines(helper, flags)]
    return lines


def body(name: str, flags: Mapping[str, bool] | None = None, fill: Mapping[str, str] | None = None) -> list[str]:
    """The statements of the template ``core/code/templates/data.py``'s function ``name`` after its docstring,
    unindented: a form of ``load_data``'s body."""
    lines = function_lines("data", name, {} if flags is None else flags, fill)
    return [line.removeprefix("    ") for line in lines[_docstring_end(lines) + 1 :]]


GREY_FAMILY = ("MNIST", "FashionMNIST", "KMNIST")  # torchvision's grey 28x28 digits and clothes


def lean_loader(spec: DataSpec, s: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> list[Any] | None:
    """The short split's helpers for grey images read whole (an ``.npz`` file, torchvision's MNIST family):
    no NHWC, token or byte-order branches; None for any other data, which keeps the general helpers."""
    if tokens or s.resize or s.mean or len(shape) != 3 or shape[0] != 1:
        return None
    subset = [subsets.few_shot] if spec.keep_classes or spec.per_class else []  # on the tensors (lean_load_lines)
    if spec.kind == "npz":
        # The short split has no colour-to-grey step (prepare has one): it serves arrays known to be grey, and a
        # file that is here but cannot be read (None), which the script then names. A missing file may hold colour
        # where the script runs: it keeps the general loader.
        info = dataset_info(spec.text)
        if info is not None and (not info.sample_shape or info.sample_shape[0] != 1):
            return None
        return [lean.pixels, lean.class_numbers, *subset, lean.split]
    if spec.kind == "vision" and spec.name in GREY_FAMILY:
        return [*subset, lean.split]
    return None


def lean_load_lines(spec: DataSpec) -> list[str]:
    """``load_data``'s body for the short split: read the arrays, keep a few-shot spec's samples of them (the
    app's ``few_shot``), then split them."""
    lines = body("npz_data") if spec.kind == "npz" else body("vision_data", fill={"DATASET": spec.name})
    if spec.keep_classes or spec.per_class:
        lines[-1:-1] = read_lines("read_subset.lean_kept", {}, {})
    return lines


class DataHalf(NamedTuple):
    """What a script's data half is made of, chosen once for the PyTorch and the Keras script alike."""

    helpers: list[Any]  # the loaders to paste: the short split's, or the source's and ``prepare`` with its steps
    files: list[str]  # the constants naming the data's files
    load_lines: list[str]  # ``load_data``'s body
    flags: dict[str, bool]  # the tags ``prepare``'s steps are pasted by
    npz: bool  # the short split reads an ``.npz`` file, whose errors ``main`` names


# A big image folder's DataLoader workers, as many as the app's (core.training.loaders.make_loader)
WORKERS = "WORKERS = min(4, (os.cpu_count() or 1) - 1)  # processes decoding pictures for training"


def data_half(
    spec: DataSpec,
    s: TrainingSettings,
    shape: tuple[int, ...],
    tokens: bool,
    stream: bool = False,
    vocab_rows: int | None = None,
) -> DataHalf:
    """The short split of ``core.portable.lean`` for grey images read whole, else the source's own lines read
    ``raw`` and ``prepare`` splits it; an image folder too big for memory (where ``stream`` allows it: both
    scripts) a Dataset per split, its flag ``stream`` on; a next-character text's own lines split it by position
    (flag ``splits``, ``core.portable.text.next_char_tensors``); ``vocab_rows`` sizes a text's vocabulary."""
    helpers, files, load_lines, load_flags = loader(spec, s, shape, tokens, stream, vocab_rows)
    flags = {**load_flags, **prepare_flags(spec, s, shape, tokens)}  # the source's tags hold for its helpers too
    flags.setdefault("stream", False)
    if flags["stream"] or flags.get("splits"):  # load_data is the source's lines, returning the splits: no prepare
        returned = [*load_lines[:-1], load_lines[-1].replace("raw = ", "return ", 1)]
        if flags.get("splits"):  # a next-character text, split by position; its vocabulary after the splits
            flags["vocab"] = saves_vocab(spec)
            return DataHalf(helpers, files, returned, flags, False)
        return DataHalf(helpers, [*files, WORKERS], returned, flags, False)
    short = lean_loader(spec, s, shape, tokens)
    if short is not None:
        return DataHalf(short, files, lean_load_lines(spec), flags, spec.kind == "npz")
    lines = general_load_lines(load_lines, flags)
    if saves_vocab(spec):  # the splits, then vocab.json's content, instead of the splits alone
        flags["vocab"] = True
        lines = [*lines[:-2], *vocab_end_lines(spec)]
    return DataHalf([*helpers, *prepare_helpers(flags)], files, lines, flags, False)


def saves_vocab(spec: DataSpec) -> bool:
    """Whether the scripts save ``vocab.json`` beside the weights, as a run folder keeps it
    (``core.datasets.text.Vocabulary.to_json``): the token ids and class names a new text needs. ``load_data``
    gives it after the splits."""
    return spec.kind == "text"


def vocab_end_lines(spec: DataSpec) -> list[str]:
    """The end of a text's ``load_data`` (``core/code/templates/read_text.py``'s ``vocab_end``): the splits and
    vocab.json's content (a next-character text's ``load_data`` ends with its own: ``data_half``)."""
    lines = function_lines("read_text", "vocab_end", None)
    return [line.removeprefix("    ") for line in lines[_docstring_end(lines) + 1 :]]


def script_data_lines(helpers: list[Any], load_lines: list[str], flags: Mapping[str, bool] | None = None) -> list[str]:
    """The pasted helpers (``prepare`` with the steps ``flags`` keep) and ``load_data()``, which gives the six
    splits as a list (a big image folder's, ``stream``: a Dataset per split)."""
    template = ("read_folder", "images") if flags and flags.get("stream") else ("data", "prepared_data")
    head = function_lines(*template, None, {template[1]: "load_data"})
    head = head[: _docstring_end(head) + 1]  # def, docstring
    if flags and flags.get("vocab"):  # the docstring says what comes after the splits
        end = function_lines("read_text", "vocab_end")
        head = [head[0], *end[1 : _docstring_end(end) + 1]]
    return [
        *pasted(helpers, flags),
        "",
        "",
        *head,
        *[f"    {line}" if line else "" for line in load_lines],
    ]


def general_load_lines(load_lines: list[str], flags: Mapping[str, bool]) -> list[str]:
    """``load_data``'s body for every other source: its lines read ``raw``, ``prepare`` splits it (with the
    arguments ``flags`` keep)."""
    lines = body("prepared_data", flags)
    at = lines.index("raw = RAW")
    return [*lines[:at], *load_lines, *lines[at + 1 :]]
