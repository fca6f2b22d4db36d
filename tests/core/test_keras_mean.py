"""Review 6 S17: the Mean layer in Keras. Embedding -> mean over the tokens -> Dense is Keras' own first text
classifier (GlobalAveragePooling1D); with PyTorch's weights copied in, the Keras model gives PyTorch's outputs,
padding positions counted in the average as ``x.mean(dim=1)`` counts them (no ``mask_zero``). What is still
refused names its node and the real reason, a gap in TorchCanvas, not "Keras has no Block layer"."""

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

from core.code.keras_code import KerasExportError, generate_keras_model  # noqa: E402
from core.code.keras_script import generate_keras_script  # noqa: E402
from core.files.built_model import build_model  # noqa: E402
from core.files.project import Project, load  # noqa: E402
from core.model.graph import Graph  # noqa: E402
from core.settings import TrainingSettings  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
PADDED = np.array([[5, 3, 9, 0, 0, 0], [1, 2, 3, 4, 7, 8], [6, 0, 0, 0, 0, 0]])  # id 0 pads the short rows


def _project(*layers: tuple[str, dict[str, Any]], shape: list[int], dtype: str = "float32", **training: Any) -> Project:
    graph = Graph()
    nodes = [graph.add("Input", "x", shape=shape, **({"dtype": dtype} if dtype != "float32" else {}))]
    nodes += [graph.add(kind, **params) for kind, params in layers]
    graph.chain([*nodes, graph.add("Output", "out")])
    settings = TrainingSettings(**{"device": "cpu", "epochs": 1, "batch_size": 8, "val_fraction": 0.2, **training})
    return Project(graph, "Mean", "", settings)


def _text_classifier(**training: Any) -> Project:
    return _project(
        ("Embedding", {"num_embeddings": 12, "embedding_dim": 4}),
        ("Mean", {"dim": 1}),
        ("Linear", {"out_features": 2}),
        shape=[6],
        dtype="int64",
        **training,
    )


def _keras_model(project: Project) -> tuple[Any, dict[str, str]]:
    code = generate_keras_model(project.graph)
    namespace: dict[str, Any] = {}
    exec(compile(code.source, "<keras model>", "exec"), namespace)
    return namespace["build_model"](), code.layer_names


def _same_weights(module: Any, model: Any, names: dict[str, str], graph: Graph) -> None:
    """PyTorch's weights into the Keras layers of the same name (Dense: the kernel transposed)."""
    for nid, name in names.items():
        kind = graph.node(nid).type
        if kind == "Embedding":
            model.get_layer(name).set_weights([getattr(module, name).weight.detach().numpy()])
        elif kind == "Linear":
            layer = getattr(module, name)
            model.get_layer(name).set_weights([layer.weight.detach().numpy().T, layer.bias.detach().numpy()])


def _both(project: Project, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    built = build_model(project)
    model, names = _keras_model(project)
    _same_weights(built.module, model, names, project.graph)
    with torch.no_grad():
        expected = built.module(torch.from_numpy(x)).numpy()
    return keras.ops.convert_to_numpy(model(x, training=False)), expected


def test_embedding_mean_dense_is_kerass_text_classifier_and_counts_the_padding() -> None:
    project = _text_classifier()
    source = generate_keras_model(project.graph).source
    assert 'layers.GlobalAveragePooling1D(name="mean1")' in source and "mask_zero" not in source
    got, expected = _both(project, PADDED)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # The padded rows really test the padding: leaving id 0 out of the average (what a mask_zero=True Embedding
    # would make GlobalAveragePooling1D do) gives other outputs.
    built = build_model(project)
    vectors = built.module.embedding1.weight.detach().numpy()[PADDED]
    kept = (PADDED != 0)[..., None]
    masked = (vectors * kept).sum(1) / kept.sum(1)
    fc = built.module.fc1
    masked_out = masked @ fc.weight.detach().numpy().T + fc.bias.detach().numpy()
    assert not np.allclose(masked_out[[0, 2]], expected[[0, 2]], atol=1e-3)
    np.testing.assert_allclose(masked_out[1], expected[1], rtol=1e-5, atol=1e-6)  # the full row: no padding


@pytest.mark.parametrize(
    ("dim", "shape", "head"),
    [
        (-2, [5, 3], "layers.GlobalAveragePooling1D("),
        (2, [5, 3], 'layers.GlobalAveragePooling1D(data_format="channels_first"'),
        (-1, [5, 3], 'layers.GlobalAveragePooling1D(data_format="channels_first"'),
        (2, [2, 4, 3], "keras.ops.mean(x, axis=2)"),
        (-1, [2, 4, 3], "keras.ops.mean(x, axis=3)"),
    ],
)
def test_a_mean_over_any_dimension_computes_pytorchs_mean(dim: int, shape: list[int], head: str) -> None:
    layers = [("Mean", {"dim": dim}), *([("Flatten", {})] if len(shape) > 2 else []), ("Linear", {"out_features": 3})]
    project = _project(*layers, shape=shape)
    assert head in generate_keras_model(project.graph).source
    x = np.random.default_rng(0).standard_normal((4, *shape)).astype(np.float32)
    got, expected = _both(project, x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_the_refusal_names_the_nodes_left_and_the_real_reason() -> None:
    """sequence_transformer was refused for its Mean first; now its positions and encoder are what is left."""
    with pytest.raises(KerasExportError) as caught:
        generate_keras_model(load(EXAMPLES / "sequence_transformer.json").graph)
    message = str(caught.value)
    assert message.startswith("2 layers have no Keras translation, so TorchCanvas cannot write this network")
    assert "- positions (PositionalEmbedding): TorchCanvas does not translate PositionalEmbedding layers" in message
    assert "- encoder (TransformerEncoder): TorchCanvas does not translate TransformerEncoder layers" in message
    assert "(Mean)" not in message and "Keras has no" not in message and "remove them" not in message


def test_a_block_is_refused_as_a_block_with_the_way_out() -> None:
    with pytest.raises(KerasExportError) as caught:
        generate_keras_model(load(EXAMPLES / "resnet_small.json").graph)
    message = str(caught.value)
    assert "- layer1 (Block): TorchCanvas does not translate blocks to Keras yet; Ungroup it" in message
    assert "Keras has no Block layer" not in message
    # the menu that holds Ungroup (gui/shell/mainwindow.py's &Block, gui/canvas/canvas_tabs.py): it said Edit
    assert "Ungroup it (Block menu)" in message


def _write_reviews(path: Path, rows: int = 40) -> Path:
    words = {"pos": ["great", "superb", "wonderful", "film"], "neg": ["awful", "dull", "boring", "plot"]}
    rng = np.random.default_rng(0)
    lines = ["text,label"]
    for i in range(rows):
        label = "pos" if i % 2 else "neg"
        lines.append(" ".join(rng.choice(words[label], size=int(rng.integers(2, 7)))) + f",{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow  # the Keras script trains in a child process: seconds
def test_a_text_projects_keras_script_passes_ruff_and_trains(tmp_path: Path) -> None:
    """The whole exported script of a text project with a Mean: ruff-clean, and one epoch runs end to end."""
    data = _write_reviews(tmp_path / "reviews.csv")
    project = _text_classifier(dataset=f"text:{data}?max_length=6&column=text&label=label")
    project.graph.by_name("embedding1").params["num_embeddings"] = 40
    script = tmp_path / "train_keras.py"
    script.write_text(generate_keras_script(project), encoding="utf-8")
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
    assert "GlobalAveragePooling1D" in script.read_text(encoding="utf-8")
    assert (tmp_path / "keras_model.weights.h5").exists(), run.stdout[-2000:]
