"""The lines the training form writes: Keras-like epoch lines, the result, durations and short dataset names.
Plain text from events and results, kept apart from the widgets so each is easy to read and test."""

from __future__ import annotations

from typing import Any


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def keras_line(event: Any, seconds: float | None) -> str:
    """'Epoch 3/5 - 2.1s - loss: 0.2910 - accuracy: 0.9170 - val_loss: 0.1532 - val_accuracy: 0.9550'."""
    parts = [f"Epoch {event.epoch}/{event.epochs}"]
    if seconds is not None:
        parts.append(f"{seconds:.1f}s")
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        value = getattr(event, name, None)
        if value is not None:
            parts.append(f"{name}: {value:.4f}")
    if getattr(event, "lr", None) is not None:
        parts.append(f"lr: {event.lr:.3g}")
    return " - ".join(parts)


def paused_line(progress: str) -> str:
    """'Epoch 2/5 · batch 3/14 · 900 samples/s · ETA 0:12' -> 'Paused · epoch 2/5 · batch 3/14'."""
    kept = [p for p in progress.split(" · ") if p.startswith(("Epoch", "batch"))]
    return " · ".join(["Paused", *(p[0].lower() + p[1:] for p in kept)])


def result_line(result: Any) -> str:
    parts = ["Done."]
    if result.test_loss is not None:
        parts.append(f"test_loss: {result.test_loss:.4f}")
    if result.test_accuracy is not None:
        parts.append(f"test_accuracy: {result.test_accuracy:.4f}")
    return " - ".join(parts)


KIND_WORDS = {"folder": "image folder", "table": "table", "text": "text"}  # others: "npz file", "idx file"


def short_spec(spec: str) -> str:
    """'npz:/long/path/mnist_10k.npz' -> 'mnist_10k.npz (npz file)'; 'table:/a/houses.csv?label=price' ->
    'houses.csv (table)'; a generated set with options ('shapes:classes=3') stays."""
    kind, colon, rest = spec.partition(":")
    if not colon or ("=" in rest and "/" not in rest and "\\" not in rest):
        return spec
    if kind == "table" and "?" in rest:
        rest = rest.rsplit("?", 1)[0]
    if kind == "idx":  # IMAGES,LABELS: named by the images file
        rest = rest.rsplit(",", 1)[0]
    name = rest.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return f"{name} ({KIND_WORDS.get(kind, kind + ' file')})"
