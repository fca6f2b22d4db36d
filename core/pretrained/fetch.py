"""Pretrained weights through torchvision's own API (``Weights.get_state_dict`` -> ``torch.hub``) into torch's
cache, so the file is the one every other PyTorch program on the machine shares, with progress and Cancel.

torch.hub checks a download against the hash in its file name (``resnet18-f37072fd.pth``: the SHA-256 starts
``f37072fd``) and keeps nothing when it differs, but it trusts whatever file is already in the cache. A file
there is checked the same way before it is used: a truncated or damaged one is moved aside (``.damaged``) and
fetched again, never loaded; when that download fails too, the message says first that the file there (perhaps
the one the user just put there) was not the right one and where it went. Offline, the message names the URL and
the exact path to put the file at, and the network's error in words ("no network connection", not "[Errno -2]
Name or service not known").
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

import torch
import torch.hub
from torch.hub import HASH_REGEX

from core.errors import TorchCanvasError
from core.pretrained.catalog import cache_path

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None when the server does not say)
CHUNK = 1 << 20


class PretrainedError(TorchCanvasError):
    """Weights that cannot be had, in words that say what to do."""


class FetchCancelled(PretrainedError):
    def __init__(self) -> None:
        super().__init__("The download was cancelled; nothing was kept.")


@dataclass
class Fetched:
    state: dict[str, Any]  # the state_dict, as torchvision's model names its tensors
    path: Path  # the file in torch's cache
    cached: bool  # True: it was already there (no network used)


_ONE_AT_A_TIME = threading.Lock()  # the progress hook is torch.hub's module-level tqdm, so one download at a time


def expected_hash(path: Path) -> str | None:
    """The SHA-256 prefix in a weights file's name (torch.hub's ``HASH_REGEX``), or None when it has none."""
    match = HASH_REGEX.search(path.name)
    return match.group(1) if match and match.group(1) else None


def hash_matches(path: Path, cancel: Callable[[], bool] | None = None) -> bool:
    """Whether ``path``'s SHA-256 starts with the hash in its name (True when the name carries none)."""
    prefix = expected_hash(path)
    if prefix is None:
        return True
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if cancel is not None and cancel():
                raise FetchCancelled()
            digest.update(chunk)
    return digest.hexdigest().startswith(prefix)


_CHECKED: dict[tuple[str, int, int], bool] = {}  # (path, size, mtime) -> its hash matched, once per version


def cache_state(path: Path) -> str:
    """'sound', 'damaged' or 'missing' for a weights file in torch's cache, checked as ``fetch_weights`` checks
    it: the pretrained list said "(in the cache)" for a file that Create then found damaged and moved aside.
    Each version of a file is hashed once in this process (resnet18's 45 MB in a few tens of ms)."""
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    if not path.is_file():
        return "missing"
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKED:
        try:
            _CHECKED[key] = hash_matches(path)
        except OSError:  # unreadable: Create would say so; it is not a sound copy
            _CHECKED[key] = False
    return "sound" if _CHECKED[key] else "damaged"


def offline_message(name: str, url: str, path: Path, reason: str) -> str:
    return (
        f"Could not download the pretrained weights of {name} ({reason}). Without a network: download\n  {url}\n"
        f"on another computer and put the file at\n  {path}\n(torch's cache; TorchCanvas then uses it from there)."
    )


def fetch_weights(
    weights: Any,
    *,
    name: str = "",
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Fetched:
    """The state_dict of a torchvision weights enum member (``ResNet18_Weights.IMAGENET1K_V1``), from torch's cache
    when a sound copy is there, else downloaded by ``weights.get_state_dict(check_hash=True)``.

    Raises ``FetchCancelled`` when ``cancel()`` turns true (checked between chunks; the partial file is removed by
    torch.hub) and ``PretrainedError`` offline, for a damaged download, or for a file that cannot be read."""
    name = name or type(weights).__name__
    path = cache_path(weights.url)
    with _ONE_AT_A_TIME:
        moved = _set_aside_if_damaged(path, cancel) if path.is_file() else ""
        cached = path.is_file()
        if not cached:
            try:
                _download(weights, name, path, progress, cancel)
            except FetchCancelled:
                raise
            except PretrainedError as exc:  # the user who put a wrong file there learns so before what to do
                raise PretrainedError(f"{moved}\n{exc}" if moved else str(exc)) from None
        elif progress is not None:
            size = path.stat().st_size
            progress(size, size)
        return Fetched(_load(path, name), path, cached)


def _set_aside_if_damaged(path: Path, cancel: Callable[[], bool] | None) -> str:
    """A cached file that fails the hash check is moved aside (never loaded) so torch.hub downloads it again;
    returns what was done in words ('' for a sound file)."""
    if hash_matches(path, cancel):
        return ""
    damaged = path.with_name(path.name + ".damaged")
    os.replace(path, damaged)
    return (
        f"The file at\n  {path}\nis not the right one (its SHA-256 does not start with {expected_hash(path)}, the "
        f"hash in its name: a truncated download or another file); it was moved to\n  {damaged}"
    )


def network_reason(exc: BaseException, url: str) -> str:
    """Why a download failed, in words: a name lookup that fails means no network connection."""
    reason = getattr(exc, "reason", exc)
    host = urlparse(url).hostname or url
    if isinstance(reason, socket.gaierror):
        return f"no network connection: the address of {host} could not be looked up"
    if isinstance(reason, TimeoutError):
        return f"{host} did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(reason, ConnectionError):
        return f"the connection to {host} was cut"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def _download(
    weights: Any, name: str, path: Path, progress: Progress | None, cancel: Callable[[], bool] | None
) -> None:
    if cancel is not None and cancel():
        raise FetchCancelled()
    try:
        quiet = contextlib.redirect_stdout(io.StringIO()) if sys.stdout is None else contextlib.nullcontext()
        with _reporting(progress, cancel), quiet:  # torch.hub prints "Downloading: ...": a windowed app has no stdout
            weights.get_state_dict(progress=True, check_hash=True, weights_only=True)
    except FetchCancelled:
        raise
    except URLError as exc:
        raise PretrainedError(offline_message(name, weights.url, path, network_reason(exc, weights.url))) from None
    except RuntimeError as exc:
        if "invalid hash value" not in str(exc):
            raise PretrainedError(f"The weights of {name} could not be read after downloading: {exc}") from None
        raise PretrainedError(
            f"The download of {weights.url} was damaged: its SHA-256 does not start with {expected_hash(path)}, the "
            f"hash in its name (torchvision's check), so it was not kept. Try again; if it keeps failing, download "
            f"the file yourself and put it at\n  {path}"
        ) from None
    except OSError as exc:  # no network (socket errors), a full disk, a cache folder that cannot be written
        raise PretrainedError(offline_message(name, weights.url, path, network_reason(exc, weights.url))) from None


def _load(path: Path, name: str) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a file without a hash in its name may still be broken
        raise PretrainedError(
            f"The weights file {path} for {name} cannot be read ({type(exc).__name__}): delete it and fetch it again."
        ) from None
    if not isinstance(state, dict):
        raise PretrainedError(f"The weights file {path} for {name} holds no state_dict: delete it and fetch it again.")
    return state


class _Reporter:
    """Stands in for torch.hub's tqdm bar: reports each chunk and stops the download when cancelled."""

    def __init__(self, progress: Progress | None, cancel: Callable[[], bool] | None, total: int | None) -> None:
        self.progress, self.cancel, self.total, self.done = progress, cancel, total, 0

    def __enter__(self) -> _Reporter:
        if self.progress is not None:
            self.progress(0, self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, count: int) -> None:
        self.done += count
        if self.cancel is not None and self.cancel():
            raise FetchCancelled()  # torch.hub's finally removes the partial file
        if self.progress is not None:
            self.progress(self.done, self.total)


@contextlib.contextmanager
def _reporting(progress: Progress | None, cancel: Callable[[], bool] | None) -> Iterator[None]:
    def bar(total: int | None = None, **_: Any) -> _Reporter:  # called as tqdm(total=..., disable=..., unit=...)
        return _Reporter(progress, cancel, total)

    original = torch.hub.tqdm  # type: ignore[attr-defined]
    torch.hub.tqdm = bar  # type: ignore[attr-defined]
    try:
        yield
    finally:
        torch.hub.tqdm = original  # type: ignore[attr-defined]
