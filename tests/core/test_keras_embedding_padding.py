"""Review 6: an Embedding with padding_idx in Keras. Every text project has one (id 0 pads the short texts), and
the Keras export refused it ("padding_idx (a row kept at zero) has no Keras equivalent"), so no text project could
be written in Keras. Keras has no such option (``mask_zero`` is another thing: the Mean after it would leave the
padding out, where PyTorch counts it), so the row starts at zero (an initializer) and a constraint sets it back to
zero after every update. With PyTorch's weights copied in, Keras gives PyTorch's outputs and, trained on the same
padded batches, PyTorch's weights; the one difference left, said in the code, is that Keras computes the padding
row's gradient, which a global_clipnorm counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported anywhere in this process
keras = pytest.importorskip("keras", reason="keras is not installed (pip install -e '.[keras]')")
torch = pytest.importorskip("torch")

from core.cli import main as cli  # noqa: E402
from core.code.keras_code import generate_keras_model  # noqa: E402
from core.files.built_model import build_model  # noqa: E402
from core.files.project import Project, save  # noqa: E402
from core.model.graph import Graph  # noqa: E402
from core.settings import TrainingSettings  # noqa: E402

VOCABULARY = 12


def _text_classifier(pad: int = 0, **training: Any) -> Project:
    """Embedding (padding_idx) -> mean over the tokens -> Linear: the network of a text project."""
    graph = Graph()
    nodes = [
        graph.add("Input", "x", shape=[6], dtype="int64"),
        graph.add("Embedding", num_embeddings=VOCABULARY, embedding_dim=4, padding_idx=pad),
        graph.add("Mean", dim=1),
        graph.add("Linear", out_features=2),
        graph.add("Output", "out"),
    ]
    graph.chain(nodes)
    settings = TrainingSettings(**{"device": "cpu", "epochs": 1, "batch_size": 8, "val_fraction": 0.2, **training})
    return Project(graph, "Padded", "", settings)


def _padded(pad: int, rows: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of 1 to 6 words, the rest of each row ``pad``; labels 0 or 1."""
    rng = np.random.default_rng(1)
    words = [i for i in range(VOCABULARY) if i != pad]
    x = np.full((rows, 6), pad, dtype=np.int64)
    for row, length in enumerate(rng.integers(1, 7, size=rows)):
        x[row, :length] = rng.choice(words, size=length)
    return x, rng.integers(0, 2, size=rows)


def _keras_model(project: Project) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(generate_keras_model(project.graph).source, "<keras model>", "exec"), namespace)
    return namespace["build_model"]()


def _copy_in(module: Any, model: Any) -> None:
    """PyTorch's weights into the Keras layers of the same name (Dense: the kernel transposed)."""
    model.get_layer("embedding1").set_weights([module.embedding1.weight.detach().numpy()])
    model.get_layer("fc1").set_weights([module.fc1.weight.detach().numpy().T, module.fc1.bias.detach().numpy()])


def _table(model: Any, name: str = "embedding1") -> np.ndarray:
    """The Embedding's weights as numbers, one row a token id."""
    return keras.ops.convert_to_numpy(model.get_layer(name).embeddings)


@pytest.mark.parametrize("pad", [0, VOCABULARY - 1])
def test_a_padded_embedding_gives_pytorchs_outputs_with_its_weights(pad: int) -> None:
    project = _text_classifier(pad)
    source = generate_keras_model(project.graph).source
    assert f"embeddings_initializer=UniformPaddingZero({pad})" in source
    assert f"embeddings_constraint=KeepPaddingZero({pad})" in source and "mask_zero" not in source
    assert f"# [N, 6, 4]; unlike PyTorch, row {pad} has a gradient: a global_clipnorm counts it" in source
    built = build_model(project)
    model = _keras_model(project)
    _copy_in(built.module, model)
    x, _ = _padded(pad)
    with torch.no_grad():
        expected = built.module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pad", [0, 5])
def test_the_padding_row_starts_at_zero_and_stays_zero_while_keras_trains(pad: int) -> None:
    model = _keras_model(_text_classifier(pad))
    start = _table(model)
    assert not start[pad].any() and np.abs(np.delete(start, pad, axis=0)).min() > 0  # Keras' own start otherwise
    assert np.abs(start).max() <= 0.05
    model.compile(
        optimizer=keras.optimizers.Adam(0.05), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x, y = _padded(pad)
    model.fit(x.astype(np.int32), y, batch_size=8, epochs=2, shuffle=False, verbose=0)  # 6 steps
    trained = _table(model)
    assert not trained[pad].any()  # exactly zero
    assert not np.allclose(np.delete(trained, pad, axis=0), np.delete(start, pad, axis=0))  # the rest learned


def _train_torch(module: Any, x: np.ndarray, y: np.ndarray, optimizer: Any, clip: float = 0.0, pad: int = -1) -> None:
    """Two epochs in batches of 8, in order, as Keras' fit with shuffle=False; ``pad``: zero that row after each
    step (a module whose Embedding has no padding_idx, standing in for Keras)."""
    loss = torch.nn.CrossEntropyLoss()
    for _ in range(2):
        for start in range(0, len(x), 8):
            optimizer.zero_grad()
            loss(module(torch.from_numpy(x[start : start + 8])), torch.from_numpy(y[start : start + 8])).backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
            optimizer.step()
            if pad >= 0:
                with torch.no_grad():
                    module.embedding1.weight[pad] = 0.0


def _train_keras(module: Any, project: Project, x: np.ndarray, y: np.ndarray, optimizer: Any) -> np.ndarray:
    model = _keras_model(project)
    _copy_in(module, model)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x.astype(np.int32), y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return _table(model)


@pytest.mark.parametrize(
    "optimizers",
    [
        (lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9), lambda: keras.optimizers.SGD(0.5, momentum=0.9)),
        (lambda p: torch.optim.Adam(p, lr=0.05, eps=1e-12), lambda: keras.optimizers.Adam(0.05, epsilon=1e-12)),
    ],
    ids=["sgd_momentum", "adam"],
)
def test_keras_trains_the_other_rows_as_pytorch_does(optimizers: tuple[Any, Any]) -> None:
    """Keras gives the padding row a gradient and momentum or Adam state, but they move only that row, which the
    constraint sets back to zero: six steps on padded batches end in PyTorch's weights. (Adam's epsilon is tiny
    here: Keras adds it before the bias correction, PyTorch after, which moves weights by 3e-4 with or without
    padding_idx.)"""
    project = _text_classifier()
    x, y = _padded(0)
    built = build_model(project)
    keras_table = _train_keras(built.module, project, x, y, optimizers[1]())
    _train_torch(built.module, x, y, optimizers[0](built.module.parameters()))
    torch_table = built.module.embedding1.weight.detach().numpy()
    assert not keras_table[0].any() and not torch_table[0].any()
    np.testing.assert_allclose(keras_table, torch_table, rtol=1e-4, atol=1e-5)


def test_the_difference_left_is_the_padding_gradient_in_a_global_clipnorm() -> None:
    """What the comment in the code says: with clipping on, Keras' norm counts the padding row's gradient, which
    in PyTorch is zero; PyTorch without padding_idx, the row zeroed after each step, is what Keras computes."""
    project = _text_classifier()
    x, y = _padded(0)
    built = build_model(project)
    keras_table = _train_keras(built.module, project, x, y, keras.optimizers.SGD(0.5, global_clipnorm=0.1))
    clipped = build_model(project).module
    clipped.load_state_dict(built.module.state_dict())
    _train_torch(clipped, x, y, torch.optim.SGD(clipped.parameters(), lr=0.5), clip=0.1)
    assert np.abs(keras_table - clipped.embedding1.weight.detach().numpy()).max() > 1e-4  # 6e-4 of steps of 8e-3
    built.module.embedding1.padding_idx = None  # the row gets a gradient, as in Keras
    _train_torch(built.module, x, y, torch.optim.SGD(built.module.parameters(), lr=0.5), clip=0.1, pad=0)
    np.testing.assert_allclose(keras_table, built.module.embedding1.weight.detach().numpy(), rtol=0, atol=1e-6)


def _reviews(path: Path, rows: int = 40) -> Path:
    words = {"pos": ["great", "superb", "wonderful", "film", "the"], "neg": ["awful", "dull", "boring", "plot", "a"]}
    rng = np.random.default_rng(0)
    lines = ["id,text,label"]
    for i in range(rows):
        label = "pos" if i % 2 else "neg"
        lines.append(f"{i}," + " ".join(rng.choice(words[label], size=int(rng.integers(2, 12)))) + f",{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_text_project_exports_to_keras_passes_ruff_and_trains_with_the_row_zero(tmp_path: Path) -> None:
    """Review 6's text_csv project (Embedding(100, 16, padding_idx=0) -> Mean -> Linear on a text CSV, Adam):
    ``torchcanvas export -f keras`` writes it, ruff passes it, one epoch runs, and the saved row is zero."""
    graph = Graph()
    nodes = [
        graph.add("Input", "tokens", shape=[14], dtype="int64"),
        graph.add("Embedding", "embed", num_embeddings=100, embedding_dim=16, padding_idx=0),
        graph.add("Mean", "mean", dim=1),
        graph.add("Linear", "fc", out_features=2),
        graph.add("Output", "output"),
    ]
    graph.chain(nodes)
    dataset = f"text:{_reviews(tmp_path / 'reviews.csv')}?max_length=14&column=text&label=label"
    training = TrainingSettings(dataset=dataset, epochs=1, batch_size=32, optimizer="Adam", lr=0.001, val_fraction=0.2)
    save(Project(graph, "text_csv", "", training), tmp_path / "text_csv.json")
    script = tmp_path / "train_keras.py"
    assert cli(["export", str(tmp_path / "text_csv.json"), "-f", "keras", "-o", str(script)]) == 0
    for command in (["check"], ["format", "--check"]):
        ruff = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated", "--no-cache", str(script)], capture_output=True
        )
        assert ruff.returncode == 0, ruff.stdout.decode() + ruff.stderr.decode()
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "test accuracy" in run.stdout
    namespace: dict[str, Any] = {"__name__": "train_keras"}  # its functions, not its main
    exec(compile(script.read_text(encoding="utf-8"), str(script), "exec"), namespace)
    model = namespace["build_model"]()
    model.load_weights(tmp_path / "keras_model.weights.h5")
    table = _table(model, "embed")
    assert not table[0].any() and table[1:].any()
