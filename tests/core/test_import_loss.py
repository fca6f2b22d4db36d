"""The loss an import chooses: pytorch/examples' MNIST net ends in ``F.log_softmax``, so it trains with NLLLoss
(CrossEntropyLoss would apply a second softmax, which the import's own check then warned about)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.fx_import import import_model
from core.model.analysis import analyze


class Net(nn.Module):
    """pytorch/examples' mnist/main.py network, as published."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = torch.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


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
