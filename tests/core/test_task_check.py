"""The network against its task: output against the dataset's classes and the loss, Input against the samples."""

import numpy as np
import pytest

from core.cli import main
from core.files.project import Project, load, save
from core.model.analysis import analyze
from core.model.graph import Graph
from core.model.task_check import new_input_params
from core.settings import TrainingSettings
from tests.conftest import EXAMPLES


def stack(*layers, shape=(1, 8, 8), dtype="float32"):
    """Input -> layers... -> Output; each layer is (type, params)."""
    g = Graph()
    nodes = [g.add("Input", shape=list(shape), dtype=dtype)]
    nodes += [g.add(kind, **params) for kind, params in layers]
    nodes.append(g.add("Output"))
    g.chain(nodes)
    return g


MISSING_FLATTEN = (
    ("Conv2d", {"out_channels": 32, "kernel_size": 3}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2}),
    ("Linear", {"out_features": 10}),
)


def errors(g, **settings):
    return [p for p in analyze(g, TrainingSettings(**settings)).problems if p.severity == "error"]


def test_missing_flatten_is_valid_pytorch_but_not_for_digits_classes():
    g = stack(*MISSING_FLATTEN)
    assert analyze(g).ok  # graph alone: Linear on 4-D is legal
    (problem,) = errors(g)
    fc1 = g.by_name("fc1")
    assert problem.node_id == fc1.id and problem.kind == "task"
    assert problem.message == (
        "output is [N, 32, 3, 10] but digits has 10 classes and CrossEntropyLoss expects [N, 10]: "
        "add a Flatten before fc1"
    )
    # no second, softer note about the same node
    assert analyze(g, TrainingSettings()).problems_of(fc1.id) == [problem]


def test_mnist_sized_cnn_on_mnist_names_the_flatten_without_loading_anything():
    g = stack(*MISSING_FLATTEN, shape=(1, 28, 28))
    (problem,) = errors(g, dataset="mnist")
    assert "output is [N, 32, 13, 10] but mnist has 10 classes" in problem.message
    assert problem.message.endswith("add a Flatten before fc1")


def test_fixed_network_has_no_task_problem():
    layers = list(MISSING_FLATTEN)
    layers.insert(3, ("Flatten", {}))
    assert analyze(stack(*layers), TrainingSettings()).problems == []


def test_check_command_exits_1_naming_flatten(tmp_path, capsys):
    path = tmp_path / "cnn.json"
    save(Project(stack(*MISSING_FLATTEN), name="CNN"), path)
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert "add a Flatten before fc1" in captured.err
    assert "Data: digits (samples [1, 8, 8], float32, 10 classes); loss: CrossEntropyLoss" in captured.out
    assert "Traceback" not in captured.err


def test_wrong_number_of_classes_names_the_last_linear():
    g = stack(("Flatten", {}), ("Linear", {"out_features": 5}))
    (problem,) = errors(g)
    assert problem.node_id == g.by_name("fc1").id
    assert problem.message.endswith("set fc1's out_features to 10")
    g = stack(("Flatten", {}), ("Linear", {"out_features": 12}))
    (warning,) = analyze(g, TrainingSettings()).problems
    assert warning.severity == "warning" and "12 scores per sample but digits has 10 classes" in warning.message


def test_output_without_linear_asks_for_flatten_and_linear():
    g = stack(("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("ReLU", {}))
    (problem,) = errors(g)
    assert problem.node_id == g.by_name("relu1").id
    assert problem.message.endswith("add a Flatten and a Linear with out_features 10 between relu1 and output")


def test_sequences_into_linear_suggest_return_sequences_last():
    g = stack(
        ("LSTM", {"hidden_size": 16, "return_sequences": "sequence"}), ("Linear", {"out_features": 10}), shape=(8, 8)
    )
    (problem,) = errors(g)
    assert problem.node_id == g.by_name("lstm1").id
    assert "set lstm1's return_sequences to last" in problem.message


@pytest.mark.parametrize(
    ("loss", "width", "ok"),
    [
        ("BCEWithLogitsLoss", 1, True),
        ("BCEWithLogitsLoss", 2, True),
        ("BCEWithLogitsLoss", 3, False),
        ("MSELoss", 1, True),
        ("CrossEntropyLoss", 1, False),
        ("CrossEntropyLoss", 2, True),
    ],
)
def test_binary_losses(loss, width, ok):
    g = stack(("Linear", {"out_features": width}), shape=(30,))
    problems = errors(g, dataset="breast_cancer", loss=loss)
    assert (problems == []) == ok, problems


def test_regression_targets_need_one_output_and_a_regression_loss(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("rooms,area,price\n" + "".join(f"{i % 5},{i * 1.5},{i * 0.7 + 0.25}\n" for i in range(20)))
    spec = f"csv:{path}:price"
    assert errors(stack(("Linear", {"out_features": 1}), shape=(2,)), dataset=spec, loss="MSELoss") == []
    (problem,) = errors(stack(("Linear", {"out_features": 3}), shape=(2,)), dataset=spec, loss="MSELoss")
    assert "one number per sample" in problem.message and problem.message.endswith("set fc1's out_features to 1")
    (problem,) = errors(stack(("Linear", {"out_features": 1}), shape=(2,)), dataset=spec, loss="CrossEntropyLoss")
    assert "choose MSELoss, L1Loss or SmoothL1Loss" in problem.message


def test_softmax_before_cross_entropy_and_nll_without_log_softmax_are_notes():
    g = stack(("Flatten", {}), ("Linear", {"out_features": 10}), ("Softmax", {}))
    problems = analyze(g, TrainingSettings()).problems
    assert [p.severity for p in problems] == ["warning"] and "applies its own softmax" in problems[0].message
    g = stack(("Flatten", {}), ("Linear", {"out_features": 10}))
    problems = analyze(g, TrainingSettings(loss="NLLLoss")).problems
    assert [p.severity for p in problems] == ["warning"] and "add a LogSoftmax" in problems[0].message


def test_input_shape_must_hold_as_many_values_as_the_samples():
    # [8, 8] and [64] hold the 64 values of a digit: the loader reshapes them, so they are fine
    for shape in ((8, 8), (64,), (1, 8, 8)):
        assert errors(stack(("Flatten", {}), ("Linear", {"out_features": 10}), shape=shape)) == []
    g = stack(("Flatten", {}), ("Linear", {"out_features": 10}), shape=(1, 28, 28))
    (problem,) = errors(g)
    assert problem.node_id == g.by_name("x").id
    assert problem.message == (
        "x's shape [1, 28, 28] (784 values) does not fit: the samples of digits are [1, 8, 8] (64 values): "
        "set the Input shape to [1, 8, 8]"
    )


def test_resize_setting_changes_the_sample_shape_images_only():
    g = stack(("Flatten", {}), ("Linear", {"out_features": 10}), shape=(1, 16, 16))
    assert errors(g, resize=[16, 16]) == []
    (problem,) = errors(g)
    assert "set the Input shape to [1, 8, 8]" in problem.message


def test_int64_input_on_decimal_data_is_named_before_train():
    g = stack(("Embedding", {"num_embeddings": 17, "embedding_dim": 4}), ("Flatten", {}), ("Linear", {}), shape=(64,))
    g.set_param(g.by_name("x").id, "dtype", "int64")
    (problem,) = errors(g)
    assert problem.node_id == g.by_name("x").id
    assert "digits gives decimal numbers (float32), not token ids: set x's dtype to float32" in problem.message


@pytest.fixture
def tokens_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "tokens.npz"
    np.savez(path, x_train=rng.integers(0, 20, (40, 6)), y_train=np.arange(40) % 3)
    return f"npz:{path}"


def test_float_input_into_embedding_is_a_problem_naming_the_dtype_fix(tokens_npz):
    layers = (
        ("Embedding", {"num_embeddings": 20, "embedding_dim": 4}),
        ("Flatten", {}),
        ("Linear", {"out_features": 3}),
    )
    g = stack(*layers, shape=(6,))
    (problem,) = errors(g, dataset=tokens_npz)
    assert problem.node_id == g.by_name("embedding1").id
    assert "set the Input's dtype to int64" in problem.message
    g.set_param(g.by_name("x").id, "dtype", "int64")
    assert errors(g, dataset=tokens_npz) == []


def test_embedding_needs_a_row_for_every_token_id(tokens_npz):
    layers = (
        ("Embedding", {"num_embeddings": 12, "embedding_dim": 4}),
        ("Flatten", {}),
        ("Linear", {"out_features": 3}),
    )
    g = stack(*layers, shape=(6,), dtype="int64")
    (problem,) = errors(g, dataset=tokens_npz)
    assert problem.node_id == g.by_name("embedding1").id
    assert problem.message.endswith("has token ids up to 19: set num_embeddings to 20")


def test_sequence_example_with_a_float_input_is_named_before_train():
    project = load(EXAMPLES / "sequence_lstm.json")
    assert analyze(project.graph, project.training).problems == []
    x = project.graph.nodes_of_type("Input")[0]
    project.graph.set_param(x.id, "dtype", "float32")
    problems = analyze(project.graph, project.training).errors
    assert {p.node_id for p in problems} == {x.id, project.graph.nodes_of_type("Embedding")[0].id}
    assert any(
        p.message.endswith(f"sequences gives whole-number token ids: set {x.name}'s dtype to int64 (tokens)")
        for p in problems
    )


def test_new_input_fits_the_project_dataset():
    assert new_input_params(TrainingSettings()) == {"shape": [1, 8, 8], "dtype": "float32"}
    assert new_input_params(TrainingSettings(dataset="spirals")) == {"shape": [2], "dtype": "float32"}
    assert new_input_params(TrainingSettings(dataset="sequences")) == {"shape": [20], "dtype": "int64"}
    assert new_input_params(TrainingSettings(dataset="csv:/no/such/file.csv:label")) == {}
    project = Project()
    x = project.new_node("Input", (10.0, 20.0))
    assert x.params["shape"] == [1, 8, 8] and x.pos == (10.0, 20.0)
    project.graph.add_node(x)
    assert project.new_node("Linear").params == project.graph.create_node("Linear").params  # others: catalog defaults
    assert project.new_node("Input").params["shape"] == [1, 8, 8]
    assert errors(stack(("Flatten", {}), ("Linear", {"out_features": 10}), shape=x.params["shape"])) == []


def test_unknown_dataset_source_adds_no_problem():
    g = stack(*MISSING_FLATTEN)
    assert errors(g, dataset="csv:/no/such/file.csv") == []  # no label column named: not known, said elsewhere
    # a missing file is the loader's refusal, not "unknown" (check said OK while train refused it)
    assert [p.message for p in errors(g, dataset="npz:/no/such/file.npz")] == [
        "/no/such/file.npz: no such file. Check the path of the npz (spec: npz:PATH)."
    ]
