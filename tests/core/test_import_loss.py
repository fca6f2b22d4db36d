"""The loss an import chooses: pytorch/examples' MNIST net ends in ``F.log_softmax``, so it trains with NLLLoss
(CrossEntropyLoss would apply a second softmax, which the import's own check then warned about)."""

from __future__ import annotations

import torch
from torch import nn

from core.fx_import import import_model
from core.model.analysis import analyze
from tests.core.mnist_net import Net


def test_a_net_ending_in_log_softmax_trains_with_nll_loss_and_its_check_is_quiet() -> None:
    project = import_model(Net().eval(), [1, 28, 28]).project
    assert project.training.loss == "NLLLoss"
    project.training.dataset = "mnist"
    task = [p.message for p in analyze(project.graph, project.training).problems if p.kind == "task"]
    assert not any("LogSoftmax" in m for m in task), task


class Plain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(x, 1))


def test_a_net_ending_in_scores_keeps_cross_entropy() -> None:
    assert import_model(Plain().eval(), [1, 28, 28]).project.training.loss == "CrossEntropyLoss"
