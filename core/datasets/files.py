"""The user's own array files: a Keras-layout .npz, a pair of MNIST IDX files, a CSV table."""

from __future__ import annotations

from pathlib import Path

from core.datasets.spec import DataSpec
from core.errors import DataError
from core.portable.sources import load_idx, load_npz
from core.portable.tables import load_csv


def _existing(path: str, what: str) -> str:
    p = Path(path).expanduser()
    if p.exists() and not p.is_file():  # a folder, a FIFO (reading it would wait forever), a device
        raise DataError(f"{path}: not a regular file. Give the path of the {what} file itself (spec: {what}:PATH).")
    if not p.is_file():
        raise DataError(f"{path}: no such file. Check the path of the {what} (spec: {what}:PATH).")
    return str(p)


def load_file(spec: DataSpec, tokens: bool = False) -> tuple:
    """Read one file source (csv and npz inputs as int64 token ids when tokens); problems inside the file
    come back as DataError naming file and row."""
    try:
        if spec.kind == "npz":
            return load_npz(_existing(spec.paths[0], "npz"), tokens)
        if spec.kind == "idx":
            return load_idx(_existing(spec.paths[0], "idx"), _existing(spec.paths[1], "idx"))
        if spec.kind == "csv":
            return load_csv(_existing(spec.paths[0], "csv"), spec.label_column, tokens)
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        message = str(exc)
        if spec.kind == "npz" and spec.paths[0] not in message:
            message = f"{spec.paths[0]}: cannot read it as a NumPy .npz file ({exc}); save it with np.savez"
        elif not any(path in message for path in spec.paths):
            message = f"{', '.join(spec.paths)}: cannot read it ({exc})"
        raise DataError(message) from None
    raise DataError(f"not a file source: {spec.kind}")  # pragma: no cover
