"""A regression's survey describes its number to predict by the data's own statistics and says the baseline to
beat (predicting the mean); before, the survey, the wizard and ``torchcanvas data`` said nothing about the target
of a regression (issue 26: its preview once listed the values rounded into classes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.datasets.survey import survey


def _words(values: np.ndarray) -> str:
    mean = values.mean()
    return (
        f"The number to predict goes from {values.min():.4g} to {values.max():.4g} (mean {mean:.4g}, std "
        f"{values.std():.4g}); predicting the mean for every sample scores MAE {np.abs(values - mean).mean():.4g}, "
        "which a network has to beat."
    )


def test_a_table_regression_says_their_target_s_statistics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(50, 2))
    y = np.round(3 * x[:, 0] - 10 + rng.normal(scale=0.1, size=50), 3)
    table = tmp_path / "reg.csv"
    table.write_text("a,b,price\n" + "".join(f"{a:.3f},{b:.3f},{t:.3f}\n" for (a, b), t in zip(x, y)))
    found = survey(f"table:{table}?label=price&number=price")
    assert found.task == "regression" and _words(y) in found.notes
    found = survey(f"csv:{table}:price")
    assert found.task == "regression" and _words(y) in found.notes


def test_a_classification_survey_has_no_such_note(tmp_path: Path) -> None:
    table = tmp_path / "cls.csv"
    table.write_text("a,y\n" + "".join(f"{i}.5,{'ab'[i % 2]}\n" for i in range(20)))
    assert not any("number to predict" in note for note in survey(f"table:{table}?label=y").notes)
