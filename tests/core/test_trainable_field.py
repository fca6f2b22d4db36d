"""The frozen flag of a node and the two-phase settings survive a save and a load (issue 27's shared fields)."""

import pytest

from core.errors import ParameterError
from core.files import project as project_file
from core.model.graph import Edge, Graph
from core.settings import TrainingSettings


def test_trainable_round_trips(tmp_path):
    graph = Graph()
    a = graph.add_node(graph.create_node("Input", params={"shape": [4]}))
    b = graph.add_node(graph.create_node("Linear", params={"out_features": 3}))
    graph.connect(Edge(a.id, b.id))
    b.trainable = False
    settings = TrainingSettings(freeze_epochs=2, unfreeze_lr_factor=0.05, initial_weights="w.pt")
    path = tmp_path / "p.tcproj"
    project_file.save(project_file.Project(graph=graph, training=settings), path)
    loaded = project_file.load(path)
    assert loaded.graph.node(b.id).trainable is False
    assert loaded.graph.node(a.id).trainable is True
    assert loaded.graph.copy().node(b.id).trainable is False
    assert (loaded.training.freeze_epochs, loaded.training.unfreeze_lr_factor) == (2, 0.05)
    assert loaded.training.initial_weights == "w.pt"


def test_trainable_written_only_when_frozen():
    graph = Graph()
    node = graph.create_node("Input", params={"shape": [4]})
    assert "trainable" not in node.to_dict()
    node.trainable = False
    assert node.to_dict()["trainable"] is False


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_freeze_epochs_checked(value):
    with pytest.raises(ParameterError, match="freeze_epochs"):
        TrainingSettings(freeze_epochs=value).validate()
