"""Review 6, S12: a next-character text (``text:book.txt?task=next``) cut windows overlapping by all but one
character and then ``prepare`` split the windows at random, so every validation and test window's characters were
inputs of the training windows beside it: val_accuracy and test accuracy measured how well the network knew this
text. Now the text is split by position (the last TEST_FRACTION of its characters the test text, the VAL_FRACTION
before it the validation text) and the windows are cut from each part, in the app and the exported script alike
(``core.portable.text.next_char_tensors``). The silent cap ``(len(text) - length) // 100_000`` is ``MAX_WINDOWS``."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import core.portable.text as portable_text
from core.code.script import generate_script
from core.datasets import load_dataset
from core.datasets.survey import survey
from core.errors import DataError
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.test_regression_script import _ruff_clean
from tests.core.test_text import embedding_project

SPLITS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
WINDOW = 10


def _distinct(path: Path, chars: int = 400) -> Path:
    """A text whose every character is different: a character's id names its position."""
    path.write_text("".join(chr(0x4E00 + k) for k in range(chars)), encoding="utf-8")
    return path


def _book(path: Path) -> Path:
    path.write_text("the cat sat on the mat and the dog sat on the log. " * 20, encoding="utf-8")
    return path


def _positions(data: object, split: str, vocab: list[str]) -> set[int]:
    """The text positions of every character a split's windows read or predict (the text is _distinct's)."""
    x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
    ids = torch.cat([x.reshape(-1), y.reshape(-1)]).tolist()
    return {ord(vocab[i]) - 0x4E00 for i in ids}


def test_no_held_out_window_shares_a_character_with_a_training_window(tmp_path: Path) -> None:
    """Fails before: the windows were split at random, so the validation and test windows' characters were
    (nearly all) characters of training windows too."""
    spec = f"text:{_distinct(tmp_path / 'distinct.txt')}?task=next&max_length={WINDOW}"
    data = load_dataset(spec, input_dtype="int64", val_fraction=0.2, test_fraction=0.1, seed=3)
    vocab = list(data.extra["vocab"].tokens)
    train, val, test = (_positions(data, split, vocab) for split in ("train", "val", "test"))
    assert not train & val and not train & test and not val & test
    assert max(train) < min(val) and max(val) < min(test)  # the text's parts in order: the test text is its end
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (280 - WINDOW, 80 - WINDOW, 40 - WINDOW)
    sizes = survey(spec, val_fraction=0.2, test_fraction=0.1).splits  # the wizard says the counts it gives
    assert (sizes.train, sizes.val, sizes.test) == (270, 70, 30)


def test_the_cap_is_named_and_applied_and_the_script_passes_ruff(tmp_path: Path, monkeypatch) -> None:
    """Fails before: ``step = max(1, (len(text) - length) // 100_000)`` with no name; a smaller cap changed nothing."""
    book = _book(tmp_path / "book.txt")
    source = generate_script(embedding_project(f"text:{book}?task=next&max_length={WINDOW}", WINDOW, 64, 30)).source
    assert "MAX_WINDOWS = 100_000  # every step-th window of a longer text" in source
    assert "// MAX_WINDOWS" in source and "100_000)" not in source
    assert "prepare(" not in source and "INPUT_SHAPE" not in source  # no random split, nothing it would not run
    (tmp_path / "lint").mkdir()
    (tmp_path / "lint" / "next.py").write_text(source)
    _ruff_clean(tmp_path / "lint")
    monkeypatch.setattr(portable_text, "MAX_WINDOWS", 100)  # 1,020 characters: every 10th window
    data = load_dataset(f"text:{book}?task=next&max_length={WINDOW}", input_dtype="int64", val_fraction=0.2)
    kept = sum(data.count(split) for split in ("train", "val", "test"))
    assert 90 <= kept <= 100


def test_an_input_of_another_shape_is_refused_in_words(tmp_path: Path) -> None:
    """The windows are given as the text cut them (no prepare reshapes them): an Input of [1, 10] is named with the
    fix. Fails before: prepare reshaped the windows to [1, 10] in silence."""
    spec = f"text:{_book(tmp_path / 'book.txt')}?task=next&max_length={WINDOW}"
    with pytest.raises(DataError, match=r"book.txt are 10 characters but the Input node expects \[1, 10\]; set the"):
        load_dataset(spec, input_dtype="int64", input_shape=(1, WINDOW))
    with pytest.raises(DataError, match=r"classes= and per_class= keep samples of some classes; .* leave them out"):
        load_dataset(f"{spec}:classes=2+3", input_dtype="int64")


def _project(spec: str, **training: object):
    project = embedding_project(spec, WINDOW, 64, 30, val_fraction=0.2, test_fraction=0.2)
    return replace(project, training=replace(project.training, **training))


def test_the_app_and_the_script_give_the_same_splits(tmp_path: Path) -> None:
    """Fails before: both split the windows at random (the same way), so the validation windows were these."""
    spec = f"text:{_book(tmp_path / 'book.txt')}?task=next&max_length={WINDOW}"
    project = _project(spec)
    module, _ = run_as_module(generate_script(project).source)
    *splits, vocab = module.load_data()
    s = project.training
    data = load_dataset(spec, val_fraction=0.2, test_fraction=0.2, seed=s.seed, input_dtype="int64")
    for name, mine in zip(SPLITS, splits, strict=True):
        assert torch.equal(mine, getattr(data, name)), name
    text = (tmp_path / "book.txt").read_text(encoding="utf-8")
    held_out = "".join(vocab["tokens"][i] for i in data.x_val[0].tolist())
    assert held_out == text[len(text) - 2 * 204 : len(text) - 2 * 204 + WINDOW]  # the validation text's start
    assert json.dumps(vocab, ensure_ascii=False, indent=1) + "\n" == data.extra["run_files"]["vocab.json"]


@pytest.mark.slow  # trains in a subprocess and in the app
def test_the_next_char_script_gives_the_app_losses(tmp_path: Path) -> None:
    """Run as its own process (CPU), the script's per-epoch losses are the app's within 1e-6, on held-out text."""
    spec = f"text:{_book(tmp_path / 'book.txt')}?task=next&max_length={WINDOW}"
    project = _project(spec, epochs=2)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "train.py").write_text(generate_script(project).source)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    script = json.loads((folder / "history.json").read_text())
    assert len(script) == len(app.history) == 2
    for mine, theirs in zip(app.history, script, strict=True):
        for key in ("loss", "val_loss"):
            assert not math.isnan(mine[key]) and abs(mine[key] - theirs[key]) <= 1e-6, (key, mine, theirs)
    data = load_dataset(spec, val_fraction=0.2, test_fraction=0.2, input_dtype="int64")
    assert data.count("val") == data.count("test") == 204 - WINDOW  # the windows of the text's last 2 x 20 %
