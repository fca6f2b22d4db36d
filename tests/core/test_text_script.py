"""Review 6, S5 and S16: the text script. S5: a text table with number labels 0-11 sorted them as text, so "10"
was class 2 in the app and the script (a table sorts them as numbers). S16: the pasted ``text_tensors`` said
``import torch  # here, not above`` in a file that imports torch at its top (and ``tokens_of`` imported ``re`` once a
text); ``TEXT_OPTIONS`` held max_vocab 20,000 beside an Embedding of 100 rows, so the CSV grown after the export
stopped the script with ``IndexError: index out of range in self``. The app and the script share these functions
(core.portable.text), so they stay equal."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset
from core.datasets.survey import survey
from core.portable.text import class_names
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.test_text import embedding_project
from tests.core.train_fixtures import assert_script_history_is_the_apps, run_script

SPLITS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
TOPICS = ("sport", "music", "food", "rain", "money", "cars", "books", "space", "games", "films", "birds", "ships")


def _topics(path: Path, rows: int = 240) -> Path:
    """A CSV of short texts with number labels 0-11, each label's texts about a topic of its own."""
    lines = ["text,label"] + [f"a note on {TOPICS[i % 12]} number {i % 7},{i % 12}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_whole_number_labels_are_classes_in_number_order(tmp_path: Path) -> None:
    """Fails before: the classes were ['0', '1', '10', '11', '2', ...], label 10 class 2."""
    spec = f"text:{_topics(tmp_path / 'topics.csv')}?column=text&label=label&max_length=8"
    data = load_dataset(spec, input_dtype="int64", val_fraction=0.2)
    assert data.class_names == [str(k) for k in range(12)]
    encoded = {tuple(x.tolist()): int(y) for x, y in zip(data.x_train, data.y_train, strict=True)}
    assert encoded[tuple(data.extra["vocab"].encode("a note on films number 2"))] == 9  # row 9: label 9
    assert [c.name for c in survey(spec).classes] == data.class_names  # `torchcanvas data` says the same order
    assert json.loads(data.extra["run_files"]["vocab.json"])["classes"] == data.class_names  # the run keeps it
    module, _ = run_as_module(generate_script(embedding_project(spec, 8, 64, 12)).source)
    for name, mine in zip(SPLITS, module.load_data()[:6], strict=True):  # then vocab.json's content
        assert torch.equal(mine, getattr(data, name)), name


def test_class_names_order() -> None:
    assert class_names(["10", "2", "-1", "2"]) == ["-1", "2", "10"]
    assert class_names(["7", "007", "10"]) == ["007", "7", "10"]  # the same number: the text decides, every time
    assert class_names(["10", "2", "b", "a"]) == ["10", "2", "a", "b"]  # not all numbers: as text
    assert class_names(["1.5", "10", "2"]) == ["1.5", "10", "2"]  # not whole numbers: as text
    assert class_names(["pos", "neg"]) == ["neg", "pos"]


def _imports_in_functions(source: str, names: tuple[str, ...]) -> list[str]:
    tree = ast.parse(source)
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            found += [f"{node.name}: {ast.unparse(n)}" for n in ast.walk(node) if isinstance(n, ast.Import)]
    return found


def test_the_text_script_imports_at_its_top(tmp_path: Path) -> None:
    """Fails before: ``import torch  # here, not above: ...`` in text_tensors (and next_char_tensors), whose file
    imports torch on line 7, and ``import re`` in tokens_of."""
    spec = f"text:{_topics(tmp_path / 'topics.csv')}?column=text&label=label&max_length=8"
    nxt = tmp_path / "book.txt"
    nxt.write_text("the cat sat on the mat and the dog sat on the log. " * 20, encoding="utf-8")
    for dataset, classes in ((spec, 12), (f"text:{nxt}?task=next&max_length=10", 30)):
        source = generate_script(embedding_project(dataset, 8 if classes == 12 else 10, 64, classes)).source
        assert "here, not above" not in source
        assert _imports_in_functions(source, ("tokens_of", "text_tensors", "next_char_tensors")) == []
        assert source.count("import torch\n") == 1


def _grown(path: Path, words: int) -> None:
    """The CSV after the export: as many new words again, which the Embedding has no rows for."""
    extra = [f"fresh{k} word{k} here,{k % 12}" for k in range(words)]
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(extra) + "\n", encoding="utf-8")


def test_the_vocabulary_is_sized_to_the_embedding(tmp_path: Path) -> None:
    """Fails before: MAX_VOCAB (then TEXT_OPTIONS' max_vocab) stayed 20,000, and the grown file's token ids went
    past the Embedding's 64 rows (the script stopped with IndexError: index out of range in self)."""
    path = _topics(tmp_path / "topics.csv")
    project = embedding_project(f"text:{path}?column=text&label=label&max_length=8", 8, 64, 12)
    source = generate_script(project).source
    assert "MAX_VOCAB = 64  # the Embedding's rows (num_embeddings)" in source
    _grown(path, 300)
    module, _ = run_as_module(source)
    x_train, y_train = module.load_data()[:2]
    assert int(x_train.max()) < 64 and int(x_train.max()) > 30  # sized, not emptied
    module.Net()(x_train)  # looked up: no IndexError
    bigger = embedding_project(f"text:{path}?column=text&label=label&max_length=8&max_vocab=40", 8, 64, 12)
    assert "MAX_VOCAB = 40  # the most frequent" in generate_script(bigger).source  # the spec's, when smaller


@pytest.mark.slow  # trains in a subprocess
def test_the_text_script_gives_the_app_numbers(tmp_path: Path) -> None:
    """Run as its own process (CPU), the script's per-epoch losses are the app's within 1e-6 on number labels."""
    spec = f"text:{_topics(tmp_path / 'topics.csv')}?column=text&label=label&max_length=8"
    project = embedding_project(spec, 8, 64, 12, hidden=16, epochs=2)
    done = run_script(tmp_path / "run", generate_script(project).source)
    assert done.returncode == 0, done.stdout + done.stderr
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    assert_script_history_is_the_apps(tmp_path / "run", app.history, 2)


@pytest.mark.slow  # runs the script and ruff in subprocesses
def test_the_grown_file_trains_and_every_text_script_passes_ruff(tmp_path: Path) -> None:
    path = _topics(tmp_path / "topics.csv")
    project = embedding_project(f"text:{path}?column=text&label=label&max_length=8", 8, 64, 12, epochs=1)
    source = generate_script(project).source
    _grown(path, 300)
    done = run_script(tmp_path / "run", source)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    (tmp_path / "lint").mkdir()
    (tmp_path / "lint" / "table.py").write_text(source)
    book = tmp_path / "book.txt"
    book.write_text("the cat sat on the mat and the dog sat on the log. " * 20, encoding="utf-8")
    nxt = generate_script(embedding_project(f"text:{book}?task=next&max_length=10", 10, 64, 30)).source
    (tmp_path / "lint" / "next.py").write_text(nxt)
    for args in (("check",), ("format", "--check", "--diff")):
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", str(tmp_path / "lint")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
