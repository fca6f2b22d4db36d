"""The user's own array files: a Keras-layout .npz, a pair of MNIST IDX files, a CSV table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.datasets.info import describe_csv, describe_idx, describe_npz
from core.datasets.spec import Constant, DataSpec, LoadRequest, ScriptLoad, Source, file_path, register
from core.errors import DataError
from core.settings import TrainingSettings


def _existing(path: str, what: str) -> str:
    p = Path(path).expanduser()
    if p.exists() and not p.is_file():  # a folder, a FIFO (reading it would wait forever), a device
        raise DataError(f"{path}: not a regular file. Give the path of the {what} file itself (spec: {what}:PATH).")
    if not p.is_file():
        raise DataError(f"{path}: no such file. Check the path of the {what} (spec: {what}:PATH).")
    return str(p)


def read_file(spec: DataSpec, read: Callable[[], tuple], what: str = "", fix: str = "") -> tuple:
    """Run one file source's reader; problems inside the file come back as DataError naming file and row
    (``what`` the file should be and ``fix``, for a message that names no file)."""
    try:
        return read()
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        message = str(exc)
        if what and spec.paths[0] not in message:
            message = f"{spec.paths[0]}: cannot read it as {what} ({exc}); {fix}"
        elif not any(path in message for path in spec.paths):
            message = f"{', '.join(spec.paths)}: cannot read it ({exc})"
        raise DataError(message) from None


def load_npz(path: str, tokens: bool = False) -> tuple:
    """``core.portable.sources.load_npz``, imported (with torch) when a file is read."""
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable.sources import load_npz as read

    return read(path, tokens)


def _load_npz(spec: DataSpec, request: LoadRequest) -> tuple:
    def read() -> tuple:
        return load_npz(_existing(spec.paths[0], "npz"), request.tokens)

    return read_file(spec, read, "a NumPy .npz file", "save it with np.savez")


def _load_idx(spec: DataSpec, request: LoadRequest) -> tuple:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable.sources import load_idx

    return read_file(spec, lambda: load_idx(_existing(spec.paths[0], "idx"), _existing(spec.paths[1], "idx")))


def _load_csv(spec: DataSpec, request: LoadRequest) -> tuple:
    # deferred: core.portable.tables imports torch; the editor describes data without it
    from core.portable.tables import load_csv

    return read_file(spec, lambda: load_csv(_existing(spec.paths[0], "csv"), spec.label_column, request.tokens))


# --- the three sources -------------------------------------------------------------------------------------------
def base_helpers() -> list[Any]:
    """What every array file's script pastes in."""
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources

    helpers = [sources.images_to_tensor, sources.labels_to_tensor, sources.check_lengths, sources.class_count]
    return [*helpers, sources.check_file]


def _paths_text(spec: DataSpec) -> str:
    return f"{spec.kind}:{','.join(spec.paths)}"


def _npz_script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources

    npz = [sources.tokens_to_tensor, sources.check_finite, sources.read_npz, sources.check_npz_member]
    npz += [sources.npz_inputs, sources.load_npz]
    constants = [Constant("DATA_FILE", spec.paths[0])]
    return ScriptLoad([*base_helpers(), *npz], "read_files.npz", constants, {"tokens": tokens}, resizes=True)


register(
    Source(
        kind="npz",
        names=("npz",),
        group="your files",
        help="npz:PATH",
        parse=lambda key, rest, text: DataSpec("npz", "npz", (file_path(key, rest, text),)),
        text=_paths_text,
        load=_load_npz,
        script=_npz_script,
        describe=describe_npz,
        ask="file",
        file_filter="NumPy arrays (*.npz);;All files (*)",
        tokens="can",
        rank=0,
    )
)


def _idx_parse(key: str, rest: str, text: str) -> DataSpec:
    images, comma, labels = file_path(key, rest, text).rpartition(",")
    if not comma or not images or not labels:
        raise DataError(f"{text!r}: give the images file and the labels file as idx:IMAGES,LABELS")
    return DataSpec("idx", "idx", (images, labels))


def _idx_script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources

    constants = [Constant("IMAGES_FILE", spec.paths[0]), Constant("LABELS_FILE", spec.paths[1])]
    helpers = [*base_helpers(), sources.read_idx, sources.load_idx]
    return ScriptLoad(helpers, "read_files.idx", constants, resizes=True)


register(
    Source(
        kind="idx",
        names=("idx",),
        group="your files",
        help="idx:IMAGES,LABELS",
        parse=_idx_parse,
        text=_paths_text,
        load=_load_idx,
        script=_idx_script,
        describe=describe_idx,
        ask="files",
        rank=1,
    )
)


def _csv_parse(key: str, rest: str, text: str) -> DataSpec:
    path, colon, column = file_path(key, rest, text).rpartition(":")
    if not colon or not path or not column:
        raise DataError(f"{text!r}: name the label column as csv:PATH:LABELCOLUMN (e.g. csv:data.csv:label)")
    return DataSpec("csv", "csv", (path,), label_column=column)


def _csv_script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources, tables

    constants = [Constant("DATA_FILE", spec.paths[0]), Constant("LABEL_COLUMN", spec.label_column)]
    helpers = [sources.labels_to_tensor, sources.class_count, sources.check_file, tables.read_csv_rows]
    helpers += [tables.check_label_kinds, tables.is_number, tables.csv_samples, tables.csv_labels, tables.load_csv]
    return ScriptLoad(helpers, "read_files.csv", constants, {"tokens": tokens}, resizes=True)


register(
    Source(
        kind="csv",
        names=("csv",),
        group="your files",
        help="csv:PATH:LABELCOLUMN",
        parse=_csv_parse,
        text=lambda spec: f"csv:{spec.paths[0]}:{spec.label_column}",
        load=_load_csv,
        script=_csv_script,
        describe=describe_csv,
        ask="csv",
        tokens="can",
        rank=3,
    )
)
