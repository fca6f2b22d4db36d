"""A text run saved before whole-number labels were sorted by value (3468569) learned "10" as class 2: Try it
reloads the data, whose classes are now in number order, and named that run's outputs with the new order. A run
now keeps its class order in vocab.json; an older one is read in the text order it was trained in."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from core.datasets.text import Vocabulary, read_vocab
from gui.training.tryit_model import _in_run_order

NOW = [str(k) for k in range(12)]  # the data's classes today: 0, 1, 2, ..., 11
THEN = sorted(NOW)  # an older run's: 0, 1, 10, 11, 2, ...


def saved(tmp_path: Path, vocab: Vocabulary) -> Vocabulary:
    (tmp_path / "vocab.json").write_text(vocab.to_json(), encoding="utf-8")
    found = read_vocab(tmp_path)
    assert found is not None
    return found


def test_an_older_text_run_is_tried_in_the_class_order_it_learned(tmp_path: Path):
    old = json.loads(Vocabulary("word", 5, ("<pad>", "<unk>", "a")).to_json())
    (tmp_path / "vocab.json").write_text(json.dumps(old), encoding="utf-8")  # as a run saved it before
    vocabulary = read_vocab(tmp_path)
    y_now = torch.arange(12)
    names, y_run = _in_run_order(vocabulary, NOW, y_now)
    assert names == THEN and names[2] == "10"
    assert [names[k] for k in y_run.tolist()] == [NOW[k] for k in y_now.tolist()]  # each sample keeps its label


def test_a_run_keeps_its_class_order_in_vocab_json(tmp_path: Path):
    vocabulary = saved(tmp_path, Vocabulary("word", 5, ("<pad>", "<unk>", "a"), tuple(NOW)))
    assert vocabulary.classes == tuple(NOW)
    names, y = _in_run_order(vocabulary, NOW, torch.arange(12))
    assert names == NOW and y.tolist() == list(range(12))


def test_labels_that_are_not_numbers_keep_their_order(tmp_path: Path):
    vocabulary = saved(tmp_path, Vocabulary("word", 5, ("<pad>", "<unk>", "a")))
    names, _ = _in_run_order(vocabulary, ["neg", "pos"], torch.tensor([1, 0]))
    assert names == ["neg", "pos"]
