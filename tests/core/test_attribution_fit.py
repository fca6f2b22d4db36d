"""Why this prediction chooses a method that fits the network (trial 5 J6): Grad-CAM at a Vision Transformer's
patch embedding (its first and only convolution, tokens after it) drew the patch grid as "where the network found
the evidence"; a network whose output is not one score per class (a U-Net's maps, a per-step RNN's scores) ended in
Captum's AssertionError, shown as "Something went wrong inside TorchCanvas"."""

from __future__ import annotations

from importlib.util import find_spec

import pytest
import torch

from core.files.project import Project
from core.inspect.attribution import Explainer
from core.inspect.nodes import InspectError
from core.model.graph import Graph
from core.settings import TrainingSettings

pytestmark = pytest.mark.skipif(find_spec("captum") is None, reason='needs pip install "torchcanvas[explain]"')


def project_of(*layers: tuple) -> Project:
    """A chain of ``(layer id, name, params)`` between its Input and Output."""
    graph = Graph()
    graph.chain([graph.add(kind, name, **params) for kind, name, params in layers])
    return Project(graph, "Fit", "", TrainingSettings(device="cpu"))


def tokens_after(*stem: tuple) -> Project:
    """``stem`` on a 3x16x16 image, then its maps as 16 tokens of 8 through self-attention, a mean, a head."""
    return project_of(
        ("Input", "x", {"shape": [3, 16, 16]}),
        *stem,
        ("Flatten", "to_tokens", {"start_dim": 2}),
        ("Permute", "tokens", {"dims": [2, 1]}),
        ("MultiheadAttention", "attn", {"embed_dim": 8, "num_heads": 2}),
        ("Mean", "pool", {"dim": 1}),
        ("Linear", "head", {"out_features": 3}),
        ("Output", "out", {}),
    )


def test_a_vit_like_network_is_explained_by_integrated_gradients_and_says_why() -> None:
    patch = ("Conv2d", "patch", {"out_channels": 8, "kernel_size": 4, "stride": 4})
    seen = Explainer(tokens_after(patch)).explain(torch.rand(3, 16, 16))
    assert seen.method == "integrated gradients" and seen.map.shape == (16, 16)
    assert "not Grad-CAM" in seen.note and "patch" in seen.note and "first layer" in seen.note
    # a deeper stem, still followed by tokens: integrated gradients, for that reason
    deeper = (
        ("Conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu1", {}),
        ("Conv2d", "patch", {"out_channels": 8, "kernel_size": 4, "stride": 4}),
    )
    seen = Explainer(tokens_after(*deeper)).explain(torch.rand(3, 16, 16))
    assert seen.method == "integrated gradients" and "tokens" in seen.note and "patch" in seen.note


def test_a_cnn_still_gets_grad_cam_without_a_note() -> None:
    cnn = project_of(
        ("Input", "x", {"shape": [3, 16, 16]}),
        ("Conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu1", {}),
        ("Conv2d", "conv2", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu2", {}),
        ("Flatten", "flat", {}),
        ("Linear", "head", {"out_features": 3}),
        ("Output", "out", {}),
    )
    seen = Explainer(cnn).explain(torch.rand(3, 16, 16))
    assert seen.method == "Grad-CAM" and seen.layer == "conv2" and seen.note == ""


@pytest.mark.parametrize(
    ("layers", "sample", "shape"),
    [
        (  # a U-Net's answer: two scores for every pixel
            (("Conv2d", "seg", {"out_channels": 2, "kernel_size": 3, "padding": 1}),),
            torch.rand(3, 8, 8),
            "[N, 2, 8, 8]",
        ),
        (  # a next-character RNN's: a score per class at every step
            (
                ("LSTM", "rnn", {"hidden_size": 6, "return_sequences": "sequence"}),
                ("Linear", "per_step", {"out_features": 3}),
            ),
            torch.rand(5, 4),
            "[N, 5, 3]",
        ),
    ],
)
def test_an_output_that_is_not_one_score_per_class_is_said_plainly(layers, sample, shape) -> None:
    project = project_of(("Input", "x", {"shape": list(sample.shape)}), *layers, ("Output", "out", {}))
    with pytest.raises(InspectError) as caught:
        Explainer(project).explain(sample)
    said = str(caught.value)
    assert said.startswith("Why explains a network that outputs one score per class") and shape in said
