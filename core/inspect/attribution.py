"""Why the network predicted what it did, for one sample: where it looked in an image (Grad-CAM for a network with
convolutions, integrated gradients otherwise) and how much each column of a table pushed the answer.

Computed with Captum, the PyTorch library for attributions, an optional extra: without it every call raises
``InspectError`` saying ``pip install "torchcanvas[explain]"``. The model is the generated one (built from the
project, or the trainer's); it is put in eval mode for the computation and back after.

Grad-CAM reads the node that holds the last convolution (the last ``Conv2d`` the network registers): a Conv2d node
itself, or a block's output with the shortcut added, as Grad-CAM is used on a ResNet's last stage (the last Conv2d
inside a block misses what the shortcut carries, and a stage of one ``BasicBlockDown`` registers its 1x1 shortcut
projection last: that alone was read). A block that flattens its maps itself leaves the last Conv2d. The maps are
weighted by the gradient of the explained class, summed, ReLU'd and upsampled (bilinear) to the input size: where
the evidence for that class is. Integrated gradients sum the gradients along the straight path from an all-zero
input (the mean sample, once normalised) to the sample: each input value's share of the output's change.
Token inputs are explained at the Embedding's output, one number per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from core.files.built_model import build_model
from core.files.project import Project
from core.inspect.nodes import InspectError, label, module_nodes

INSTALL = 'Explaining predictions needs Captum, an optional extra: pip install "torchcanvas[explain]"'
STEPS = 32  # integrated gradients' points along the path: enough for a stable map, cheap on a CPU


@dataclass
class Attribution:
    """``map``: for an image [H, W] (Grad-CAM: >= 0; integrated gradients: summed |.| over channels), for a table
    [F] signed per-column contributions (``columns`` names them when known), for a sequence [T] per step."""

    method: str  # "Grad-CAM" or "integrated gradients"
    target: int | None  # the class explained (None: a single-output regression)
    predicted: int | None
    map: np.ndarray
    layer: str | None = None  # Grad-CAM: the node (and inner layer) whose maps were used
    columns: list[str] | None = None

    def share_inside(self, mask: np.ndarray) -> float:
        """The share of the (non-negative) attribution that falls inside ``mask``: how much of where it looked
        is on the object."""
        weights = np.clip(self.map, 0, None)
        total = float(weights.sum())
        return float(weights[mask].sum()) / total if total > 0 else 0.0


def _captum() -> Any:
    try:
        # here, not above: captum is optional; without it the user is told how to install it (INSTALL)
        import captum.attr
    except ImportError:
        raise InspectError(INSTALL) from None
    return captum.attr


class Explainer:
    """Attributions for one project's network (``model``: the trainer's; default: built from the project)."""

    def __init__(self, project: Project, model: nn.Module | None = None) -> None:
        self.attr = _captum()
        self.project = project
        self.nodes = module_nodes(project.graph)
        if model is None:
            model = build_model(project).module
        self.model = model

    def gradcam_layer(self, batch: torch.Tensor) -> tuple[str, nn.Module] | None:
        """The module whose maps Grad-CAM reads for ``batch`` (None: no Conv2d): the network's node (top-level
        module) that holds the last Conv2d when it still outputs maps [N, C, H, W], else that Conv2d."""
        convs = [name for name, m in self.model.named_modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            return None
        last = (convs[-1], self.model.get_submodule(convs[-1]))
        head = convs[-1].split(".")[0]
        if head == convs[-1]:
            return last
        node = self.model.get_submodule(head)
        dims: list[int] = []
        hook = node.register_forward_hook(lambda _m, _i, out: dims.append(getattr(out, "ndim", 0)))
        try:
            with torch.no_grad():
                self.model(batch)
        finally:
            hook.remove()
        return (head, node) if dims == [4] else last

    def explain(
        self,
        sample: torch.Tensor,
        target: int | None = None,
        method: str = "auto",
        columns: list[str] | None = None,
    ) -> Attribution:
        """Explain the model's output for one sample (no batch dimension). ``target``: the class (default: the
        predicted one). ``method``: "auto" (Grad-CAM for an image into a network with convolutions, integrated
        gradients otherwise), "gradcam" or "integrated"."""
        device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        batch = sample.unsqueeze(0).to(device)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                output = self.model(batch)
            predicted = int(output.argmax(1)) if output.ndim == 2 and output.shape[1] > 1 else None
            target = predicted if target is None else target
            image = sample.ndim == 3 and sample.is_floating_point()
            conv = self.gradcam_layer(batch) if image else None
            if method == "gradcam" or (method == "auto" and conv is not None and image):
                if conv is None or not image:
                    raise InspectError("Grad-CAM needs an image into a network with a Conv2d layer.")
                return self._gradcam(batch, target, predicted, *conv)
            if method not in ("auto", "integrated"):
                raise InspectError(f"Unknown explanation method {method!r}: auto, gradcam or integrated.")
            return self._integrated(batch, target, predicted, columns)
        finally:
            self.model.train(was_training)

    def _gradcam(
        self, batch: torch.Tensor, target: int | None, predicted: int | None, name: str, conv: nn.Module
    ) -> Attribution:
        cam = self.attr.LayerGradCam(self.model, conv).attribute(batch, target=target, relu_attributions=True)
        upsampled = self.attr.LayerAttribution.interpolate(cam, tuple(batch.shape[-2:]), "bilinear")
        heat = upsampled[0, 0].detach().clamp_min(0).cpu().numpy()
        return Attribution("Grad-CAM", target, predicted, heat, layer=label(name, self.nodes))

    def _integrated(
        self, batch: torch.Tensor, target: int | None, predicted: int | None, columns: list[str] | None
    ) -> Attribution:
        if batch.is_floating_point():
            ig = self.attr.IntegratedGradients(self.model)
            values = ig.attribute(batch, baselines=torch.zeros_like(batch), target=target, n_steps=STEPS)[0]
        else:  # token ids: along the path of the Embedding's output, one number per token
            embedding = next((m for m in self.model.modules() if isinstance(m, nn.Embedding)), None)
            if embedding is None:
                raise InspectError("Integer inputs can be explained only through an Embedding layer.")
            ig = self.attr.LayerIntegratedGradients(self.model, embedding)
            values = ig.attribute(batch, baselines=torch.zeros_like(batch), target=target, n_steps=STEPS)[0].sum(-1)
        values = values.detach().cpu()
        if values.ndim == 3:  # an image: one number per pixel
            values = values.abs().sum(0)
        elif values.ndim == 2 and batch.is_floating_point():  # a sequence [T, F]: one number per step
            values = values.abs().sum(1)
        names = columns if columns is not None and values.ndim == 1 and len(columns) == len(values) else None
        return Attribution("integrated gradients", target, predicted, values.numpy(), columns=names)
