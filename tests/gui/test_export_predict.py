"""File > Export > prediction script after a run in the window: predict.py, with the run's weights exported beside
it as model_weights.pt, gives an image file the class and probability Try it gives the same file (review 6, S7:
there was no such export). The save dialog and the message are answered by the test: nothing modal opens."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.files.project import load
from gui.training import actions, tryit_model

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]  # it trains


def _picture(path: Path, stroke: list[tuple[int, int]]) -> Path:
    """A white stroke on black, 60x52 pixels in colour: made grey and shrunk to the Input on the way."""
    image = Image.new("RGB", (60, 52))
    ImageDraw.Draw(image).line(stroke, fill=(255, 250, 240), width=7)
    image.save(path)
    return path


def test_file_export_prediction_script_gives_try_its_answer(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path / "logs"))
    project = load(EXAMPLES / "digits_mlp.json")
    project.training.epochs, project.training.device = 2, "cpu"
    window.document.set_project(project)
    dash = window.training_dashboard or window.install_training()
    dash.runs_root = tmp_path / "runs"
    with qtbot.waitSignal(dash.run_finished, timeout=120_000) as finished:
        dash.start_training()
    assert finished.args[0].status == "finished", finished.args[0].message

    out = tmp_path / "out"
    out.mkdir()
    answers = iter([out / "model_weights.pt", out / "predict.py"])
    messages: list[tuple[str, bool]] = []
    monkeypatch.setattr(actions, "ask_save_path", lambda parent, title, suggested, filters: str(next(answers)))
    monkeypatch.setattr(actions, "inform", lambda parent, title, text, error=False: messages.append((text, error)))
    assert window.action_map["export_predict"].text() == "Export prediction script…"
    window.action_map["export_weights"].trigger()
    window.action_map["export_predict"].trigger()
    assert len(messages) == 2 and not any(error for _, error in messages), messages
    assert "untrained" not in messages[1][0] and "model_weights.pt" in messages[1][0]

    spec = importlib.util.spec_from_file_location("window_predict", out / "predict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(out)
    model = module.load_model()

    view = dash.tryit
    dash.tabs.setCurrentWidget(view)  # Try it builds the run's network from the run folder
    assert view.model is not None and view.source.kind == "image", view.note.text()
    strokes = ([(30, 6), (30, 46)], [(12, 10), (48, 10), (20, 46)], [(10, 26), (50, 26)])
    for k, stroke in enumerate(strokes):
        picture = _picture(tmp_path / f"p{k}.png", stroke)
        sample = view.source.image_file(str(picture))  # what an opened or dropped file becomes (Pillow's resize)
        expected = tryit_model.probabilities(view.model, view.source, sample)
        got = module.probabilities(model, module.read_image(str(picture))).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert module.CLASSES[int(got.argmax())] == tryit_model.class_name(
            view.source.class_names, int(expected.argmax())
        )
