"""The functions of the prediction script (``predict.py``), as it contains them.

``core.code.predict_script`` pastes them with the lines this project's data takes:
``# [image]`` or ``# [text]`` (how one input becomes a batch of one), ``# [grey]``
(files made grey as the training images were), ``# [crop]`` (pretrained weights'
resize-then-centre-crop), ``# [normalize]`` (the training split's mean and std), and
how outputs become probabilities (``# [softmax]``, ``# [nll]``: the network ends in
log_softmax, ``# [single]``: one output, ``# [sigmoid]``: its logit). The steps are
the app's Try it steps (``core.portable.inference``; an image file is resized with
Pillow, as the training read its image files), so predict.py and Try it give the same
probabilities for the same file or sentence.

Nothing outside the functions is copied: the names below stand for what the script
binds itself (its constants, ``Net``, the helpers pasted from ``core.portable``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core.portable.images import convert_image, fit_image
from core.portable.text import encode

WEIGHTS_FILE = "model_weights.pt"
VOCAB_FILE = "vocab.json"
CLASSES: list[str] = []
INPUT_SHAPE: list[int] = []
IMAGE_SIZE: tuple[int, int] = (28, 28)
CROP: tuple[int, int] = (256, 224)
MEAN: list[float] = []
STD: list[float] = []
COLUMNS: dict[str, list[str]] = {}
WORDS = "the a"
CHARACTERS = "ab"
TOKENIZER = "word"
MAX_LENGTH = 50
Net = nn.Module


def load_model() -> nn.Module:
    """The network with the weights train.py saved, ready to predict (eval mode:
    dropout off, batch norm with its running statistics)."""
    model = Net()
    try:
        state = torch.load(WEIGHTS_FILE, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise SystemExit(
            f"{WEIGHTS_FILE} is not in this folder: run train.py first (it saves "
            "the weights there), or export them from TorchCanvas under that name."
        ) from None
    except Exception as exc:  # cut short, or not weights: a sentence, no traceback
        raise SystemExit(
            f"{WEIGHTS_FILE} is damaged or not a weights file: run train.py again."
        ) from exc
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as exc:
        raise SystemExit(
            f"{WEIGHTS_FILE} holds the weights of another network, not of this Net: "
            "run train.py again, or export predict.py again from the trained project."
        ) from exc
    return model.eval()


def read_image(path: str) -> torch.Tensor:
    """The picture in ``path`` as the training reads an image file: Pillow's
    colour mode and resize (``fit_image``), divided by 255; then normalised with
    the training split's mean and std."""
    try:
        with Image.open(path) as opened:
            image = convert_image(opened, "L")  # [grey]
            image = convert_image(opened, "RGB")  # [!grey]
            image = fit_image(image, IMAGE_SIZE, CROP)  # [crop]
            image = fit_image(image, IMAGE_SIZE)  # [!crop]
    except Exception as exc:  # not a picture, no such file: a sentence, no traceback
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SystemExit(f"{path} could not be read as an image ({reason}).") from exc
    x = torch.tensor(np.asarray(image, dtype=np.float32) / 255.0)
    x = x[None]  # [grey]
    x = x.permute(2, 0, 1)  # [!grey]
    mean = torch.tensor(MEAN).reshape(-1, 1, 1)  # [normalize]
    std = torch.tensor(STD).reshape(-1, 1, 1)  # [normalize]
    x = (x - mean) / std  # [normalize]
    return x.reshape(1, *INPUT_SHAPE)


def read_text(text: str) -> torch.Tensor:
    """The text as token ids of the training's vocabulary (1 for a token it never
    saw), cut or padded to the length the network reads."""
    index = {token: k for k, token in enumerate(vocabulary())}
    ids = encode(text, index, TOKENIZER, MAX_LENGTH)
    if not any(ids):
        raise SystemExit("The text is empty: give a sentence to classify.")
    return torch.tensor(ids).reshape(1, *INPUT_SHAPE)


def read_row(pairs: list[str]) -> torch.Tensor:
    """A row given as NAME=VALUE pairs, encoded as the training encoded the table:
    a number as it is, a category one-hot over its values in the file; then
    standardised with the training rows' mean and std."""
    row = dict(pair.partition("=")[::2] for pair in pairs)
    missing = [name for name in COLUMNS if not row.get(name, "").strip()]
    if missing:
        raise SystemExit(
            f"Give every column as NAME=VALUE; missing: {', '.join(missing)}."
        )
    features = []
    for name, levels in COLUMNS.items():
        value = row[name].strip()
        if levels and value not in levels:
            raise SystemExit(f"{name}={value}: it takes {', '.join(levels)}.")
        if levels:
            features += [float(value == level) for level in levels]
            continue
        try:
            features.append(float(value))
        except ValueError:
            raise SystemExit(f"{name}={value}: {name} takes a number.") from None
    x = torch.tensor([features])
    x = (x - torch.tensor(MEAN)) / torch.tensor(STD)  # [normalize]
    return x.reshape(1, *INPUT_SHAPE)


def vocabulary() -> list[str]:
    """The tokens training gave ids to, in id order (0 is padding, 1 a token it
    never saw): those of vocab.json, which train.py saves beside the weights, else
    the training texts' when predict.py was written (its constants)."""
    try:
        saved = json.loads(Path(VOCAB_FILE).read_text(encoding="utf-8"))
        return [str(token) for token in saved["tokens"]]
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"{VOCAB_FILE} is damaged: run train.py again.") from exc
    tokens = WORDS.split()  # [word]
    tokens = list(CHARACTERS)  # [!word]
    return ["<pad>", "<unk>", *tokens]


def probabilities(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The probability of each class for one input."""
    with torch.no_grad():
        outputs = model(x).float().reshape(-1)
    probs = F.softmax(outputs, dim=0)  # [softmax]
    probs = outputs.exp()  # [nll]
    one = outputs.sigmoid().clamp(0.0, 1.0)  # [single sigmoid]
    one = outputs.clamp(0.0, 1.0)  # [single !sigmoid]
    probs = torch.cat([1 - one, one])  # [single]
    return probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("image", help="an image file (PNG, JPEG, ...)")  # [image]
    parser.add_argument("text", nargs="+", help="the text to classify")  # [text]
    parser.add_argument("row", nargs="+", help="NAME=VALUE for each column")  # [table]
    args = parser.parse_args()
    model = load_model()
    x = read_image(args.image)  # [image]
    x = read_text(" ".join(args.text))  # [text]
    x = read_row(args.row)  # [table]
    probs = probabilities(model, x)
    best = int(probs.argmax())
    print(f"{CLASSES[best]} (probability {float(probs[best]):.6f})")
