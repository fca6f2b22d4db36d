"""Text sources (``text:PATH``): a vocabulary from the training split with padding and unknown tokens, kept with the
run as vocab.json so Try it (``Vocabulary.encode``) and the exported script tokenise as the run did."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset, parse_spec
from core.datasets.info import dataset_info
from core.datasets.survey import survey
from core.datasets.text import read_vocab
from core.errors import DataError
from core.files.project import Project
from core.files.text_examples import write_next_char, write_sentiment
from core.model.analysis import analyze
from core.model.graph import Graph
from core.settings import TrainingSettings
from core.training import Trainer
from core.training.setup import run_as_module


def embedding_project(spec: str, length: int, vocab: int, classes: int, hidden: int = 0, **training: object) -> Project:
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=[length], dtype="int64")]
    nodes.append(graph.add("Embedding", "embed", num_embeddings=vocab, embedding_dim=16))
    nodes.append(graph.add("Flatten", "flatten"))
    if hidden:
        nodes += [graph.add("Linear", "hidden", out_features=hidden), graph.add("ReLU", "relu")]
    nodes.append(graph.add("Linear", "fc", out_features=classes))
    nodes.append(graph.add("Output", "out"))
    graph.chain(nodes)
    values = {"dataset": spec, "device": "cpu", "epochs": 2, "batch_size": 32, "val_fraction": 0.2, **training}
    settings = TrainingSettings(**values)  # type: ignore[arg-type]
    settings.validate()
    return Project(graph, "Text", "", settings)


def _lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_vocabulary_comes_from_the_training_split(tmp_path: Path) -> None:
    """Each sample holds a word of its own: only the training rows' words get ids, the others are unknown (1)."""
    path = _lines(tmp_path / "t.txt", [f"{'ab'[i % 2]}\tthe word{i} here" for i in range(40)])
    data = load_dataset(f"text:{path}?max_length=5", input_dtype="int64", val_fraction=0.2, test_fraction=0.1)
    vocab = data.extra["vocab"]
    assert vocab.tokens[:2] == ("<pad>", "<unk>") and vocab.tokens[2:4] == ("here", "the")
    assert len(vocab.tokens) == 4 + data.count("train")  # pad, unk, here, the, one word per training sample
    assert data.input_shape == (5,) and data.input_dtype == "int64"
    assert torch.all(data.x_train[:, 1] >= 4) and torch.all(data.x_val[:, 1] == 1) and torch.all(data.x_test[:, 1] == 1)
    assert torch.all(data.x_train[:, 3:] == 0)  # padded
    assert vocab.encode("THE here, unseen") == [3, 2, 1, 1, 0]  # lower case, punctuation apart, cut to 5


def test_a_folder_of_text_files_per_class_and_the_char_tokenizer(tmp_path: Path) -> None:
    for label, words in (("ham", "hello friend"), ("spam", "win money now")):
        (tmp_path / "mail" / label).mkdir(parents=True)
        for k in range(6):
            (tmp_path / "mail" / label / f"{k}.txt").write_text(f"{words} {k}\n", encoding="utf-8")
    data = load_dataset(f"text:{tmp_path / 'mail'}?tokenizer=char&max_length=8", input_dtype="int64")
    assert data.class_names == ["ham", "spam"] and data.input_shape == (8,)
    assert data.extra["vocab"].tokenizer == "char"


def test_the_run_folder_keeps_the_vocabulary_and_try_it_encodes_like_the_run(tmp_path: Path) -> None:
    spec = write_sentiment(tmp_path, samples=200)
    project = embedding_project(spec, 50, 64, 2, epochs=1)
    result = Trainer(project, out_dir=tmp_path / "runs").run()
    assert result.status == "finished", result.message
    vocab = read_vocab(result.run_dir)
    assert vocab is not None and vocab.tokens[:2] == ("<pad>", "<unk>") and vocab.max_length == 50
    data = load_dataset(spec, input_dtype="int64", val_fraction=0.2)
    assert vocab == data.extra["vocab"]
    text = (tmp_path / "sentiment.txt").read_text().splitlines()[0].split("\t")[1]
    assert vocab.encode(text) in data.x_train.tolist() + data.x_val.tolist() + data.x_test.tolist()


def test_the_exported_script_tokenises_identically(tmp_path: Path) -> None:
    spec = write_sentiment(tmp_path, samples=120)
    module, _ = run_as_module(generate_script(embedding_project(spec, 50, 64, 2)).source)
    splits = module.load_data()
    data = load_dataset(spec, input_dtype="int64", val_fraction=0.2)
    for mine, theirs in zip(splits, (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test)):
        assert torch.equal(mine, theirs)


def test_next_character_windows(tmp_path: Path) -> None:
    spec = write_next_char(tmp_path, sentences=50)
    assert spec.endswith("?task=next&max_length=40")
    data = load_dataset(spec, input_dtype="int64", val_fraction=0.2)
    text = (tmp_path / "next_char.txt").read_text()
    chars = data.extra["vocab"].tokens
    assert data.input_shape == (40,) and data.num_classes == len(chars) == len(set(text)) + 2
    window, label = data.x_train[0].tolist(), int(data.y_train[0])
    decoded = "".join(chars[i] for i in window) + chars[label]
    assert decoded in text
    module, _ = run_as_module(generate_script(embedding_project(spec, 40, len(chars), len(chars))).source)
    assert torch.equal(module.load_data()[0], data.x_train)


def test_specs_read_back_and_check_knows_the_shape(tmp_path: Path) -> None:
    path = _lines(tmp_path / "t.txt", [f"{'ab'[i % 2]}\tsome words {i}" for i in range(20)])
    for text in (f"text:{path}", f"text:{path}?tokenizer=char&max_length=90", f"text:{path}?task=next&max_vocab=50"):
        assert parse_spec(text).text == text
    info = dataset_info(f"text:{path}")
    assert info is not None and info.sample_shape == (50,) and info.dtypes == ("int64",) and info.num_classes == 2
    assert info.vocab_size == 2 + 2 + 20  # pad, unknown, "some", "words" and each number: an upper bound
    project = embedding_project(f"text:{path}", 50, 10, 2)
    problems = [p.message for p in analyze(project.graph, project.training).problems]
    assert any("embed has 10 rows (num_embeddings)" in p for p in problems), problems


def test_text_survey_lengths_and_classes(tmp_path: Path) -> None:
    path = _lines(tmp_path / "t.txt", ["pos\tone two three", "neg\tone", "pos\tone two three four five six"])
    found = survey(f"text:{path}?max_length=4")
    assert found.source == "text" and [(c.name, c.count) for c in found.classes] == [("neg", 1), ("pos", 2)]
    assert found.notes == ("Samples are 1 to 6 words long (median 3).", "max_length=4 cuts 1 of 3 samples short.")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"pos\tgood\nno tab here\n", r"t.txt, row 2: no label and tab before the text"),
        (b"pos\tgood\nneg\tcaf\xe9\n", r"t.txt, row 2: the file is not UTF-8 text \(byte 0xe9\)"),
        (b"pos\tgood\npos\tfine\npos\tok\n", r"t.txt: only one class \('pos'\); a classifier needs at least two"),
    ],
)
def test_bad_text_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_dataset(f"text:{path}", input_dtype="int64")


@pytest.mark.slow
def test_the_sentiment_example_learns_negation(tmp_path: Path) -> None:
    spec = write_sentiment(tmp_path, samples=600) + "?max_length=12"
    result = Trainer(embedding_project(spec, 12, 64, 2, hidden=64, epochs=20, lr=0.003), save=False).run()
    assert result.status == "finished" and result.test_accuracy is not None and result.test_accuracy > 0.9


def test_a_table_s_text_column(tmp_path: Path) -> None:
    """A CSV text column: the table's survey points at the text spec, which reads it like a text file."""
    thing, word, label = ("food", "room"), ("bad", "great"), ("neg", "pos")
    lines = ["id,review,sentiment"]
    lines += [f'{i},"the {thing[i % 2]} was {word[(i // 2) % 2]}, really",{label[(i // 2) % 2]}' for i in range(60)]
    path = _lines(tmp_path / "reviews.csv", lines)
    found = survey(f"table:{path}?text=review&ignore=id")
    spec = f"text:{path}?column=review&label=sentiment"
    assert found.problems[0].endswith(f"read it as text: {spec}")
    assert parse_spec(spec).text == spec
    data = load_dataset(spec, input_dtype="int64", val_fraction=0.2)
    assert data.class_names == ["neg", "pos"] and data.extra["vocab"].encode("The ROOM was great")[:4] != [1, 1, 1, 1]
    module, _ = run_as_module(generate_script(embedding_project(spec, 50, 64, 2)).source)
    assert torch.equal(module.load_data()[0], data.x_train)


@pytest.mark.slow  # six ruff processes: about a second
def test_text_scripts_pass_ruff(tmp_path: Path) -> None:
    import subprocess
    import sys

    sentiment, letters = write_sentiment(tmp_path, samples=40), write_next_char(tmp_path, sentences=40)
    table = _lines(tmp_path / "t.csv", ["text,label"] + [f"some words {i},{i % 2}" for i in range(20)])
    for k, spec in enumerate((sentiment, letters, f"text:{table}?column=text&label=label")):
        script = tmp_path / f"train{k}.py"
        script.write_text(generate_script(embedding_project(spec, 40, 64, 2)).source)
        for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
            done = subprocess.run([sys.executable, "-m", "ruff", *args, str(script)], capture_output=True, text=True)
            assert done.returncode == 0, (spec, done.stdout + done.stderr)
