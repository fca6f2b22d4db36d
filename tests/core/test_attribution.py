"""Why this prediction (core.inspect.attribution): Grad-CAM on a CNN trained on the shapes set looks at the
drawn shape; integrated gradients give per-column contributions for a table; without Captum, a plain message."""

from __future__ import annotations

import sys
from importlib.util import find_spec

import numpy as np
import pytest
import torch

from core.datasets import load_for_settings
from core.datasets.shapes_draw import make_shapes
from core.files.project import Project
from core.inspect.attribution import INSTALL, Explainer
from core.inspect.nodes import InspectError
from core.model.graph import Graph
from core.settings import TrainingSettings
from core.training import Trainer
from tests.core.train_fixtures import mlp_project

needs_captum = pytest.mark.skipif(find_spec("captum") is None, reason='needs pip install "torchcanvas[explain]"')


def shape_masks(images: torch.Tensor) -> np.ndarray:
    """Where the shape is, from the pixels: every image is one flat colour on another (each channel of one in
    [0, 0.4], of the other in [0.6, 1], noise 0.08), so a pixel's mean over channels says which it is; the shape
    is the smaller part (it covers at most 44 % of the image)."""
    bright = images.mean(1) > 0.5
    smaller = bright.float().mean((1, 2)) < 0.5
    return torch.where(smaller[:, None, None], bright, ~bright).numpy()


def redrawn_masks(samples: int, classes: int, seed: int) -> np.ndarray:
    """The masks core.datasets.shapes_draw.make_shapes draws, redrawn with its own random draws in its order."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % classes
    rng.shuffle(labels)
    radius = rng.uniform(6.0, 12.0, (samples, 1, 1))
    cx = rng.uniform(radius[:, 0, 0], 31.0 - radius[:, 0, 0])[:, None, None]
    cy = rng.uniform(radius[:, 0, 0], 31.0 - radius[:, 0, 0])[:, None, None]
    grid = np.arange(32, dtype=np.float32)
    dx, dy = (grid[None, None, :] - cx) / radius, (grid[None, :, None] - cy) / radius
    dist, ax, ay = np.sqrt(dx**2 + dy**2), np.abs(dx), np.abs(dy)
    drawn = [
        dist <= 1.0,
        np.maximum(ax, ay) <= 0.8,
        (dy <= 0.7) & (ax <= (dy + 1.0) * 0.6),
        ((ax <= 0.3) & (ay <= 1.0)) | ((ay <= 0.3) & (ax <= 1.0)),
        (dist <= 1.0) & (dist >= 0.55),
    ]
    mask = np.zeros((samples, 32, 32), dtype=bool)
    for k in range(classes):
        mask[labels == k] = drawn[k][labels == k]
    return mask


def test_the_mask_read_from_the_pixels_is_the_one_the_generator_drew() -> None:
    images, labels, *_ = make_shapes(400, 5, 3)
    drawn = redrawn_masks(400, 5, 3)
    assert (shape_masks(images) == drawn).mean() > 0.9999
    assert drawn.any((1, 2)).all()


def shapes_cnn() -> Project:
    """Two convolutions at 16x16 after one pooling, global average pooling, a linear head: the classic
    network Grad-CAM is made for (its last convolution is conv3)."""
    graph = Graph()
    graph.chain(
        [
            graph.add("Input", "x", shape=[3, 32, 32]),
            graph.add("Conv2d", "conv1", out_channels=16, kernel_size=3, padding=1),
            graph.add("ReLU", "relu1"),
            graph.add("MaxPool2d", "pool", kernel_size=2),
            graph.add("Conv2d", "conv2", out_channels=32, kernel_size=3, padding=1),
            graph.add("ReLU", "relu2"),
            graph.add("Conv2d", "conv3", out_channels=32, kernel_size=3, padding=1),
            graph.add("ReLU", "relu3"),
            graph.add("AdaptiveAvgPool2d", "gap", output_size=1),
            graph.add("Flatten", "flatten"),
            graph.add("Linear", "fc", out_features=5),
            graph.add("Output", "out"),
        ]
    )
    settings = TrainingSettings(dataset="shapes", device="cpu", epochs=12, batch_size=64, lr=3e-3, val_fraction=0.1)
    return Project(graph, "Shapes CNN", "", settings)


@needs_captum
@pytest.mark.slow  # trains a CNN for 12 epochs (about 40 s on 2 busy cores)
def test_grad_cam_on_a_cnn_trained_on_shapes_looks_at_the_drawn_shape() -> None:
    project = shapes_cnn()
    data = load_for_settings(project.training, (3, 32, 32), None, None)
    trainer = Trainer(project, data=data, save=False)
    result = trainer.run()
    assert result.status == "finished" and result.test_accuracy > 0.9
    explainer = Explainer(project, trainer.model)
    images = data.x_test
    masks = shape_masks(images * data.std.reshape(1, -1, 1, 1) + data.mean.reshape(1, -1, 1, 1))
    shares, areas = [], []
    for image, mask in zip(images, masks):
        seen = explainer.explain(image)
        assert seen.method == "Grad-CAM" and seen.layer == "conv3" and seen.map.shape == (32, 32)
        assert (seen.map >= 0).all()
        shares.append(seen.share_inside(mask))
        areas.append(mask.mean())
    shares_, areas_ = np.array(shares), np.array(areas)
    # Measured (seed 0, 300 test images, 0.99 accuracy): the median image has 40 % of the Grad-CAM mass inside the
    # shape, which covers 17 % of it; the share beats the area for 95 % of the images. The issue's "most of the mass
    # inside for most images" does not hold (40 % of images), and no choice the app could make fixes it (issue 28):
    # other layers (conv1 at 32x32: median 0.38, 26 % of images over 0.5; conv2: 0.47, 48 %; relu3's rectified
    # maps: 0.45, 34 %), no ReLU on the map (conv3: 0.40, 40 %), other networks (no pooling: 0.46 / 38 % at best;
    # two poolings to 8x8: 0.34 / 13 % at best). Counting a 2-pixel band around the shape as "on it" (3x3 filters
    # see an edge from both sides) gives 0.62 / 68 %, but squares stay at 0.35: the evidence these networks weigh
    # for a square lies on the background around it (not checked by occlusion), and the test keeps what holds.
    assert (shares_ > areas_).mean() > 0.85
    assert np.median(shares_) > 1.8 * np.median(areas_)


@needs_captum
@pytest.mark.slow
def test_integrated_gradients_give_each_column_its_contribution() -> None:
    project = mlp_project([4], 16, 3, dataset="iris", epochs=30, batch_size=16)
    data = load_for_settings(project.training, (4,), None, None)
    trainer = Trainer(project, data=data, save=False)
    assert trainer.run().status == "finished"
    model = trainer.model
    columns = ["sepal length", "sepal width", "petal length", "petal width"]
    sample = data.x_test[0]
    seen = Explainer(project, model).explain(sample, columns=columns)
    assert seen.method == "integrated gradients" and seen.columns == columns and seen.map.shape == (4,)
    model.eval()
    with torch.no_grad():
        out = model(sample[None])[0]
        base = model(torch.zeros(1, 4))[0]
    assert seen.predicted == int(out.argmax()) == seen.target
    # completeness: the contributions add up to the change of the explained output from the all-zero input
    change = float(out[seen.target] - base[seen.target])
    assert abs(float(seen.map.sum()) - change) < 0.05 * abs(change) + 1e-3
    other = Explainer(project, model).explain(sample, target=(seen.target + 1) % 3)
    assert other.target != seen.target and not np.allclose(other.map, seen.map)


@needs_captum
def test_an_image_into_a_network_without_convolutions_gets_integrated_gradients_per_pixel() -> None:
    project = mlp_project([1, 8, 8], 16, 10)
    seen = Explainer(project).explain(torch.rand(1, 8, 8))  # random weights: it works before training
    assert seen.method == "integrated gradients" and seen.map.shape == (8, 8) and (seen.map >= 0).all()
    with pytest.raises(InspectError, match="Grad-CAM needs"):
        Explainer(project).explain(torch.rand(1, 8, 8), method="gradcam")


def test_without_captum_the_message_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "captum", None)  # import captum now raises ImportError
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(InspectError) as caught:
        Explainer(mlp_project([4], 8, 3))
    assert str(caught.value) == INSTALL and 'pip install "torchcanvas[explain]"' in INSTALL
