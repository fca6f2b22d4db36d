"""The prediction script (``predict.py``): the trained network on one new image or sentence.

``python predict.py INPUT`` prints the class and its probability. It holds the model class (``Net``, the
training script's), loads the weights the training script saves (``model_weights.pt``), and brings the input to
the network by the one path this project's data takes, with the numbers training computed written in as
constants: an image file gets the training images' channels, size and crop, the training split's mean and std; a
sentence the run's vocabulary. Those steps are the app's Try it steps (``core.portable.inference``), pasted from
``core.portable`` or kept in ``core/code/templates/predict.py`` (real, linted Python, its lines tagged), so the
script and Try it give the same probabilities.

The numbers come from ``PredictFacts.of_run``: the dataset loaded as training loads it (the split is seeded, so
the mean and std are the run's), and the run folder's ``vocab.json`` when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.code.codegen import check_ok, literal, model_lines
from core.code.imports import module_imports, used_imports
from core.code.line_wrap import LINE_LENGTH, call_lines
from core.code.script import SCRIPT_IMPORTS, input_dtype_of, input_shape_of
from core.code.script_data import helper_constants, pasted, python_literal, quoted
from core.code.templates import function_lines
from core.datasets.spec import parse_spec
from core.errors import DataError, ExportError
from core.model.analysis import analyze
from core.model.names import module_level_names
from core.portable import images, text

if TYPE_CHECKING:
    from core.files.project import Project

WEIGHTS_FILE = "model_weights.pt"  # what the training script saves
PREDICT_IMPORTS = ("import argparse", "from PIL import Image", *SCRIPT_IMPORTS)
FUNCTIONS = ("load_model", "read_image", "read_row", "vocabulary", "read_text", "probabilities", "main")
ONLY = {"read_image": "image", "read_row": "table", "vocabulary": "text", "read_text": "text"}  # the data they read


@dataclass(frozen=True)
class PredictFacts:
    """What prediction needs from training: the classes, how an input is brought to the network, the loss."""

    kind: str  # "image", "table" or "text"
    classes: list[str]
    input_shape: tuple[int, ...]
    loss: str
    outputs: int  # the network's outputs per sample: one, for a single-output binary classifier
    image_size: tuple[int, int] = (0, 0)
    channels: int = 3
    crop: tuple[int, int] | None = None
    mean: list[float] | None = None  # per channel; None: the training did not normalise
    std: list[float] | None = None
    columns: dict[str, list[str]] | None = None  # a table's feature columns: [] a number, else a category's values
    tokens: tuple[str, ...] = ()
    tokenizer: str = "word"
    max_length: int = 0

    @classmethod
    def of_run(cls, project: Project, run_dir: Path | None = None) -> PredictFacts:
        """The facts of ``project``'s data, loaded as training loads it; the run folder's vocabulary first."""
        from core.datasets import load_for_settings  # deferred: loading imports torch
        from core.datasets.text import read_vocab

        shape = input_shape_of(project)
        try:
            data = load_for_settings(project.training, shape, input_dtype=input_dtype_of(project))
        except DataError as exc:
            raise ExportError(
                "Cannot export the prediction script: it takes the class names (and an image's mean and std, a "
                f"text's vocabulary) from the training data, which could not be loaded: {exc}"
            ) from None
        analysis = analyze(project.graph, project.training)
        check_ok(analysis)
        outputs = _outputs(analysis.output_shapes(project.graph))
        common: dict[str, Any] = {
            "classes": [str(c) for c in data.class_names],
            "input_shape": shape,
            "loss": project.training.loss,
        }
        if data.task != "classification":
            raise ExportError(
                "predict.py is written for classifiers: this project predicts numbers (a regression); "
                "use Try it in the app for a single value."
            )
        sample = tuple(int(v) for v in (data.sample_shape or data.input_shape))
        floats = data.x_test is None or bool(data.x_test.is_floating_point())
        if floats and len(sample) == 3 and sample[0] in (1, 3) and min(sample[1:]) >= 4:
            return cls("image", outputs=outputs, **common, **_image_facts(data, sample))
        kind = parse_spec(project.training.dataset).kind
        if kind == "tabular" and floats and len(sample) == 1:
            return cls("table", outputs=outputs, **common, **_table_facts(project, data, sample[0]))
        vocab = (read_vocab(run_dir) if run_dir else None) or data.extra.get("vocab")
        if not floats and vocab is not None and list(vocab.tokens) != list(data.class_names):
            _check_tokens(vocab.tokens, vocab.tokenizer)
            return cls(
                "text",
                outputs=outputs,
                **common,
                tokens=tuple(vocab.tokens),
                tokenizer=vocab.tokenizer,
                max_length=vocab.max_length,
            )
        what = "next-character text" if vocab is not None else f"samples of shape {list(sample)}"
        what = "rows of a table" if kind in ("tabular", "csv") else what
        raise ExportError(
            f"predict.py reads an image file or a sentence; this project's data are {what}: "
            "use Try it in the app to predict one of them."
        )


def _check_tokens(tokens: tuple[str, ...], tokenizer: str) -> None:
    """The vocabulary is what ``core.portable.text.build_vocab`` gives: padding, unknown, then tokens that the
    script's text can hold (a word without a space, one character)."""
    fits = (lambda t: len(t) == 1) if tokenizer == "char" else (lambda t: bool(t) and t.split() == [t])
    if tuple(tokens[:2]) != ("<pad>", "<unk>") or not all(fits(t) for t in tokens[2:]):
        raise ExportError(
            "predict.py cannot write this run's vocabulary (vocab.json): it is not the one training builds; "
            "train the project again, then export."
        )


def _outputs(shapes: list[Any]) -> int:
    """The values the network gives per sample (0 when its Output has no known shape)."""
    count = 0
    for shape in shapes[:1]:
        count = 1
        for size in shape[1:] if shape else (0,):
            count *= int(size or 0)
    return count


def _table_facts(project: Project, data: Any, width: int) -> dict[str, Any]:
    """A table's feature columns as the loader encodes them (``core.portable.table_encoding.feature_matrix``): a
    number as it is, a category one-hot over its sorted values; the training rows' mean and std per feature."""
    from core.datasets.tabular import checked_plan, read_frame  # deferred: pandas

    spec = parse_spec(project.training.dataset)
    frame = read_frame(spec.paths[0])
    columns: dict[str, list[str]] = {}
    for name, kind in checked_plan(spec, frame)[0].feature_kinds().items():
        column = frame[name]
        if kind == "category":
            keys = column.astype(str).where(column.notna(), "missing")
            columns[str(name)] = sorted(str(level) for level in set(keys))
        elif column.isna().any():
            raise ExportError(
                f"predict.py takes a complete row; the column {name} has empty cells, which training fills with "
                "the training rows' median: use Try it in the app for this table."
            )
        else:
            columns[str(name)] = []
    if sum(len(levels) or 1 for levels in columns.values()) != width:
        raise ExportError("predict.py could not match this table's columns with the network's input: use Try it.")
    facts: dict[str, Any] = {"columns": columns}
    if data.mean is not None and data.std is not None:
        facts["mean"] = [float(v) for v in data.mean.reshape(-1).tolist()]
        facts["std"] = [float(v) for v in data.std.reshape(-1).tolist()]
    return facts


def _image_facts(data: Any, sample: tuple[int, ...]) -> dict[str, Any]:
    """How Try it brings a new picture to the network: the training images' channels and size, the crop of
    pretrained weights, the training split's mean and std per channel."""
    facts: dict[str, Any] = {"channels": sample[0], "image_size": (sample[1], sample[2])}
    crop = data.extra.get("crop")
    facts["crop"] = (int(crop[0]), int(crop[1])) if crop else None
    if data.mean is not None and data.std is not None:
        mean, std = data.mean.reshape(-1).tolist(), data.std.reshape(-1).tolist()
        if len(mean) != sample[0] or len(std) != sample[0]:
            raise ExportError(
                f"predict.py normalises a picture per channel; this project's training normalised {len(mean)} "
                "values per sample: use Try it in the app."
            )
        facts["mean"], facts["std"] = [float(v) for v in mean], [float(v) for v in std]
    return facts


def flags_of(facts: PredictFacts) -> dict[str, bool]:
    """The tags of ``templates/predict.py`` this project's lines hold."""
    single = facts.outputs == 1
    return {
        "image": facts.kind == "image",
        "text": facts.kind == "text",
        "table": facts.kind == "table",
        "word": facts.tokenizer != "char",
        "grey": facts.kind == "image" and facts.channels == 1,
        "crop": facts.crop is not None,
        "normalize": facts.mean is not None,
        "softmax": not single and facts.loss != "NLLLoss",
        "nll": not single and facts.loss == "NLLLoss",
        "single": single,
        "sigmoid": facts.loss == "BCEWithLogitsLoss",
    }


def list_lines(name: str, values: list[Any] | tuple[Any, ...], comment: str = "") -> list[str]:
    """``NAME = [...]`` as ruff format writes it: on one line when it fits, else one item a line; the comment
    after it, or above it when the line is full."""
    items = [python_literal(v) for v in values]
    brackets = "()" if isinstance(values, tuple) else "[]"
    lines = call_lines("", f"{name} = ", items, "", brackets)
    if len(lines) == 1 and len(lines[0]) + len(comment) + 4 <= LINE_LENGTH:
        return [f"{lines[0]}  # {comment}" if comment else lines[0]]
    return [*([f"# {comment}"] if comment else []), *lines]


def column_lines(columns: dict[str, list[str]]) -> list[str]:
    """``COLUMNS = {...}``, one column a line: [] for a number, a category's values in one-hot order."""
    lines = ["COLUMNS = {  # each feature column: [] a number, else a category's values (one-hot)"]
    for name, levels in columns.items():
        lines += call_lines("    ", f"{python_literal(name)}: ", [python_literal(v) for v in levels], ",", "[]")
    return [*lines, "}"]


def vocabulary_lines(facts: PredictFacts) -> list[str]:
    """The vocabulary after padding and unknown, in id order: words as one text split at its spaces (a word never
    holds one), characters as one text; wrapped at the line length as implicitly joined texts."""
    words = facts.tokenizer != "char"
    name, joiner = ("WORDS", " ") if words else ("CHARACTERS", "")
    comment = [
        f"# the {'words' if words else 'characters'} of the training texts when predict.py was written, most",
        "# frequent first (ids 2, 3, ...): the vocabulary when there is no vocab.json",
    ]
    chunks: list[str] = []
    for token in facts.tokens[2:]:
        if chunks and len(python_literal(chunks[-1] + joiner + token)) <= LINE_LENGTH - 4:
            chunks[-1] += joiner + token
        else:
            chunks.append(token if not chunks else joiner + token)
    one = f"{name} = {python_literal(''.join(chunks))}"
    if len(chunks) <= 1 and len(one) <= LINE_LENGTH:
        return [*comment, one]
    return [*comment, f"{name} = (", *(f"    {python_literal(c)}" for c in chunks), ")"]


def constants(facts: PredictFacts) -> list[str]:
    lines = [
        f'WEIGHTS_FILE = "{WEIGHTS_FILE}"  # what train.py saves',
        *list_lines("CLASSES", facts.classes, "the class of each output"),
        f"INPUT_SHAPE = {literal(list(facts.input_shape))}  # one sample, without the batch dimension",
    ]
    if facts.kind == "table":
        lines += column_lines(facts.columns or {})
        if facts.mean is not None and facts.std is not None:
            lines += list_lines("MEAN", facts.mean, "the training rows' mean, per feature")
            lines += list_lines("STD", facts.std, "the training rows' standard deviation, per feature")
    elif facts.kind == "image":
        lines.append(f"IMAGE_SIZE = {literal(facts.image_size)}  # (height, width) of the training images")
        if facts.crop is not None:
            lines.append(f"CROP = {literal(facts.crop)}  # the short side resized to [0], the centre [1] kept")
        if facts.mean is not None and facts.std is not None:
            lines += list_lines("MEAN", facts.mean, "the training split's mean, per channel")
            lines += list_lines("STD", facts.std, "the training split's standard deviation, per channel")
    else:
        lines.append('VOCAB_FILE = "vocab.json"  # what train.py saves beside the weights: its vocabulary')
        lines.append(f'TOKENIZER = "{facts.tokenizer}"')
        lines.append(f"MAX_LENGTH = {facts.max_length}  # token ids per text")
        lines += vocabulary_lines(facts)
    return lines


def helpers_of(facts: PredictFacts) -> list[Any]:
    """The functions of ``core.portable`` the script pastes: Try it's own steps."""
    if facts.kind == "table":
        return []
    if facts.kind == "text":
        return [text.tokens_of, text.encode]
    crop = [images.crop_image] if facts.crop else []
    return [images.convert_image, images.fit_image, *crop]


def _docstring(project: Project, facts: PredictFacts) -> list[str]:
    title = quoted(project.name if project.name.isprintable() else "a project")[1:-1]
    usage = {
        "image": "python predict.py IMAGE_FILE",
        "table": "python predict.py " + " ".join([f"{quoted(n)[1:-1]}=..." for n in list(facts.columns or {})[:3]]),
        "text": 'python predict.py "a sentence"',
    }[facts.kind] + (" ..." if len(facts.columns or {}) > 3 else "")
    return [
        f'"""{title}: the trained network on one input, generated by TorchCanvas.',
        "",
        f"    {usage}",
        "",
        f"prints the class and its probability. The weights are {WEIGHTS_FILE},",
        "which train.py saves (or TorchCanvas's Export weights).",
        *(
            [
                "A sentence's token ids come from vocab.json beside them (train.py saves it),",
                "else from the vocabulary written below.",
            ]
            if facts.kind == "text"
            else []
        ),
        '"""',
    ]


def _one_pillow_import(lines: list[str]) -> list[str]:
    """The pasted helpers without their own ``from PIL import Image`` (the app imports Pillow only for image
    folders, and says so): predict.py imports it once, at the top, with its other imports."""
    kept: list[str] = []
    for line in lines:
        if line.strip().startswith("from PIL import Image"):
            continue
        if not line and kept and kept[-1].startswith("    ") and kept[-1].strip().endswith('"""'):
            continue  # the blank line that followed the import, after the docstring
        kept.append(line)
    return kept


def generate_predict(project: Project, facts: PredictFacts) -> str:
    """predict.py's text for ``project`` with the numbers its training computed (``facts``)."""
    flags = flags_of(facts)
    functions: list[str] = []
    for name in FUNCTIONS:
        if not flags[ONLY.get(name, facts.kind)]:
            continue
        functions += ["", "", *function_lines("predict", name, flags)]
    helpers = helpers_of(facts)
    tail = [
        *_one_pillow_import(pasted(helpers, {**flags, "app": False})),
        *functions,
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    code = "\n".join(tail)
    top_constants = helper_constants(constants(facts), code)
    taken = module_level_names("\n".join([*PREDICT_IMPORTS, *top_constants, *tail]))
    analysis = analyze(project.graph)
    body, _ = model_lines(project.graph, analysis, "Net", taken)
    imports = used_imports([*PREDICT_IMPORTS, *module_imports(helpers)], "\n".join(body.lines + tail))
    top = [*_docstring(project, facts), "", *imports, "", *top_constants, "", ""]
    return "\n".join(top + body.lines + tail) + "\n"
