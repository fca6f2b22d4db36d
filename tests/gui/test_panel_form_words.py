"""The training form's words for starting from an imported network's weights: an import without a weights file
saved only the network's random starting values, so the checkbox must not promise fine-tuning (the run's own
message, core.training.setup, already says both cases)."""

from __future__ import annotations

from gui.training.panel_form import settings_fields


def test_the_start_from_imported_weights_box_does_not_call_random_values_fine_tuning(qtbot) -> None:
    fields = settings_fields()
    qtbot.addWidget(fields.fine_tune)
    words, tip = fields.fine_tune.text(), fields.fine_tune.toolTip()
    assert "fine-tune" not in words.lower() and "imported" in words
    assert "without one its random starting values" in tip and "weights file" in tip
