"""The weights a network starts training from, for the views that look at it before a run (Layer output, the
learning-rate range test): an imported network's own weights, a pretrained network's, the initial weights setting's
file, or random ones from the project's seed.

A view that showed random weights while training and every export start from the imported ones told a user who
imported a trained model that it outputs noise (trial 5 J7, J11). The choice is the trainer's own: the script's
transfer plan (``core.code.script_transfer.transfer_plan``: the initial weights setting, else, while fine-tuning,
the imported weights beside the project file) and the loading is ``core.training.setup.start_weights`` (matched by
name and shape), so what a view shows is what epoch 1 starts from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from core.code.codegen import attribute_names
from core.code.script_transfer import Transfer, transfer_plan
from core.files.built_model import build_model
from core.files.initial_weights import initial_weights
from core.files.project import Project
from core.model.analysis import analyze
from core.training.setup import start_weights


@dataclass(frozen=True)
class Start:
    """Which weights: ``kind`` is "imported", "pretrained", "initial" or "random"; ``name`` the file's name (a
    pretrained network's: torchvision's name for the weights)."""

    kind: str
    name: str = ""
    file: str = ""  # the file they are read from ("" for random ones)

    def words(self) -> str:
        """'imported weights (resnet.initial.pt)', 'random weights'."""
        return f"{self.kind} weights" + (f" ({self.name})" if self.name else "")


def start_of(project: Project, project_path: str | os.PathLike[str] | None) -> Start:
    """The weights a run of ``project`` (saved at ``project_path``) starts from, as the trainer chooses them."""
    analysis = analyze(project.graph)
    plan: Transfer = transfer_plan(project, analysis, attribute_names(project.graph, analysis))
    if plan.torchvision:
        return Start("pretrained", plan.torchvision, plan.initial)
    if plan.initial:
        return Start("initial", Path(plan.initial).name, plan.initial)
    imported = initial_weights(project, project_path) if plan.imported else None
    if imported is not None:
        return Start("imported", imported.name, str(imported))
    return Start("random")


def start_model(project: Project, project_path: str | os.PathLike[str] | None) -> tuple[nn.Module, Start]:
    """The network (eval mode) holding the weights training starts from, and which they are: random ones from the
    project's seed (the values a run draws first) with the start weights loaded over them by name and shape."""
    start = start_of(project, project_path)
    model = build_model(project).module
    if start.kind == "imported":
        start_weights(model, None, "", start.file, None)
    elif start.kind != "random":
        start_weights(model, None, start.file, None, None)
    return model, start
