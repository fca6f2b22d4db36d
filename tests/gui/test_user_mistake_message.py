"""A user's mistake (a TorchCanvasError: bad data file, Input shape that does not fit) is told as the fix, never
with a pointer to a bug-report log: that pointer is kept for real bugs."""

from __future__ import annotations

from pathlib import Path

from core.errors import DataError, plain_message
from gui.training.worker import failure_message


def test_a_data_error_in_a_run_is_told_without_a_bug_report(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path))
    message = failure_message(DataError("data.csv: row 3, column 'x' is not a number; fix that cell"))
    assert message == "data.csv: row 3, column 'x' is not a number; fix that cell"
    assert not (tmp_path / "training-errors.log").exists()


def test_a_real_bug_in_a_run_points_to_its_log(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_LOG_DIR", str(tmp_path))
    message = failure_message(ZeroDivisionError("division by zero"))
    assert "Details for a bug report are in" in message
    assert (tmp_path / "training-errors.log").read_text(encoding="utf-8").count("ZeroDivisionError") >= 1


def test_the_app_does_not_send_a_user_mistake_to_the_log():
    log = Path("/tmp/torchcanvas-errors.log")
    assert plain_message(DataError("digits has 10 classes"), log) == "digits has 10 classes"
    assert "Details for a bug report are in" in plain_message(KeyError("x"), log)


def test_one_plain_message_for_the_app_and_for_a_run():
    """The window's crash text and a failed run's text come from one function: advice for a run, a plain
    sentence for anything else, and the log named once."""
    memory = plain_message(MemoryError(), None, training=True)
    assert memory.startswith("The computer ran out of memory during training")
    assert plain_message(MemoryError(), None).startswith("Something went wrong inside TorchCanvas")
    shape = plain_message(RuntimeError("mat1 and mat2 shapes cannot be multiplied (8x3 and 4x2)"), training=True)
    assert shape.startswith("The network could not process the data: mat1 and mat2 shapes")
    bug = plain_message(KeyError("x"), Path("/tmp/t.log"), training=True)
    assert bug.startswith("Training stopped because of an unexpected error (KeyError: 'x')")
    assert bug.count("/tmp/t.log") == 1
