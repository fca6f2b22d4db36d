"""``predict`` / ``preprocess`` (core/portable/inference.py, pasted into the exported script): one raw
sample, preprocessed as the training preprocessed its split, gives the app model's probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from core.code.script import generate_script, input_shape_of
from core.datasets import load_for_settings
from core.portable.inference import predict, preprocess
from core.training import Trainer
from tests.core.train_fixtures import example, mlp_project


def _script(project: Any) -> dict[str, Any]:
    """The exported script's functions, as `python train.py` would define them (main not run)."""
    names: dict[str, Any] = {"__name__": "train"}
    exec(compile(generate_script(project).source, "train.py", "exec"), names)  # our own script
    return names


@pytest.mark.slow
def test_predict_on_a_raw_sample_gives_the_app_models_softmax(tmp_path) -> None:
    """``predict`` (what Try it runs; the training script no longer carries it) on a raw sample as the
    script's own loader reads it, with the training's mean and std."""
    project = example("digits_mlp", epochs=1)
    trainer = Trainer(project, save=False)
    assert trainer.run().status == "finished"
    app_model = trainer.model
    assert app_model is not None
    app_model.eval()
    data = load_for_settings(project.training, input_shape_of(project))
    with torch.no_grad():
        expected = torch.softmax(app_model(data.x_test[:10]), dim=1)

    script = _script(project)
    x, _, _, _, _ = script["load_digits"]()  # the raw samples, as the loader gives them
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(project.training.seed))
    test = order[: round(len(x) * project.training.test_fraction)]  # prepare's test split
    net = script["Net"]()
    net.load_state_dict(app_model.state_dict())
    for i in range(10):
        args = (data.mean, data.std, script["INPUT_SHAPE"], project.training.loss)
        got = predict(net, x[test[i]], *args)
        assert torch.allclose(got, expected[i], atol=1e-6), (i, got, expected[i])
        grey = x[test[i]][0].numpy()  # [8, 8] without its channel axis: the same picture
        assert torch.allclose(predict(net, grey, *args), expected[i], atol=1e-6)
    assert abs(float(got.sum()) - 1.0) < 1e-6


def test_preprocess_resizes_and_normalises_like_the_training(tmp_path) -> None:
    rng = np.random.default_rng(0)
    npz = tmp_path / "pictures.npz"
    x_test = rng.integers(0, 256, (6, 8, 8), dtype=np.uint8)
    np.savez(npz, x_train=rng.integers(0, 256, (40, 8, 8), dtype=np.uint8), y_train=np.arange(40) % 4,
             x_test=x_test, y_test=np.arange(6) % 4)  # fmt: skip
    project = mlp_project([1, 12, 12], 8, 4, dataset=f"npz:{npz}", resize=[12, 12])
    data = load_for_settings(project.training, input_shape_of(project))
    for i in range(6):  # uint8 pixels [H, W], as a drawing or a file would give them
        sample = preprocess(x_test[i], data.mean, data.std, (1, 12, 12))
        assert sample.shape == (1, 1, 12, 12)
        assert torch.allclose(sample[0], data.x_test[i], atol=1e-5)


def test_a_colour_picture_for_a_grey_network_is_greyed_like_pillow() -> None:
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    mean, std = torch.full((1, 1, 1, 1), 0.5), torch.full((1, 1, 1, 1), 0.25)
    mine = preprocess(rgb, mean, std, (1, 8, 8))
    pillow = preprocess(grey, mean, std, (1, 8, 8))
    assert torch.allclose(mine, pillow, atol=1 / 255 / 0.25)  # Pillow rounds to whole pixel values
    colour = preprocess(grey, None, None, (3, 8, 8))  # grey for a colour network: repeated
    assert colour.shape == (1, 3, 8, 8) and torch.equal(colour[0, 0], colour[0, 2])


@pytest.mark.parametrize("height", [1, 3, 4])
def test_a_strip_1_3_or_4_pixels_high_keeps_its_colour_when_the_layout_is_said(height: int) -> None:
    """F24: a 40 x 3 red strip read as [3, 40, 3] (height, width, channels) was guessed to be [C, H, W]: grey."""
    red = np.zeros((height, 40, 3), dtype=np.float32)
    red[..., 0] = 1.0
    for sample, layout in ((red, "hwc"), (np.transpose(red, (2, 0, 1)), "chw")):
        x = preprocess(sample, None, None, (3, 32, 32), (32, 32), layout=layout)
        assert x.shape == (1, 3, 32, 32)
        assert torch.allclose(x[0].mean((1, 2)), torch.tensor([1.0, 0.0, 0.0]), atol=1e-5), layout
    grey = preprocess(red, None, None, (1, 8, 8), layout="hwc")  # and greyed with Pillow's weight for red
    assert torch.allclose(grey, torch.full((1, 1, 8, 8), 0.299), atol=1e-5)


def test_preprocess_of_a_table_row_matches_the_split() -> None:
    project = mlp_project([4], 8, 3, dataset="iris")
    data = load_for_settings(project.training, input_shape_of(project))
    script = _script(project)
    x, *_ = script["load_sklearn"]("iris")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(project.training.seed))
    row = x[order[0]]  # the first test sample
    assert torch.allclose(preprocess(row, data.mean, data.std, (4,))[0], data.x_test[0], atol=1e-6)
    assert torch.equal(preprocess(torch.tensor([3, 1, 4]), None, None, (3,)), torch.tensor([[3, 1, 4]]))


@pytest.mark.parametrize("loss", ["BCEWithLogitsLoss", "BCELoss"])
def test_one_output_gives_two_class_probabilities(loss: str) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 1))
    if loss == "BCELoss":
        model.append(torch.nn.Sigmoid())
    probabilities = predict(model, [0.3, -1.0], None, None, (2,), loss)
    with torch.no_grad():
        p = float(model(torch.tensor([[0.3, -1.0]])).reshape(()))
    p = 1 / (1 + np.exp(-p)) if loss == "BCEWithLogitsLoss" else p
    assert probabilities.shape == (2,) and float(probabilities[1]) == pytest.approx(p, abs=1e-6)
    assert float(probabilities.sum()) == pytest.approx(1.0)
