"""Why this prediction (a widget for Try it): the attribution of core.inspect.attribution shown as an overlay on
an image or as signed bars for a table, said in words; without Captum, how to install it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.datasets import load_dataset
from core.files.built_model import build_model
from core.files.project import load
from core.inspect.attribution import Explainer
from gui.inspect.why_view import WhyPanel

pytest.importorskip("captum")
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.mark.slow  # Grad-CAM through a ResNet: about two seconds
def test_an_image_gets_its_grad_cam_laid_over_it(qtbot) -> None:
    project = load(EXAMPLES / "resnet_small.json")  # a CNN on the shapes set; random weights are enough here
    model = build_model(project).module
    data = load_dataset(project.training.dataset, input_shape=(3, 32, 32))
    sample = data.x_test[0]
    panel = WhyPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.explained, timeout=60_000) as done:
        panel.explain(project, model, sample, picture=sample, class_names=data.class_names)
    shown = done.args[0]
    expected = Explainer(project, model).explain(sample)
    assert shown.method == "Grad-CAM" and np.allclose(shown.map, expected.map, atol=1e-5)
    assert shown.map.shape == (32, 32)
    pixmap = panel.picture.pixmap()
    assert not pixmap.isNull() and pixmap.width() > 100
    assert "Grad-CAM at " in panel.caption.text() and data.class_names[shown.target] in panel.caption.text()


def test_a_table_gets_one_signed_bar_per_column(qtbot) -> None:
    project = load(EXAMPLES / "spirals.json")
    model = build_model(project).module
    sample = torch.tensor([0.5, -1.0])
    panel = WhyPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.explained, timeout=60_000) as done:
        panel.explain(project, model, sample, columns=["x", "y"], class_names=["a", "b", "c"])
    shown = done.args[0]
    assert shown.method == "integrated gradients" and shown.map.shape == (2,)
    assert panel.pages.currentWidget() is panel.bars and list(panel.bars.values) == pytest.approx(list(shown.map))
    assert "x (" in panel.caption.text() and "y (" in panel.caption.text()


def test_without_captum_it_says_how_to_install_it(qtbot, monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def no_captum(name, *args, **kwargs):
        if name.startswith("captum"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_captum)
    project = load(EXAMPLES / "spirals.json")
    panel = WhyPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.explained, timeout=60_000) as done:
        panel.explain(project, build_model(project).module, torch.tensor([0.5, -1.0]))
    assert done.args[0] is None
    assert 'pip install "torchcanvas[explain]"' in panel.caption.text()


def test_the_same_model_trained_further_is_explained_with_its_new_weights(qtbot) -> None:
    """The panel explains a copy of the model (Captum's hooks stay off the GUI thread's model); a copy made once
    and kept would explain the weights of the first request forever."""
    project = load(EXAMPLES / "spirals.json")
    model = build_model(project).module
    sample = torch.tensor([0.5, -1.0])
    panel = WhyPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.explained, timeout=60_000) as first:
        panel.explain(project, model, sample, columns=["x", "y"])
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(-2.0)  # as if a step of training had changed them
    with qtbot.waitSignal(panel.explained, timeout=60_000) as second:
        panel.explain(project, model, sample, columns=["x", "y"])
    expected = Explainer(project, model).explain(sample, target=second.args[0].target, columns=["x", "y"])
    assert np.allclose(second.args[0].map, expected.map, atol=1e-5)
    assert not np.allclose(second.args[0].map, first.args[0].map)
