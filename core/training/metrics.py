"""How good a regression is: MAE, RMSE and R² over the test split, each sample's residual, and the samples the
network got closest to and furthest from.

Accuracy means nothing for numeric targets (the classes of a regression would be its values rounded), so a
regression run is judged by these figures instead. The test split is predicted once more for its raw outputs:
the evaluation the loop shares with the exported script keeps class indices only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core.datasets.base import Dataset
from core.training.loaders import make_loader

SHOWN = 5  # best and worst samples named in the summary and drawn in the results
PREDICTIONS_FILE = "test_predictions.csv"  # in the run folder: every test sample's prediction and residual


@dataclass
class RegressionMetrics:
    """The test split's figures; ``predicted``/``true``/``residuals`` hold one number per test sample (in the
    split's order), ``best``/``worst`` the test indices of the smallest and largest absolute errors."""

    mae: float
    rmse: float
    r2: float | None  # None when every true value is the same (R² is undefined then)
    count: int
    # float32 arrays, not lists: a million test samples as Python floats would hold ~100 MB per list
    predicted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    true: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    residuals: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # predicted - true
    best: list[int] = field(default_factory=list)
    worst: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The flat figures summary.json keeps (not the per-sample lists: a test split may have millions)."""
        return {
            "test_mae": self.mae,
            "test_rmse": self.rmse,
            "test_r2": self.r2,
            "best_samples": self.best,
            "worst_samples": self.worst,
            "predictions_file": PREDICTIONS_FILE,
        }

    def csv_text(self, rows: list[str] | None = None) -> str:
        """One row per test sample (its index in the split, where it is in the user's file when known: a table's
        row, an image's file; true, predicted, residual): the run folder's ``test_predictions.csv``, for a closer
        look in a spreadsheet or pandas."""
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        places = rows if rows is not None and len(rows) == self.count else None
        writer.writerow(["sample", *(["row"] if places else []), "true", "predicted", "residual"])
        values = zip(self.true.tolist(), self.predicted.tolist(), self.residuals.tolist())
        for i, (t, p, r) in enumerate(values):
            writer.writerow([i, *([places[i]] if places else []), f"{t:.9g}", f"{p:.9g}", f"{r:.9g}"])
        return out.getvalue()

    def line(self) -> str:
        """One line for the command line: 'Test MAE 0.1234 - RMSE 0.2345 - R² 0.9876 (200 samples)'."""
        r2 = "–" if self.r2 is None else f"{self.r2:.4f}"
        return f"Test MAE {self.mae:.4f} - RMSE {self.rmse:.4f} - R² {r2} ({self.count:,} samples)"


def regression_metrics(predicted: Any, true: Any, shown: int = SHOWN) -> RegressionMetrics | None:
    """The figures for predictions against true values (tensors or arrays of the same number of values;
    several outputs per sample are compared value by value, a sample's error is its mean absolute error).
    None for an empty split."""
    p = torch.as_tensor(predicted).detach().cpu().double()
    t = torch.as_tensor(true).detach().cpu().double()
    if not p.numel() or not t.numel():
        return None
    n = len(t)
    p, t = p.reshape(n, -1), t.reshape(n, -1)
    if p.shape != t.shape:
        raise ValueError(f"{p.shape[1]} predicted values per sample but {t.shape[1]} true ones")
    diff = p - t
    mae = float(diff.abs().mean())
    rmse = math.sqrt(float((diff**2).mean()))
    total = float(((t - t.mean(0)) ** 2).sum())
    r2 = 1.0 - float((diff**2).sum()) / total if total > 0 else None
    error = diff.abs().mean(1)
    order = torch.argsort(error, stable=True).tolist()
    k = min(shown, n)
    return RegressionMetrics(
        mae=mae,
        rmse=rmse,
        r2=r2,
        count=n,
        predicted=p.mean(1).float().numpy(),
        true=t.mean(1).float().numpy(),
        residuals=diff.mean(1).float().numpy(),
        best=order[:k],
        worst=order[::-1][:k],
    )


@torch.no_grad()
def predict_values(
    model: torch.nn.Module,
    data: Dataset,
    split: str,
    tensors: dict[str, torch.Tensor],
    batch_size: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The raw outputs (float, on the CPU) and the targets of a whole split, in eval mode."""
    model.eval()
    outputs: list[torch.Tensor] = []
    if data.in_memory:
        x = tensors.get(f"x_{split}")
        y = tensors.get(f"y_{split}")
        if x is None or y is None:
            x, y = getattr(data, f"x_{split}").to(device), getattr(data, f"y_{split}")
        for first in range(0, len(x), batch_size):
            outputs.append(model(x[first : first + batch_size]).float().cpu())
        labels = y.cpu()
    else:
        held = []
        for inputs, targets in make_loader(getattr(data, f"{split}_set"), batch_size, device):
            outputs.append(model(inputs.to(device)).float().cpu())
            held.append(targets)
        labels = torch.cat(held) if held else torch.zeros(0)
    predicted = torch.cat(outputs) if outputs else torch.zeros(0)
    return predicted, labels
