"""A node's output for one sample (core.inspect.activations): the generated model's own numbers, summarised."""

from __future__ import annotations

import pytest
import torch

from core.datasets import load_dataset
from core.inspect.activations import MAX_SIDE, LayerOutputs, sample_of, summarise
from core.inspect.nodes import InspectError
from core.training import Trainer
from tests.core.train_fixtures import example


@pytest.fixture(scope="module")
def images():
    return load_dataset("digits", input_shape=(1, 8, 8))


def ids(project) -> dict[str, str]:
    return {node.name: node.id for node in project.graph.nodes}


def test_feature_maps_are_the_numbers_the_generated_submodule_gives(images) -> None:
    project = example("residual_cnn")
    views = LayerOutputs(project)  # random weights: before any training
    sample = sample_of(images, 3)
    node = ids(project)
    got = views.outputs(sample, [node["conv1"], node["relu1"], node["conv3"], node["add"], node["fc"]])
    net = views.model
    with torch.no_grad():
        conv1 = net.conv1(sample[None])
        relu1 = net.relu1(conv1)
        conv3 = net.conv3(net.relu2(net.conv2(relu1)))
        fc = net.fc(net.flatten(net.pool(net.relu3(conv3 + relu1))))
    assert torch.equal(got[node["conv1"]].tensor, conv1[0])
    assert torch.equal(got[node["relu1"]].tensor, relu1[0])
    assert torch.equal(got[node["add"]].tensor, (conv3 + relu1)[0])  # no module: seen at relu3's input
    assert torch.equal(got[node["fc"]].tensor, fc[0])
    maps = got[node["relu1"]]
    assert maps.kind == "maps" and maps.shape == (16, 8, 8) and maps.channels == 16
    assert torch.equal(torch.from_numpy(maps.maps), relu1[0])  # all 16 channels, 8x8 is small already
    assert maps.zeros == pytest.approx(float((relu1 == 0).float().mean()))
    assert maps.zeros > 0.1 and maps.minimum == 0.0 and maps.maximum == pytest.approx(float(relu1.max()))
    assert got[node["fc"]].kind == "vector" and got[node["fc"]].vector.shape == (10,)


def test_input_output_and_the_last_step_of_an_lstm() -> None:
    project = example("digits_lstm")
    views = LayerOutputs(project)
    sample = torch.randn(8, 8, generator=torch.Generator().manual_seed(1))
    node = ids(project)
    got = views.outputs(sample, [node["x"], node["lstm"], node["output"]])
    with torch.no_grad():
        sequence, _ = views.model.lstm(sample[None])
        result = views.model(sample[None])
    assert torch.equal(got[node["x"]].tensor, sample)
    assert got[node["x"]].kind == "sequence" and got[node["x"]].heat.shape == (8, 8)
    assert torch.equal(got[node["lstm"]].tensor, sequence[0, -1])  # return_sequences="last": what fc gets
    assert torch.equal(got[node["output"]].tensor, result[0])


def test_big_maps_are_pooled_and_only_the_first_channels_kept() -> None:
    out = torch.rand(40, 96, 64)  # pooled by 3 x 2
    summary = summarise("n1", "conv", out)
    assert summary.maps.shape == (16, MAX_SIDE, MAX_SIDE)
    assert summary.maps[0].mean() == pytest.approx(float(out[0].mean()), rel=1e-5)
    assert summary.channels == 40


@pytest.mark.slow  # trains an epoch
def test_a_trained_model_is_looked_at_in_eval_mode_and_left_training(images) -> None:
    project = example("residual_cnn", epochs=1)
    trainer = Trainer(project, data=images, save=False)
    assert trainer.run().status == "finished"
    model = trainer.model
    model.train()
    views = LayerOutputs(project, model)
    fc = ids(project)["fc"]
    sample = sample_of(images, 0)
    got = views.output(sample, fc)
    model.eval()
    with torch.no_grad():
        assert torch.equal(got.tensor, model(sample[None])[0])
    assert LayerOutputs(project).output(sample, fc).tensor.ne(got.tensor).any()  # not the random weights


def test_a_sample_that_is_not_there_is_said_plainly(images) -> None:
    with pytest.raises(InspectError, match="no sample 99999 in the test split"):
        sample_of(images, 99999)
