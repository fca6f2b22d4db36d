"""Trial 4 I.7: the Keras-like progress line (``torchcanvas train`` and the exported scripts print it) stays
readable when a run explodes or crawls. Before, a loss of 2.7e32 was printed as 33 digits and ".4f" zeros, and a
run at 0.3 samples a second said "0 samples/s"."""

from __future__ import annotations

from core.portable.steps import progress_line


def test_an_exploding_loss_is_printed_in_e_notation() -> None:
    line = progress_line(45, 10.0, 900, {"loss": 2.706989457147664e32, "accuracy": 0.1})
    assert "loss: 2.707e+32" in line and "270698945714766" not in line
    assert "accuracy: 0.1000" in line  # ordinary figures keep Keras's 4 decimals


def test_a_slow_run_says_how_many_samples_a_second_it_trains() -> None:
    assert "0.3 samples/s" in progress_line(45, 10.0, 3, {"loss": 2.3})
    assert "12.5 samples/s" in progress_line(45, 2.0, 25, {"loss": 2.3})
    assert "9,000 samples/s" in progress_line(45, 1.0, 9000, {"loss": 2.3})  # a fast one as before
