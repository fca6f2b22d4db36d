"""What the Results tab says in words: the line of a run's test figures above its views (``summary_html``: the
accuracy, or R², MAE and RMSE for a regression, with the loss, the epochs and the device; a failed run's reason)
and the title over the test samples (``samples_title``: how many of the whole test set were wrong, how many of
them are shown). The colours for right and wrong are these words' and the samples' alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui.training.results_regression import value

if TYPE_CHECKING:
    from core.training.events import TrainResult

RIGHT, WRONG = "#1b7f3b", "#c62828"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def samples_title(wrong: int, total: int, shown_wrong: int, pictures: bool = True) -> str:
    """'62 of 2,000 wrong; showing 24': the errors of the whole test set, then how many of them are drawn ("24
    wrong first" read as the number of errors)."""
    if wrong == 0:
        verdict = f"<span style='color:{RIGHT}'>all {total:,} right</span>"
    else:
        verdict = f"<span style='color:{WRONG}'>{wrong:,} of {total:,} wrong</span>; showing {shown_wrong:,} first"
        verdict += " (true label in brackets), then right ones"
    where = "under each picture" if pictures else "before each sample"
    return f"<b>Test samples</b>, predicted label {where}: {verdict}."


def summary_html(result: TrainResult) -> str:
    status = result.status
    if status == "failed":
        head = f"<b style='color:{WRONG}'>The run failed.</b> {result.message}"
        if result.history:
            head += f" The curves of the {len(result.history)} finished epoch(s) are kept."
        return head
    word = "Finished" if status == "finished" else "Stopped early"
    figures = getattr(result, "regression", None)
    if figures is not None:
        r2 = "–" if figures.r2 is None else f"{figures.r2:.3f}"
        parts = [
            f"<b>{word}.</b>",
            f"Test R² <b style='font-size:13pt'>{r2}</b>",
            f"MAE <b>{value(figures.mae)}</b>",
            f"RMSE <b>{value(figures.rmse)}</b>",
            f"test loss <b>{_number(result.test_loss)}</b>",
        ]
    else:
        parts = [
            f"<b>{word}.</b>",
            f"Test accuracy <b style='font-size:13pt'>{_percent(result.test_accuracy)}</b>",
            f"test loss <b>{_number(result.test_loss)}</b>",
        ]
    if result.history:
        parts.append(f"{len(result.history)} epoch(s)")
    if result.device:
        parts.append(f"on {result.device}")
    text = " · ".join(parts)
    if status == "stopped" and result.message:
        text += f"<br>{result.message}"
    return text
