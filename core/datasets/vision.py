"""torchvision's MNIST, FashionMNIST, KMNIST and CIFAR-10, downloaded on demand into a per-user folder.

Downloads report progress, are checked against torchvision's MD5 sums and only renamed into place when
complete, so an interrupted or offline attempt leaves nothing half-written. When they fail the message
names the folder where the files can be placed by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import urlopen

import platformdirs

from core.datasets.info import BUILTIN, named_as
from core.datasets.spec import Constant, DataSpec, ScriptLoad, Source, named, register
from core.errors import DataError
from core.settings import TrainingSettings

if TYPE_CHECKING:
    from core.datasets.base import Progress

CHUNK = 1 << 16


def default_data_dir() -> Path:
    """Where downloaded datasets live: the per-user data folder (or $TORCHCANVAS_DATA)."""
    override = os.environ.get("TORCHCANVAS_DATA")
    return Path(override) if override else Path(platformdirs.user_data_dir("torchcanvas")) / "datasets"


def _download(url: str, target: Path, md5: str | None, progress: Progress | None) -> None:
    """Fetch url into target through a temporary file in the same folder; nothing is left on failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            done, reported = 0, -1
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                percent = 100 * done // total if total else done >> 20  # whole percents, or whole MiB
                if progress and percent != reported:
                    reported = percent
                    progress(f"Downloading {target.name}", done / total if total else None)
        if md5 and digest.hexdigest() != md5:
            raise OSError(f"{target.name} arrived damaged (checksum mismatch)")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _gunzip(source: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(source, "rb") as handle:
            shutil.copyfileobj(handle, out, CHUNK)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch_mnist_like(kind: Any, root: Path, progress: Progress | None) -> None:
    raw = root / kind.__name__ / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for filename, md5 in kind.resources:
        packed, unpacked = raw / filename, raw / filename.removesuffix(".gz")
        if unpacked.exists():
            continue
        if not packed.exists():
            errors = []
            for mirror in kind.mirrors:
                try:
                    _download(f"{mirror}{filename}", packed, md5, progress)
                    break
                except OSError as exc:
                    errors.append(str(getattr(exc, "reason", exc)))
            else:
                raise OSError("; ".join(errors))
        _gunzip(packed, unpacked)


def _fetch_cifar(kind: Any, root: Path, progress: Progress | None) -> None:
    if (root / kind.base_folder).is_dir():
        return
    root.mkdir(parents=True, exist_ok=True)
    archive = root / kind.filename
    if not archive.exists():
        _download(kind.url, archive, kind.tgz_md5, progress)
    unpack = Path(tempfile.mkdtemp(prefix=".extract-", dir=root))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(unpack, filter="data")
        os.replace(unpack / kind.base_folder, root / kind.base_folder)
    finally:
        shutil.rmtree(unpack, ignore_errors=True)


def manual_files(name: str) -> str:
    # deferred: imports torchvision; the editor describes data without it
    from torchvision import datasets

    kind = getattr(datasets, name)
    if name == "CIFAR10":
        return f"{kind.filename} (from {kind.url})"
    return ", ".join(filename for filename, _ in kind.resources)


def load_vision(spec: DataSpec, data_dir: Path | None = None, progress: Progress | None = None) -> tuple:
    """Make sure the files are there (downloading them once), then load them through torchvision."""
    # deferred: imports torchvision; the editor describes data without it
    from torchvision import datasets

    from core.portable.sources import load_torchvision

    root = Path(data_dir) if data_dir else default_data_dir()
    kind = getattr(datasets, spec.name)
    folder = root if spec.name == "CIFAR10" else root / kind.__name__ / "raw"
    try:
        if spec.name == "CIFAR10":
            _fetch_cifar(kind, root, progress)
        else:
            _fetch_mnist_like(kind, root, progress)
    except (OSError, tarfile.TarError, EOFError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"Could not download {spec.name} ({reason}). Check the internet connection, or place the files "
            f"{manual_files(spec.name)} by hand in {folder} "
            "and try again."
        ) from None
    if progress:
        progress(f"Loading {spec.name}", None)
    try:
        return load_torchvision(spec.name, str(root))
    except (RuntimeError, OSError, ValueError, EOFError, AssertionError, KeyError, pickle.UnpicklingError) as exc:
        # torchvision asserts on a damaged MNIST file's header (an empty AssertionError, read as a bug)
        reason = str(exc) or "the files are damaged"
        raise DataError(
            f"{spec.name} in {root} could not be read ({reason}); delete that folder to download again."
        ) from None


VISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST", "cifar10": "CIFAR10"}
SCRIPT_DATA_DIR = "data"  # where the exported script lets torchvision download to, next to where it runs


def _script(spec: DataSpec, settings: TrainingSettings, shape: tuple[int, ...], tokens: bool) -> ScriptLoad:
    # deferred: core.portable.sources imports torch; the editor describes data without it
    from core.portable import sources

    constant = Constant("DATA_DIR", SCRIPT_DATA_DIR, "torchvision downloads the files here")
    helpers = [sources.images_to_tensor, sources.load_torchvision]
    values = {"SET_NAME": spec.name}
    return ScriptLoad(helpers, "read_builtin.torchvision", [constant], values=values, resizes=True)


register(
    Source(
        kind="vision",
        names=tuple(VISION),
        group="download",
        help=", ".join(VISION),
        parse=lambda key, rest, text: named(key, rest, text, "vision", VISION[key]),
        text=lambda spec: next(key for key, value in VISION.items() if value == spec.name),
        load=lambda spec, request: load_vision(spec, request.data_dir, request.progress),
        script=_script,
        describe=lambda spec: named_as(BUILTIN.get(spec.name), spec),
        ask="list",
        list_label="downloads",
    )
)
