"""What the Try it tab runs, apart from its widgets: the test split and shapes of the run shown (``TrySource``),
the run's network rebuilt from the project's generated code with the run folder's weights (``build``), one sample's
class probabilities through ``core.portable.inference`` (``probabilities``; ``gui.widgets.background`` runs it in a
thread for a big network so the window never waits), and the tab's words for a kind of data (``how_to``), a test
sample without a picture (``describe``) and a class (``class_name``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.spec import parse_spec
from core.datasets.tabular import checked_plan, read_frame
from core.datasets.text import read_vocab
from gui.widgets.images import is_image, visible_name, vocabulary_of

log = logging.getLogger(__name__)

MAX_FEATURES = 32  # a table with more columns is tried with its test samples only


@dataclass
class TrySource:
    """What trying a run needs: its network, weights folder and loss, and the test split with the training's
    normalisation (mean and std of its training split) and shapes. Only tensor references: nothing is copied."""

    project: Any
    run_dir: Path
    loss: str
    x_test: Any  # normalised and shaped for the network, as the trainer evaluated it
    y_test: Any
    mean: Any
    std: Any
    sample_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    class_names: list[str]
    regression: bool
    kind: str  # "image", "points", "table", "text" (a token sequence: typed) or "samples" (test samples only)
    vocabulary: Any = None  # the run's tokenizer vocabulary (``encode``/``decode``), when its data has one
    vocab_size: int | None = None  # token ids run from 0 to vocab_size - 1
    crop: tuple[int, int] | None = None  # (resize_size, crop_size): how the training brought its images to the Input

    @property
    def next_token(self) -> bool:
        """A next-character run: its classes are its vocabulary's characters, and it predicts what follows."""
        tokens = getattr(self.vocabulary, "tokens", None)
        return getattr(self.vocabulary, "tokenizer", None) == "char" and list(tokens or ()) == self.class_names

    @classmethod
    def of_run(cls, project: Any, run_dir: str | Path, data: Any) -> TrySource | None:
        if data is None or getattr(data, "x_test", None) is None or not len(data.x_test):
            return None
        sample_shape = tuple(data.sample_shape or data.input_shape)
        floats = bool(data.x_test.is_floating_point())
        if floats and is_image(sample_shape) and len(sample_shape) == 3 and sample_shape[0] in (1, 3):
            kind = "image"
        elif floats and data.is_2d:
            kind = "points"
        elif floats and len(sample_shape) == 1 and sample_shape[0] <= MAX_FEATURES:
            kind = "table"
        elif not floats and len(sample_shape) == 1:
            kind = "text"
        else:
            kind = "samples"
        vocabulary = _run_vocabulary(run_dir) or vocabulary_of(data)
        class_names, y_test = _in_run_order(vocabulary, list(data.class_names), data.y_test)
        return cls(
            project,
            Path(run_dir),
            project.training.loss,
            data.x_test,
            y_test,
            data.mean,
            data.std,
            sample_shape,
            tuple(data.input_shape),
            class_names,
            data.task == "regression",
            kind,
            vocabulary,
            getattr(data, "vocab_size", None),
            _crop_of(data) if kind == "image" else None,
        )

    def raw_sample(self, index: int) -> np.ndarray:
        """Test sample ``index`` as the data source gave it (un-normalised, in its own shape)."""
        x = self.x_test[index : index + 1].detach().cpu()
        if self.kind in ("samples", "text"):
            return x[0].numpy()
        x = x.reshape(1, *self.sample_shape).float()
        if self.mean is not None and self.std is not None:
            x = x * self.std.cpu() + self.mean.cpu()
        return x[0].numpy()

    def new_image(self, picture: np.ndarray) -> np.ndarray:
        """A drawing or an image file ([C, H, W], in [0, 1]) as the training made its images: for weights whose
        own preprocessing is resize-then-centre-crop, the short side to resize_size and the centre square (it was
        squashed straight to the Input, unlike the training's images); then it is predicted as a test sample is.
        Test samples never come here: they are cropped already."""
        if self.crop is None:
            return picture
        from core.portable.inference import preprocess  # deferred for start-up: it imports torch

        fitted = preprocess(picture, None, None, self.sample_shape, self.image_size, self.layout, self.crop)
        return fitted[0].numpy()

    def image_file(self, path: str) -> np.ndarray:
        """An image file as the training read its image files ([C, H, W] at the Input size): Pillow's colour mode
        and resize, or the weights' crop (``core.portable.inference.read_image_file``); ``new_image`` resizes with
        torch, whose pixels differ from Pillow's by up to ~0.09 (review 7, T3), so a file never goes there."""
        from core.portable.inference import read_image_file  # deferred for start-up: it imports torch

        return read_image_file(path, self.sample_shape[-2:], self.sample_shape[0], self.crop)

    @property
    def layout(self) -> str | None:
        """Every image Try it predicts is [C, H, W] (test samples, and pad or file pictures once turned)."""
        return "chw" if self.kind == "image" else None

    @property
    def image_size(self) -> tuple[int, int] | None:
        return tuple(self.sample_shape[-2:]) if self.kind == "image" else None  # type: ignore[return-value]


def _crop_of(data: Any) -> tuple[int, int] | None:
    """The (resize_size, crop_size) the loader recorded for images that feed torchvision weights, else None."""
    crop = getattr(data, "extra", {}).get("crop")
    return (int(crop[0]), int(crop[1])) if crop else None


def _in_run_order(vocabulary: Any, class_names: list[str], y_test: Any) -> tuple[list[str], Any]:
    """The class names as the run's outputs are numbered, and the test labels renumbered to them: a text run
    saved before whole-number labels were sorted by value learned "10" as class 2."""
    run_classes = getattr(vocabulary, "run_classes", None)
    names = run_classes(class_names) if run_classes is not None else class_names
    if names == class_names or sorted(names) != sorted(class_names) or y_test is None:
        return class_names, y_test
    import torch  # deferred for start-up: only a run being tried gets here

    where = torch.tensor([names.index(name) for name in class_names], dtype=torch.int64)
    return names, where[y_test.long()]


def _run_vocabulary(run_dir: str | Path) -> Any:
    """The vocabulary the run saved (``vocab.json``): what its network learned the token ids of."""
    return read_vocab(run_dir)


def probabilities(model: Any, source: TrySource, sample: np.ndarray) -> np.ndarray:
    """The class probabilities (or, for regression, the predicted values) of one sample, through the training's
    own preprocessing (``core.portable.inference``); a test sample of another kind is fed as the trainer held it."""
    # deferred for start-up: torch and core.portable.inference (which imports it) load when a run is tried
    import torch

    from core.portable import inference

    if source.kind in ("samples", "text"):  # token ids or normalised samples: nothing to prepare again
        mean = std = None
    else:
        mean, std = source.mean, source.std
    layout = source.layout
    if source.regression:
        with torch.no_grad():
            model.eval()
            x = inference.preprocess(sample, mean, std, source.input_shape, source.image_size, layout)
            return model(x).float().reshape(-1).numpy()
    probs = inference.predict(model, sample, mean, std, source.input_shape, source.loss, source.image_size, layout)
    return probs.detach().cpu().numpy()


def network_input(source: TrySource, sample: np.ndarray) -> Any:
    """One sample as the network takes it (no batch dimension), through the same preprocessing as
    ``probabilities``: what "why this prediction" explains."""
    from core.portable import inference  # deferred for start-up: it imports torch

    plain = source.kind in ("samples", "text")  # token ids or normalised samples: nothing to prepare again
    mean, std = (None, None) if plain else (source.mean, source.std)
    return inference.preprocess(sample, mean, std, source.input_shape, source.image_size, source.layout)[0]


def feature_names(dataset: str, width: int) -> list[str]:
    """The user's names for a table's ``width`` encoded features ("feat_a", "feat_a missing", "colour = red"), or
    "feature N" where the data names none (a built-in set) or the file no longer gives ``width`` features."""
    names: list[str] = []
    try:
        spec = parse_spec(dataset)
        if spec.kind == "tabular":
            frame = read_frame(spec.paths[0])
            names = encoded_names(frame, checked_plan(spec, frame)[0].feature_kinds())
    except Exception:  # only labels: the numbers are the data's own either way
        log.debug("no column names for %s", dataset, exc_info=True)
    return names if len(names) == width else [f"feature {k + 1}" for k in range(width)]


def encoded_names(frame: Any, kinds: dict[str, str]) -> list[str]:
    """A name per column of ``core.portable.frames.feature_matrix``, in its order: a number, then "NAME missing"
    when a cell is empty; a category one-hot over its sorted values ("missing" for an empty cell)."""
    import pandas as pd  # deferred for start-up: an idle window has no pandas

    names: list[str] = []
    for name, kind in kinds.items():
        column = frame[name]
        if kind == "number":
            names.append(name)
            if np.isnan(pd.to_numeric(column, errors="coerce").to_numpy("float64")).any():
                names.append(f"{name} missing")
        elif kind == "category":
            keys = column.astype(str).where(column.notna(), "missing")
            names += [f"{name} = {level}" for level in pd.factorize(keys, sort=True)[1]]
    return names


def weights_bytes(run_dir: Path) -> int:
    """The size of the run's weights file (0 when there is none yet: building then says what is wrong)."""
    for name in ("last.pt", "best.pt"):
        try:
            return (run_dir / name).stat().st_size
        except OSError:
            continue
    return 0


def build(source: TrySource) -> tuple[Any, float]:
    """The run's network from the project's generated code with the run folder's last.pt (best.pt when last.pt is
    torn), in eval mode on the CPU, and its forward time in ms."""
    from core.files.built_model import build_model  # deferred for start-up: it imports torch

    built = build_model(source.project, source.run_dir)
    built.module.cpu().eval()
    return built, forward_ms(built.module, source)


def forward_ms(model: Any, source: TrySource, tries: int = 3) -> float:
    """The fastest of a few predictions of test sample 0, in ms, after one untimed call (a CNN's first call sets
    up for ~0.2 s); the fastest, because a busy machine makes single timings of a 0.5 ms pass read 100 ms."""
    sample = source.raw_sample(0)
    probabilities(model, source, sample)
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        probabilities(model, source, sample)
        times.append(1000 * (time.perf_counter() - started))
    return min(times)


def how_to(kind: str) -> str:
    return {
        "image": "Draw on the black square (right-click clears), drop an image file, or pick a test sample.",
        "points": "Click anywhere on the plot, or pick a test sample.",
        "table": "Edit the feature values, or pick a test sample.",
        "text": "Type in the box (the network's prediction follows each key), or pick a test sample.",
        "samples": "Pick a test sample.",
    }[kind]


def encode_typed(text: str, source: TrySource) -> np.ndarray:
    """What was typed as the network's token ids: through the run's tokenizer (``encode``) when its data has one,
    else token ids written as whole numbers; padded with 0 or cut to the sequence length. ValueError in plain
    words for a token that is no id of this vocabulary."""
    length = int(np.prod(source.input_shape))
    encode = getattr(source.vocabulary, "encode", None)
    if callable(encode) and source.next_token:  # the window before the token to predict: the text's end
        tokens = getattr(source.vocabulary, "tokens", ())
        index = {token: k for k, token in enumerate(tokens)}
        ids = [index.get(char, 1) for char in text[-length:]]
        return np.array([0] * (length - len(ids)) + ids, dtype=np.int64)
    if callable(encode):
        ids = [int(v) for v in np.asarray(encode(text)).reshape(-1)]
    else:
        ids = []
        for word in text.replace(",", " ").split():
            if not word.isdigit():
                raise ValueError(
                    f"{word!r} is not a token id: this run's data has no vocabulary, so type token ids (whole "
                    "numbers such as 3 1 7), or pick a test sample"
                )
            ids.append(int(word))
    top = source.vocab_size
    bad = [v for v in ids if v < 0 or (top is not None and v >= top)]
    if bad:
        raise ValueError(f"token {bad[0]} is not in the vocabulary: token ids run from 0 to {(top or 1) - 1}")
    cut = ids[:length]
    return np.array(cut + [0] * (length - len(cut)), dtype=np.int64)


def describe(sample: np.ndarray, index: int) -> str:
    """A test sample that has no picture: its token ids, or its shape and first values."""
    values = np.asarray(sample).reshape(-1)
    if values.dtype.kind in "iu":
        head = " ".join(str(int(v)) for v in values[:40])
        return f"Test sample {index}: token ids {head}{' …' if len(values) > 40 else ''}"
    head = ", ".join(f"{float(v):.3g}" for v in values[:12]) + (" …" if len(values) > 12 else "")
    return f"Test sample {index} (shape {list(np.shape(sample))}, as the network gets it): {head}"


def class_name(names: list[str], index: int) -> str:
    return visible_name(names[index]) if 0 <= index < len(names) else str(index)
