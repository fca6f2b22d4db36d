"""What training says it starts from for an imported project (tester's D): "Fine-tuning from the imported
weights" for a project imported without a weights file, whose saved weights are only the constructor's random
starting values, made a learner believe the network had been trained."""

from __future__ import annotations

import torch

from core.training.setup import start_weights


def test_an_imported_project_s_weights_are_not_called_fine_tuning(tmp_path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 3)
    saved = tmp_path / "net.initial.pt"
    torch.save(model.state_dict(), saved)  # what an import without --weights saves: the constructor's values
    said = start_weights(torch.nn.Linear(2, 3), None, "", saved, None)
    assert "fine-tun" not in said.lower(), said
    assert said.startswith("Starting from the imported network's weights net.initial.pt (without a weights file")
    assert "its random starting values): 2 tensors loaded, 0 new." in said
