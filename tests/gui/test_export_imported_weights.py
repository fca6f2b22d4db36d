"""File > Export training script of an imported network puts the imported weights beside the script, as
``torchcanvas export`` does (trial 4, B): the script loads them from its own folder, and before, the window wrote
the script alone, so it started from fresh weights while the app fine-tuned from the imported ones."""

import torch

from core.files.initial_weights import save_with_weights
from gui.training import actions
from tests.core.train_fixtures import mlp_project


def test_file_export_script_puts_the_imported_weights_beside_it(window, tmp_path, monkeypatch):
    project = mlp_project([64], 16, 10, dataset="digits", epochs=1)
    torch.manual_seed(3)
    state = {"0.weight": torch.randn(16, 64)}  # any tensors: copied byte for byte, not read
    weights = save_with_weights(project, state, tmp_path / "net.json")
    assert window.open_file(tmp_path / "net.json")
    target = tmp_path / "elsewhere" / "net_train.py"
    target.parent.mkdir()
    messages = []
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(target))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    window.action_map["export_script"].trigger()
    assert messages and not messages[-1][1], messages
    assert (target.parent / weights.name).read_bytes() == weights.read_bytes()
    assert f'INITIAL_WEIGHTS = "{weights.name}"' in target.read_text()
    assert weights.name in messages[-1][0]
