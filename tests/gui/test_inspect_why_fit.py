"""Why this prediction in the window says which method explains a Vision-Transformer-like network and why, and
says plainly that a network with a score for every pixel cannot be explained (trial 5 J6: "Grad-CAM at patch_embed
(proj): yellow is where the network found the evidence", and "Something went wrong inside TorchCanvas ...
AssertionError" for a U-Net)."""

from __future__ import annotations

import pytest
import torch

from core.files.built_model import build_model
from gui.inspect.why_view import WhyPanel
from tests.core.test_attribution_fit import project_of, tokens_after

pytest.importorskip("captum")


def explained(qtbot, project, sample):
    panel = WhyPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.explained, timeout=60_000) as done:
        panel.explain(project, build_model(project).module, sample, picture=sample)
    return done.args[0], panel.caption.text()


def test_a_vit_like_network_is_explained_by_integrated_gradients_and_the_caption_says_why(qtbot) -> None:
    project = tokens_after(("Conv2d", "patch", {"out_channels": 8, "kernel_size": 4, "stride": 4}))
    shown, caption = explained(qtbot, project, torch.rand(3, 16, 16))
    assert shown.method == "integrated gradients" and not caption.startswith("Grad-CAM")
    assert "Integrated gradients, not Grad-CAM: the last convolution, patch, is the network's first layer" in caption


def test_a_network_with_a_score_for_every_pixel_is_said_plainly(qtbot) -> None:
    project = project_of(
        ("Input", "x", {"shape": [3, 8, 8]}),
        ("Conv2d", "seg", {"out_channels": 2, "kernel_size": 3, "padding": 1}),
        ("Output", "out", {}),
    )
    shown, caption = explained(qtbot, project, torch.rand(3, 8, 8))
    assert shown is None and "Something went wrong" not in caption and "AssertionError" not in caption
    assert caption.startswith("Why explains a network that outputs one score per class") and "[N, 2, 8, 8]" in caption
