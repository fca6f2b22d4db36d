"""A training script (PyTorch or Keras) is written only for a project that can train: otherwise export says why,
in the words ``torchcanvas check`` gives, and the CLI exits 1. The model code alone stays exportable."""

from __future__ import annotations

import pytest
import torch

from core.cli import main
from core.code.script import UntrainableError
from core.files.export import export
from core.files.project import Project, save
from core.model.graph import Graph

TWO_OUTPUTS = "Training needs exactly one Output node; this network has 2"


def _network(shape: list[int], outputs: int) -> Project:
    graph = Graph()
    x = graph.add("Input", "x", shape=shape)
    flatten, fc = graph.add("Flatten", "flatten"), graph.add("Linear", "fc", out_features=10)
    graph.chain([x, flatten, fc, graph.add("Output", "out1")])
    if outputs == 2:
        aux, out2 = graph.add("Linear", "aux", out_features=3), graph.add("Output", "out2")
        graph.chain([flatten, aux, out2])
    return Project(graph=graph, name="net")  # the default dataset: digits, [1, 8, 8], 10 classes


def two_outputs() -> Project:
    """What importing a ``forward`` that returns a tuple makes: one Output per item."""
    return _network([1, 8, 8], 2)


def wrong_input() -> Project:
    """A network that is fine on its own but does not fit its dataset: check reports an error."""
    return _network([3, 16, 16], 1)


@pytest.mark.parametrize("fmt", ["script", "keras"])
@pytest.mark.parametrize(("make", "why"), [(two_outputs, TWO_OUTPUTS), (wrong_input, "x's shape [3, 16, 16]")])
def test_a_training_script_is_refused_for_a_project_that_cannot_train(tmp_path, capsys, fmt, make, why):
    path = tmp_path / "net.json"
    save(make(), path)
    assert main(["check", str(path)]) == 1
    said = capsys.readouterr().err
    assert why in said
    out = tmp_path / "train.py"
    with pytest.raises(UntrainableError, match="cannot train yet") as refused:
        export(make(), fmt, out)
    assert why in str(refused.value) and not out.exists()
    assert main(["export", str(path), "-f", fmt, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err and not out.exists()
    # the same words as check: every error line check printed is in the refusal
    assert all(line[len("error: ") :] in err for line in said.splitlines() if line.startswith("error: "))


def test_the_model_code_of_a_two_output_network_is_exported_and_runs(tmp_path):
    out = tmp_path / "two_model.py"
    export(two_outputs(), "model", out)
    namespace: dict = {}
    exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
    model = namespace["Net"]().eval()
    with torch.no_grad():
        first, second = model(torch.randn(4, 1, 8, 8))
    assert tuple(first.shape) == (4, 10) and tuple(second.shape) == (4, 3)
