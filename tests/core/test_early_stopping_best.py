"""Early stopping keeps the best epoch (review 6 S3): the exported script tests and saves the weights of the epoch
with the best monitored score, not those PATIENCE epochs past it, and the app tests the same weights (its best.pt);
the Keras script restores its best weights too."""

from __future__ import annotations

import torch

from core.code.keras_script import generate_keras_script
from core.code.script import generate_script
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import example


def _digits_that_stop_past_their_best():
    # lr 0.02: val_loss is best at epoch 3, then worse for 2 epochs: early stopping ends the run at epoch 5
    return example("digits_mlp", epochs=6, early_stopping=2, monitor="val_loss", lr=0.02)


def test_the_script_and_the_app_test_and_keep_the_best_epoch(tmp_path, monkeypatch, capsys) -> None:
    """Before, the script saved and tested the last weights, PATIENCE epochs past the best, while the app's best.pt
    held the best: the two disagreed on the model early stopping produced, and the app tested the last too."""
    project = _digits_that_stop_past_their_best()
    app = Trainer(project, out_dir=tmp_path / "runs").run()
    assert app.status == "finished" and app.run_dir is not None, app.message
    losses = [row["val_loss"] for row in app.history]
    assert app.message.startswith("Early stopping") and losses.index(min(losses)) < len(losses) - 1
    script, _ = run_as_module(generate_script(project).source)
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    try:
        script.main()
    finally:
        torch.set_num_threads(threads)
    output = capsys.readouterr().out
    saved = torch.load(tmp_path / "model_weights.pt")
    best = torch.load(app.run_dir / "best.pt")
    last = torch.load(app.run_dir / "last.pt")
    assert saved.keys() == best.keys()
    for key in saved:
        assert torch.allclose(saved[key], best[key], atol=1e-6), key
    assert any(not torch.allclose(best[key], last[key]) for key in best)  # the best is not the last
    assert f"Test loss: {app.test_loss:.4f} - test accuracy: {app.test_accuracy:.4f}" in output
    model = script.Net()
    model.load_state_dict(best)
    x, y = script.load_data()[4:]  # the test split, as main loads it
    loss, _ = script.evaluate(model, x, y, torch.nn.CrossEntropyLoss(), 256)
    assert abs(loss - app.test_loss) <= 1e-6  # the app tests the best epoch's weights too


def test_a_script_without_early_stopping_keeps_no_copy() -> None:
    """The best epoch's copy only where early stopping is on: other scripts read as before."""
    source = generate_script(example("digits_mlp")).source
    assert "best_weights" not in source and "import copy" not in source
    stopping = generate_script(_digits_that_stop_past_their_best()).source
    assert "best_weights = copy.deepcopy(model.state_dict())" in stopping
    main = stopping[stopping.index("def main() -> None:") :]
    assert main.index("model.load_state_dict(best_weights)") < main.index("evaluate(model, x_test")


def test_the_keras_script_restores_its_best_weights() -> None:
    """Keras' EarlyStopping left the last weights in the model: restore_best_weights=True keeps the best."""
    source = generate_keras_script(_digits_that_stop_past_their_best())
    assert "keras.callbacks.EarlyStopping(\n" in source
    assert '        monitor="val_loss", patience=PATIENCE, restore_best_weights=True\n' in source
