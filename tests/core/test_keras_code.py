"""The Keras 3 side: the generated Keras model is the same network as ours (parameter count, output shape),
layers Keras lacks are named in one message, and the Keras script trains the MNIST MLP like the PyTorch one."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported anywhere in this process
keras = pytest.importorskip("keras", reason="keras is not installed (pip install -e '.[keras]')")

from core.code.keras_code import KerasExportError, generate_keras_model, untranslated  # noqa: E402
from core.code.keras_layers import KERAS_LAYERS  # noqa: E402
from core.files.export_formats import EXPORT_FORMATS  # noqa: E402
from core.files.project import Project, load  # noqa: E402
from core.model.analysis import analyze  # noqa: E402
from core.model.graph import Graph  # noqa: E402
from core.model.node import Edge  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))
MNIST_10K = ROOT.parent / "shared" / "data" / "mnist" / "mnist_10k.npz"


def _build(source: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<keras model>", "exec"), namespace)
    return namespace["build_model"]()


def _trainable(model: Any) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _chain(*layers: tuple[str, dict[str, Any]], shape: list[int]) -> Graph:
    graph = Graph()
    previous = graph.add_node(graph.create_node("Input", params={"shape": shape}))
    for layer_id, params in [*layers, ("Output", {})]:
        node = graph.add_node(graph.create_node(layer_id, params=params))
        graph.connect(Edge(previous.id, node.id))
        previous = node
    return graph


def _check_same_network(graph: Graph) -> None:
    """Same trainable parameter count (less the documented LSTM/RNN second bias) and the same output shape."""
    analysis = analyze(graph)
    assert analysis.ok, [p.message for p in analysis.errors]
    code = generate_keras_model(graph, analysis)
    model = _build(code.source)
    assert _trainable(model) == analysis.total_params - code.fewer_params
    (out_shape,) = analysis.output_shapes(graph)
    assert tuple(model.output_shape[1:]) == tuple(out_shape[1:])


# The examples Keras can express: they must keep building (the others must name what Keras lacks).
EXPRESSIBLE = {"digits_lstm", "digits_mlp", "mnist_cnn", "mnist_mlp", "residual_cnn", "sequence_lstm", "spirals"}


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_has_the_same_parameter_count_in_keras_or_names_what_keras_lacks(path: Path) -> None:
    project = load(path)
    if path.stem not in EXPRESSIBLE:
        with pytest.raises(KerasExportError) as caught:
            generate_keras_model(project.graph, title=project.name)
        unknown = [n for n in project.graph.nodes if n.type not in KERAS_LAYERS and n.type not in ("Input", "Output")]
        assert unknown or "padding" in str(caught.value)
        for node in unknown:
            assert f"- {node.name} ({node.type}): {untranslated(node.type)}" in str(caught.value)
        return
    code = generate_keras_model(project.graph, title=project.name)
    _check_same_network(project.graph)
    assert code.sequential == (project.graph.nodes_of_type("Add") == [])  # merges use the functional API
    assert ('name="fc1"' in code.source) == (project.graph.by_name("fc1") is not None)  # our layer names


def test_lstm_bias_difference_is_documented_not_hidden() -> None:
    project = load(ROOT / "resources" / "examples" / "digits_lstm.json")
    code = generate_keras_model(project.graph)
    assert code.fewer_params == 4 * 64  # PyTorch's LSTM has two bias vectors, Keras' one
    assert "one bias vector in Keras, two in PyTorch: 256 fewer parameters" in code.source


@pytest.mark.parametrize(
    ("layers", "shape"),
    [
        (
            [
                ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 2, "stride": 2}),
                ("BatchNorm2d", {}),
                ("GroupNorm", {"num_groups": 2}),
                ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}),
                ("Upsample", {"scale_factor": 2.0, "mode": "bilinear"}),
                ("Dropout2d", {}),
                ("AdaptiveAvgPool2d", {"output_size": 1}),
                ("Flatten", {}),
                ("LayerNorm", {}),
                ("Linear", {"out_features": 3, "bias": False}),
                ("Softmax", {"dim": -1}),
            ],
            [3, 12, 12],
        ),
        (
            [
                ("Conv1d", {"out_channels": 6, "kernel_size": 3, "padding": 1}),
                ("BatchNorm1d", {}),
                ("AvgPool1d", {"kernel_size": 2}),
                ("Permute", {"dims": [2, 1]}),
                (
                    "GRU",
                    {
                        "hidden_size": 5,
                        "num_layers": 2,
                        "bidirectional": True,
                        "dropout": 0.1,
                        "return_sequences": "sequence",
                    },
                ),
                ("RNN", {"hidden_size": 4, "nonlinearity": "relu", "return_sequences": "sequence"}),
                ("LSTM", {"hidden_size": 3}),
                ("LeakyReLU", {"negative_slope": 0.2}),
                ("Linear", {"out_features": 2}),
            ],
            [2, 16],
        ),
    ],
    ids=["images", "sequences"],
)
def test_other_layers_build_the_same_network(layers: list[tuple[str, dict[str, Any]]], shape: list[int]) -> None:
    _check_same_network(_chain(*layers, shape=shape))


def test_layers_without_an_equivalent_are_named_in_one_message() -> None:
    graph = _chain(
        ("Conv2d", {"out_channels": 4}),
        ("MaxPool2d", {"kernel_size": 2, "padding": 1}),
        ("GELU", {"approximate": "tanh"}),
        ("Flatten", {}),
        ("Linear", {"out_features": 2}),
        shape=[1, 8, 8],
    )
    with pytest.raises(KerasExportError) as caught:
        generate_keras_model(graph)
    message = str(caught.value)
    assert message.startswith("2 layers have no Keras translation")
    assert "- pool1 (MaxPool2d): padding > 0" in message
    assert "- gelu1 (GELU): the tanh approximation" in message
    assert "conv" not in message.split("\n", 1)[1].split("- ")[0]  # the expressible layers are not listed


def test_an_unknown_layer_id_is_named_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.code import keras_layers

    graph = _chain(("Linear", {"out_features": 2}), shape=[4])
    monkeypatch.delitem(keras_layers.KERAS_LAYERS, "Linear")
    with pytest.raises(
        KerasExportError, match=r"1 layer has no Keras translation.*\n- fc1 \(Linear\): TorchCanvas does not"
    ):
        generate_keras_model(graph)


def test_export_format_writes_a_runnable_script(tmp_path: Path) -> None:
    project = load(ROOT / "resources" / "examples" / "spirals.json")
    result = EXPORT_FORMATS["keras"].write(project, tmp_path / "spirals_keras.py")
    text = result.path.read_text(encoding="utf-8")
    compile(text, "spirals_keras.py", "exec")
    assert "keras.optimizers.Adam(learning_rate=LEARNING_RATE, epsilon=1e-8)" in text
    assert "def prepare(" in text and "def build_model()" in text  # the same split code as the PyTorch script


def _mnist_mlp() -> Project:
    project = load(ROOT / "resources" / "examples" / "mnist_mlp.json")
    project.training.dataset = f"npz:{MNIST_10K}"
    return project


@pytest.mark.slow
@pytest.mark.skipif(not MNIST_10K.exists(), reason=f"the shared MNIST file is absent: {MNIST_10K}")
def test_keras_script_trains_the_mnist_mlp(tmp_path: Path) -> None:
    """The classic comparison: 784-512-10, RMSprop, batch 128, 5 epochs (~9 s on 2 cores, ~2.5 s of it fit),
    run as "Compare with Keras" runs it: the exported script in a child process."""
    from core.training.keras_compare import run_keras

    lines: list[str] = []
    start = time.perf_counter()
    result = run_keras(_mnist_mlp(), tmp_path, on_line=lines.append, timeout=300)
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4, 5]
    assert "Epoch 5/5" in lines
    assert result.test_accuracy is not None and result.test_accuracy >= 0.94, lines[-12:]
    assert result.train_samples == 7200 and result.samples_per_second > 0  # 8,000 less the 10% validation
    assert (tmp_path / "keras_model.weights.h5").exists() and (tmp_path / "keras_train.py").exists()
    print(f"Keras MNIST MLP: {result.test_accuracy:.4f} in {time.perf_counter() - start:.1f} s")


def test_a_failing_keras_run_says_so_with_its_last_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import TrainingError
    from core.training import keras_compare

    monkeypatch.setattr(keras_compare, "generate_keras_script", lambda project: "raise SystemExit('no data here')\n")
    with pytest.raises(TrainingError, match=r"The Keras run failed \(exit code 1\)\.\nno data here"):
        keras_compare.run_keras(_mnist_mlp(), tmp_path, timeout=60)


def test_cli_exports_keras_or_names_the_missing_layers_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main

    examples = ROOT / "resources" / "examples"
    out = tmp_path / "residual_keras.py"
    assert main(["export", "-f", "keras", str(examples / "residual_cnn.json"), "-o", str(out)]) == 0
    assert "keras.Model(inputs=x, outputs=fc" in out.read_text(encoding="utf-8")
    refused = tmp_path / "resnet18_keras.py"
    assert main(["export", "-f", "keras", str(examples / "resnet18.json"), "-o", str(refused)]) != 0
    err = capsys.readouterr().err
    assert "have no Keras translation" in err and "- layer1 (Block)" in err and "Traceback" not in err
    assert not refused.exists()


def _copy_weights(torch_module: Any, model: Any, names: dict[str, str], graph: Graph) -> None:
    """Our trained-or-not weights into the Keras layers of the same name (Dense: transposed; Conv2D: HWIO)."""
    for nid, name in names.items():
        node = graph.node(nid)
        if node.type not in ("Linear", "Conv2d"):
            continue
        torch_layer = getattr(torch_module, name)
        kernel = torch_layer.weight.detach().numpy()
        kernel = kernel.T if node.type == "Linear" else kernel.transpose(2, 3, 1, 0)
        model.get_layer(name).set_weights([kernel, torch_layer.bias.detach().numpy()])


@pytest.mark.slow
@pytest.mark.parametrize("example", ["mnist_cnn", "residual_cnn", "digits_mlp"])
def test_with_our_weights_keras_computes_the_same_outputs(example: str) -> None:
    """Channels-first kept end to end: with PyTorch's weights copied in, Keras gives PyTorch's outputs
    (Flatten orders the features as nn.Flatten does, "same" padding is PyTorch's padding=1)."""
    import torch

    from core.files.built_model import build_model, sample_inputs

    project = load(ROOT / "resources" / "examples" / f"{example}.json")
    built = build_model(project)
    code = generate_keras_model(project.graph)
    model = _build(code.source)
    _copy_weights(built.module, model, code.layer_names, project.graph)
    (x,) = sample_inputs(built, project, batch=3)
    with torch.no_grad():
        expected = built.module(x).numpy()
    got = keras.ops.convert_to_numpy(model(x.numpy(), training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
