"""Fetching pretrained weights through torchvision's own API, offline for real: a weights enum member whose url is
a file:// URL of a real state_dict saved here, and TORCH_HOME in tmp_path, so torch.hub really downloads (urlopen,
its chunks, its check_hash) into a real cache."""

from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path

import pytest
import torch
from torchvision.models._api import Weights, WeightsEnum
from torchvision.transforms._presets import ImageClassification

from core.pretrained.catalog import cache_path
from core.pretrained.fetch import FetchCancelled, PretrainedError, fetch_weights


def _state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return torch.nn.Linear(512, 1024).state_dict()  # 2 MB: several of torch.hub's 128 KB chunks


def _weights(url: str) -> WeightsEnum:
    meta = {"categories": [str(i) for i in range(1024)], "_metrics": {"ImageNet-1K": {"acc@1": 50.0}}}
    enum = WeightsEnum("TinyWeights", {"V1": Weights(url, partial(ImageClassification, crop_size=28), meta)})
    return enum.V1  # type: ignore[attr-defined]


@pytest.fixture
def source(tmp_path: Path, monkeypatch) -> Path:
    """A real state_dict file named as torch.hub names weights: <name>-<first 8 hex digits of its SHA-256>.pth."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    raw = tmp_path / "raw.pth"
    torch.save(_state(), raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    folder = tmp_path / "server"
    folder.mkdir()
    path = folder / f"tiny-{digest[:8]}.pth"
    raw.rename(path)
    return path


def _same(state: dict, other: dict) -> bool:
    return set(state) == set(other) and all(torch.equal(state[k], other[k]) for k in state)


def test_a_download_reports_progress_and_lands_in_torch_s_cache(source: Path, tmp_path: Path):
    weights = _weights(source.as_uri())
    seen: list[tuple[int, int | None]] = []
    fetched = fetch_weights(weights, name="tiny", progress=lambda done, total: seen.append((done, total)))
    size = source.stat().st_size
    assert fetched.path == tmp_path / "torch_home" / "hub" / "checkpoints" / source.name == cache_path(weights.url)
    assert not fetched.cached and fetched.path.read_bytes() == source.read_bytes()
    assert _same(fetched.state, _state())
    assert seen[0] == (0, size) and seen[-1] == (size, size) and len(seen) > 5
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_cached_file_is_used_without_the_network(source: Path):
    weights = _weights(source.as_uri())
    fetch_weights(weights)
    source.unlink()  # the "server" is gone: only the cache can answer
    fetched = fetch_weights(weights)
    assert fetched.cached and _same(fetched.state, _state())


def test_a_download_that_fails_the_hash_check_is_never_kept(source: Path):
    bad = source.with_name("tiny-00000000.pth")  # the hash in the name is not the file's
    source.rename(bad)
    weights = _weights(bad.as_uri())
    with pytest.raises(PretrainedError, match="damaged") as caught:
        fetch_weights(weights)
    assert "00000000" in str(caught.value) and str(cache_path(weights.url)) in str(caught.value)
    folder = cache_path(weights.url).parent
    assert list(folder.iterdir()) == []  # neither the file nor torch.hub's .partial


def test_a_truncated_cached_file_is_moved_aside_and_fetched_again(source: Path):
    weights = _weights(source.as_uri())
    cached = fetch_weights(weights).path
    cached.write_bytes(cached.read_bytes()[:1000])  # a download cut short, or a damaged disk
    fetched = fetch_weights(weights)
    assert not fetched.cached and _same(fetched.state, _state())
    assert cached.with_name(cached.name + ".damaged").stat().st_size == 1000


def test_a_truncated_cached_file_is_not_used_offline_either(source: Path):
    weights = _weights(source.as_uri())
    cached = fetch_weights(weights).path
    cached.write_bytes(cached.read_bytes()[:1000])
    source.unlink()
    with pytest.raises(PretrainedError, match="Could not download"):
        fetch_weights(weights)
    assert not cached.exists()


def test_offline_the_message_names_the_url_and_the_exact_path(source: Path):
    weights = _weights(source.as_uri())
    source.unlink()  # no file at the URL: urlopen fails as without a network
    with pytest.raises(PretrainedError) as caught:
        fetch_weights(weights, name="tiny")
    message = str(caught.value)
    assert weights.url in message and str(cache_path(weights.url)) in message
    assert "Could not download the pretrained weights of tiny" in message
    assert "Traceback" not in message


def test_cancel_stops_the_download_and_keeps_nothing(source: Path):
    weights = _weights(source.as_uri())
    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3  # after a few chunks

    seen: list[int] = []
    with pytest.raises(FetchCancelled):
        fetch_weights(weights, progress=lambda done, total: seen.append(done), cancel=cancel)
    assert 0 < max(seen) < source.stat().st_size
    assert list(cache_path(weights.url).parent.iterdir()) == []  # torch.hub removed its .partial file
    assert not fetch_weights(weights).cached  # and a later fetch downloads it whole


def test_torch_hub_s_progress_bar_is_put_back():
    import torch.hub

    before = torch.hub.tqdm
    with pytest.raises(PretrainedError):
        fetch_weights(_weights("file:///nonexistent/tiny-12345678.pth"))
    assert torch.hub.tqdm is before


def test_a_wrong_file_the_user_put_in_the_cache_is_named_not_just_asked_for_again(source: Path):
    """F4: offline, the user copies a file to the path the message gave, but a wrong one: it was moved aside and
    the same 'put the file at' message came back, telling them to put it where they just had."""
    weights = _weights(source.as_uri())
    source.unlink()  # offline
    cached = cache_path(weights.url)
    cached.parent.mkdir(parents=True)
    cached.write_text("junk\n")
    with pytest.raises(PretrainedError) as caught:
        fetch_weights(weights, name="tiny")
    message = str(caught.value)
    prefix = source.name.split("-")[1].split(".")[0]
    damaged = cached.with_name(cached.name + ".damaged")
    said = f"The file at\n  {cached}\nis not the right one (its SHA-256 does not start with {prefix}"
    assert message.startswith(said)
    assert f"it was moved to\n  {damaged}" in message and damaged.read_text() == "junk\n"
    assert "Could not download the pretrained weights of tiny" in message  # and what to do still follows


def test_no_network_is_said_in_words_not_as_errno(source: Path, monkeypatch):
    import socket
    import urllib.error

    import torch.hub

    def no_dns(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(torch.hub, "urlopen", no_dns)
    weights = _weights("https://download.pytorch.org/models/" + source.name)
    with pytest.raises(PretrainedError) as caught:
        fetch_weights(weights, name="tiny")
    message = str(caught.value)
    assert "(no network connection: the address of download.pytorch.org could not be looked up)" in message
    assert "Errno" not in message and "Name or service" not in message


def test_the_cache_state_is_checked_as_fetch_checks_it(source: Path):
    """The pretrained list said "(in the cache)" for any file there (tester's I.5): one that fetch then found
    damaged and moved aside read as ready to use. cache_state hashes it as fetch does."""
    from core.pretrained.fetch import cache_state

    weights = _weights(source.as_uri())
    cached = cache_path(weights.url)
    assert cache_state(cached) == "missing"
    fetch_weights(weights)
    assert cache_state(cached) == "sound"
    cached.write_bytes(cached.read_bytes()[:1000])  # a download cut short, or a damaged disk
    assert cache_state(cached) == "damaged"
