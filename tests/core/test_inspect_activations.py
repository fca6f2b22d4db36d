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


@pytest.mark.slow  # trains an epoch
def test_live_preview_refreshes_once_an_interval_with_the_weights_of_that_moment(images) -> None:
    from core.inspect.activations import LivePreview

    project = example("residual_cnn", epochs=1)
    node = ids(project)
    sample = sample_of(images, 5)
    ticks = iter(0.3 * k for k in range(10_000))  # the clock moves 0.3 s per batch: a refresh every 4th batch
    seen: list[int] = []
    model: list[torch.nn.Module] = []

    def check(step: int, outputs: dict) -> None:
        seen.append(step)
        net = model[0]
        net.eval()
        with torch.no_grad():  # the numbers of the weights the model has right now
            assert torch.equal(outputs[node["conv1"]].tensor, net.conv1(sample[None])[0])
        net.train()

    class Keep:
        def attach(self, m: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
            model.append(m)

        def after_batch(self, step: int, loss: float) -> None:
            assert model[0].training  # the preview put the model back in training mode

        def detach(self) -> None:
            pass

    preview = LivePreview(project, sample, [node["conv1"]], check, interval=1.0, clock=lambda: next(ticks))
    assert Trainer(project, data=images, save=False, watchers=[Keep(), preview]).run().status == "finished"
    assert seen[:4] == [1, 5, 9, 13]  # 0.0, 1.2, 2.4, 3.6 s
    got: list[dict] = []
    preview = LivePreview(project, sample, [node["conv1"]], lambda step, outputs: got.append(outputs))
    preview.attach(model[0], None)  # type: ignore[arg-type]
    preview.select(sample_of(images, 6), [node["relu1"]])  # the window's picker, from its thread
    preview.after_batch(1, 0.0)
    assert list(got[0]) == [node["relu1"]]
    assert torch.equal(
        got[0][node["relu1"]].tensor, LayerOutputs(project, model[0]).output(sample_of(images, 6), node["relu1"]).tensor
    )
