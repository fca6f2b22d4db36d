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
from core.files.project import Project, load
from core.inspect.attribution import INSTALL, Explainer
from core.inspect.nodes import InspectError
from core.model.graph import Graph
from core.settings import TrainingSettings
from core.training import Trainer
from tests.core.train_fixtures import EXAMPLES, mlp_project

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
    # shape, which covers 17 % of it; the share beats the area for 95 % of the images, is over half for 40 %. The
    # issue's "most of the mass inside for most images" does not hold, and no honest choice makes it (issue 28):
    # the evidence for a shape is its outline (the inside is one flat colour, the colours random), and a map spread
    # evenly on a band k pixels either side of the drawn outline has 0.48 / 0.46 / 0.42 of its mass inside for
    # k = 1 / 2 / 3 (over half for at most 7 % of the images); squares get 0.23, this CNN telling them by the
    # background away from them. Every map tried lands near there (median, share of
    # images over half): conv1 0.38 / 26 %, conv2 0.47 / 48 %, relu3 0.45 / 34 %; nearest or align_corners
    # upsampling 0.40 / 40 %, 0.38 / 39 %; |CAM| 0.24 / 2 %; Grad-CAM++ 0.33-0.42; LayerCAM 0.39-0.46; the logit
    # minus the mean logit 0.43 / 35 %, log-softmax 0.29 / 26 %; 30 epochs 0.41 / 37 %; a deeper CNN to 4x4 maps
    # 0.27 / 2 %; the Small ResNet example 0.41 / 16 % at its last stage; saliency, gradient x input and integrated
    # gradients 0.38-0.41 / 5-11 %. The test keeps what holds.
    assert (shares_ > areas_).mean() > 0.85
    assert np.median(shares_) > 1.8 * np.median(areas_)


def block_output_cam(model: torch.nn.Module, block: str, image: torch.Tensor, target: int) -> np.ndarray:
    """Grad-CAM by hand at ``block``'s output: its maps weighted by the mean gradient of the class, summed,
    ReLU'd, upsampled (bilinear) to the image."""
    seen: dict[str, torch.Tensor] = {}

    def keep(_module, _inputs, output):
        output.retain_grad()
        seen["maps"] = output

    hook = model.get_submodule(block).register_forward_hook(keep)
    model.eval()
    model(image[None])[0, target].backward()
    hook.remove()
    maps = seen["maps"]
    cam = (maps.grad.mean((2, 3), keepdim=True) * maps).sum(1, keepdim=True).clamp_min(0)
    return torch.nn.functional.interpolate(cam, image.shape[-2:], mode="bilinear")[0, 0].detach().numpy()


@needs_captum
@pytest.mark.parametrize("copies", [1, 2])
def test_grad_cam_on_a_resnet_reads_its_last_stage_with_the_shortcut(copies: int) -> None:
    """Grad-CAM reads a ResNet's last stage where its output leaves the block, shortcut added (as it is used on
    torchvision's layer4). It read the last Conv2d registered: with one BasicBlockDown in the stage, the 1x1
    projection of the shortcut (layer2 (downsample.0)), with two, the second copy's conv2 before its batch norm
    and the addition (layer2 (1.conv2)). A Conv2d node is still read itself (the shapes CNN's conv3, below)."""
    project = load(EXAMPLES / "resnet_small.json")
    layer2 = project.graph.by_name("layer2")
    project.graph.set_repeat(layer2.id, copies, layer2.first_block, layer2.first_params)
    explainer = Explainer(project)  # random weights: it works before training
    torch.manual_seed(0)
    image = torch.rand(3, 32, 32)
    seen = explainer.explain(image)
    assert seen.method == "Grad-CAM" and seen.layer == "layer2"
    expected = block_output_cam(explainer.model, "layer2", image, seen.target)
    assert expected.max() > 0 and np.allclose(seen.map, expected, atol=1e-6 * expected.max())


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
