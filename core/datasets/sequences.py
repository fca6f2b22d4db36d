"""The built-in token-sequence set: generated offline from the seed, for Embedding + LSTM/GRU networks.

Each sample is ``length`` token ids (int64, never normalised) from ``0`` to ``vocab - 1``; tokens ``1`` to
``classes`` are markers and the class is the marker that comes first (see
``core.portable.sources.make_sequences``). ``sequence_info`` describes it without generating anything, for the
checks that compare a network with its dataset. Everything about the source is in this module: its
``Source`` entry at the end is what parsing, loading, the exported script and the checks read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.datasets.info import DataInfo
from core.datasets.spec import DataSpec, LoadRequest, ScriptLoad, Source, options, options_text, register
from core.errors import DataError
from core.settings import TrainingSettings

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
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable.sources import make_sequences

    o = sequence_options(options)
    return make_sequences(o["samples"], o["length"], o["vocab"], o["classes"], seed)


def _parse(key: str, rest: str, text: str) -> DataSpec:
    opts = options(rest, text, SEQUENCE_DEFAULTS)
    problem = check_sequence_options(opts, text)
    if problem:
        raise DataError(problem)
    return DataSpec("sequences", key, options={k: int(v) for k, v in opts.items()})


def _script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources

    n = sequence_options(spec.options)
    values = {"SAMPLES": n["samples"], "LENGTH": n["length"], "VOCAB": n["vocab"], "CLASS_COUNT": n["classes"]}
    return ScriptLoad([sources.make_sequences], "read_builtin.sequences", values=values)


def _describe(spec: DataSpec) -> DataInfo:
    seq = sequence_info(spec.options)
    return DataInfo(spec.text, seq.input_shape, seq.num_classes, dtypes=(seq.dtype,), vocab_size=seq.vocab_size)


def _after_load(data: Any, spec: DataSpec) -> None:
    data.vocab_size = sequence_info(spec.options).vocab_size


def _load(spec: DataSpec, request: LoadRequest) -> tuple:
    return load_sequences(spec.options, request.seed)


register(
    Source(
        kind="sequences",
        names=("sequences",),
        group="built in",
        help="sequences (token ids, e.g. sequences:length=30,vocab=50)",
        parse=_parse,
        text=lambda spec: options_text(spec, SEQUENCE_DEFAULTS),
        load=_load,
        script=_script,
        describe=_describe,
        ask="options",
        tokens="always",
        after_load=_after_load,
        rank=2,
    )
)
