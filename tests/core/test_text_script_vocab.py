"""Review 6, S1: a text project's script threw away what preprocessing learned. ``load_data`` sliced the vocabulary
off (``text_tensors(...)[:5]``, ``next_char_tensors(...)[:5]  # [5]: the vocabulary``) and with it the class names,
so the ``model_weights.pt`` it saved could not be used on a new sentence: nothing on disk said which id a word had or
what output 0 meant, while the app's run folder keeps ``vocab.json``. Now ``load_data`` gives the splits and then
vocab.json's content, and ``main`` saves it beside the weights in the app's own format (the same bytes), says so in
its last line, and predict.py (or the app, ``read_vocab``) reads it. Sources without a vocabulary are unchanged."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from core.code.keras_script import generate_keras_script
from core.code.notebook import steps
from core.code.predict_script import PredictFacts, generate_predict
from core.code.script import generate_script
from core.datasets import load_dataset
from core.datasets.text import read_vocab
from core.files.project import Project
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.test_text import embedding_project
from tests.core.test_text_script import _topics
from tests.core.train_fixtures import example


def _with(project: Project, **training: object) -> Project:
    return replace(project, training=replace(project.training, **training))


def _vocab_text(vocab: dict) -> str:
    """What the script's main writes (the same call)."""
    return json.dumps(vocab, ensure_ascii=False, indent=1) + "\n"


def _cases(tmp_path: Path) -> dict[str, tuple[Project, str]]:
    """A labelled text file, a CSV's columns with number labels, a folder per class kept few-shot, a book's next
    character; each with its spec."""
    lines = [
        f"{'pos' if i % 2 else 'neg'}\t{'good great fine' if i % 2 else 'bad awful poor'} day {i % 9} é"
        for i in range(60)
    ]
    (tmp_path / "reviews.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("neg", "pos", "meh"):
        (tmp_path / "texts" / name).mkdir(parents=True)
        for i in range(8):
            (tmp_path / "texts" / name / f"{i}.txt").write_text(f"{name} words number {i} here", encoding="utf-8")
    (tmp_path / "book.txt").write_text("the cat sat on the mat and the dog sat on the log. " * 20, encoding="utf-8")
    specs = {
        "file": (f"text:{tmp_path / 'reviews.txt'}?max_length=6", 6, 2),
        "columns": (f"text:{_topics(tmp_path / 'topics.csv')}?column=text&label=label&max_length=8", 8, 12),
        "few_shot": (f"text:{tmp_path / 'texts'}?max_length=6:classes=2+0,per_class=3", 6, 2),
        "next_char": (f"text:{tmp_path / 'book.txt'}?task=next&max_length=10", 10, 30),
    }
    cases = {}
    for name, (spec, length, classes) in specs.items():
        project = embedding_project(spec, length, 64, classes, val_fraction=0.2, test_fraction=0.2)
        cases[name] = (project, spec)
    return cases


@pytest.mark.parametrize("name", ["file", "columns", "few_shot", "next_char"])
def test_load_data_gives_the_apps_vocab_json_after_the_splits(tmp_path: Path, name: str) -> None:
    """Fails before: load_data gave the six splits alone (``[:5]`` dropped the vocabulary and the class names)."""
    project, spec = _cases(tmp_path)[name]
    module, _ = run_as_module(generate_script(project).source)
    *splits, vocab = module.load_data()
    s = project.training
    data = load_dataset(
        spec, val_fraction=s.val_fraction, test_fraction=s.test_fraction, seed=s.seed, input_dtype="int64"
    )
    assert len(splits) == 6
    assert _vocab_text(vocab) == data.extra["run_files"]["vocab.json"]  # the bytes the run folder gets
    assert vocab["classes"] == data.class_names


def test_the_script_saves_it_beside_the_weights_and_says_so(tmp_path: Path) -> None:
    project, _ = _cases(tmp_path)["columns"]
    for source in (generate_script(project).source, generate_script(_with(project, distributed=True)).source):
        assert "*data, vocab = load_data()  # the splits, then the vocabulary" in source
        assert 'Path("vocab.json").write_text(' in source
        assert 'print(f"Saved model_weights.pt, vocab.json and history.json in {Path.cwd()}")' in source
        assert "[:5]" not in source and "raw = raw" not in source
    keras = generate_keras_script(project)
    assert "*data, vocab = load_data()" in keras and 'Path("vocab.json").write_text(' in keras
    notebook = {step.title: "\n".join(step.code) for step in steps(project)}
    assert "*data, vocab = load_data()" in notebook["Data"] and 'Path("vocab.json")' in notebook["Saving"]


def test_scripts_without_a_vocabulary_are_unchanged() -> None:
    for source in (generate_script(example("digits_mlp")).source, generate_keras_script(example("digits_mlp"))):
        assert "vocab" not in source and "data = load_data()" in source
        assert "Saved model_weights.pt and history.json" in source or "keras" in source


def _run(folder: Path, name: str, source: str, *args: str) -> str:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source, encoding="utf-8")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "torch"}
    done = subprocess.run(
        [sys.executable, name, *args], cwd=folder, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow  # trains in a subprocess and in the app
def test_the_saved_vocabulary_classifies_a_new_sentence(tmp_path: Path) -> None:
    """The script's run folder: its losses are the app's, its vocab.json is the app's run folder's byte for byte,
    and predict.py written from it takes a new sentence to a class name with the script's weights."""
    project, _ = _cases(tmp_path)["columns"]
    project = _with(project, epochs=2)
    folder = tmp_path / "script"
    output = _run(folder, "train.py", generate_script(project).source)
    assert re.search(r"Saved model_weights.pt, vocab.json and history.json in ", output), output
    app = Trainer(project, out_dir=tmp_path / "runs").run()
    assert app.status == "finished" and app.run_dir is not None, app.message
    mine = (Path(app.run_dir) / "vocab.json").read_bytes()
    assert (folder / "vocab.json").read_bytes() == mine
    history = json.loads((folder / "history.json").read_text())
    for theirs, ours in zip(history, app.history, strict=True):
        for key in ("loss", "val_loss"):
            assert abs(theirs[key] - ours[key]) <= 1e-6, (key, theirs, ours)
    assert read_vocab(folder) == read_vocab(app.run_dir)  # the app reads it as its own
    predict = generate_predict(project, PredictFacts.of_run(project, folder))
    said = _run(folder, "predict.py", predict, "a note on films number 2")
    assert re.fullmatch(r"(\d+) \(probability [\d.]+\)\n", said) and said.split()[0] in read_vocab(folder).classes


@pytest.mark.slow  # Keras trains in a subprocess
def test_the_keras_text_script_saves_it_too(tmp_path: Path) -> None:
    project, _ = _cases(tmp_path)["file"]
    _run(tmp_path / "keras", "train_keras.py", generate_keras_script(_with(project, epochs=1)))
    s = project.training
    data = load_dataset(s.dataset, val_fraction=0.2, test_fraction=0.2, seed=s.seed, input_dtype="int64")
    assert (tmp_path / "keras" / "vocab.json").read_text(encoding="utf-8") == data.extra["run_files"]["vocab.json"]


def test_every_export_of_a_text_passes_ruff(tmp_path: Path) -> None:
    from core.code.notebook import notebook_text
    from tests.core.test_regression_script import _ruff_clean

    out = tmp_path / "exports"
    out.mkdir()
    for name, (project, _) in _cases(tmp_path).items():
        (out / f"{name}.py").write_text(generate_script(project).source)
        (out / f"{name}_distributed.py").write_text(generate_script(_with(project, distributed=True)).source)
        (out / f"{name}_keras.py").write_text(generate_keras_script(project))
        (out / f"{name}.ipynb").write_text(notebook_text(project))
    _ruff_clean(out)
