"""The built-in token-sequence set: generated offline from the seed, for Embedding + LSTM/GRU networks.

Each sample is ``length`` token ids (int64, never normalised) from ``0`` to ``vocab - 1``; tokens ``1`` to
``classes`` are markers and the class is the marker that comes first (see
``core.portable.sources.make_sequences``). ``sequence_info`` describes it without generating anything, for the
checks that compare a network with its dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.portable.sources import make_sequences

SEQUENCE_DEFAULTS: dict[str, int] = {"samples": 4000, "length": 20, "vocab": 30, "classes": 4}
SEQUENCE_LIMITS: dict[str, tuple[int, int]] = {
    "samples": (8, 1_000_000),
    "length": (3, 1000),
    "vocab": (4, 100_000),
    "classes": (2, 20),
}
SEQUENCE_DTYPE = "int64"


@dataclass(frozen=True)
class SequenceInfo:
    """What the sequence set gives a network: Input shape and dtype, and what the last layers must match."""

    input_shape: tuple[int, ...]  # (length,): one sample, without the batch dimension
    dtype: str  # "int64": token ids, for an Embedding
    vocab_size: int  # an Embedding's num_embeddings must be at least this
    num_classes: int
    class_names: tuple[str, ...]


def sequence_options(options: dict[str, Any] | None = None) -> dict[str, int]:
    """The options with their defaults filled in."""
    return {**SEQUENCE_DEFAULTS, **{k: int(v) for k, v in (options or {}).items()}}


def sequence_info(options: dict[str, Any] | None = None) -> SequenceInfo:
    """Metadata of ``sequences`` (pass ``DataSpec.options`` for ``sequences:length=...``), without loading."""
    o = sequence_options(options)
    names = tuple(f"token {k + 1} first" for k in range(o["classes"]))
    return SequenceInfo((o["length"],), SEQUENCE_DTYPE, o["vocab"], o["classes"], names)


def check_sequence_options(options: dict[str, float], text: str) -> str | None:
    """The first problem with the options, in words, or None."""
    for name, (low, high) in SEQUENCE_LIMITS.items():
        value = options[name]
        if value != int(value) or not low <= value <= high:
            return f"{text!r}: {name} must be a whole number from {low} to {high}"
    if options["vocab"] < options["classes"] + 2:
        return f"{text!r}: vocab must be at least classes + 2 (the markers 1 to classes and one other token)"
    return None


def load_sequences(options: dict[str, Any], seed: int) -> tuple:
    """The sequences are drawn from the seed, so a run and its exported script see the same tokens."""
    o = sequence_options(options)
    return make_sequences(o["samples"], o["length"], o["vocab"], o["classes"], seed)
