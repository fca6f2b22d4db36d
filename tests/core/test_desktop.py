"""`torchcanvas install-desktop`: the menu entry, icons and MIME type land in the XDG data folder, atomically."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core import cli, desktop
from core.resources import resource_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no update-mime-database: the install still works
    return tmp_path


def test_install_desktop_writes_entry_icons_and_mime_type(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["install-desktop", "--exec", "/opt/Torch Canvas/torchcanvas"]) == 0
    data = home / "data"
    entry = (data / "applications" / "torchcanvas.desktop").read_text(encoding="utf-8")
    assert 'Exec="/opt/Torch Canvas/torchcanvas" %f' in entry
    assert "Icon=torchcanvas" in entry and "MimeType=application/x-torchcanvas-project;" in entry
    sizes = sorted(int(p.stem.rsplit("-", 1)[1]) for p in resource_dir("icons").glob("torchcanvas-*.png"))
    assert sizes and 256 in sizes
    for size in sizes:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "torchcanvas.png").is_file()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "torchcanvas.svg").is_file()
    mime = ET.parse(data / "mime" / "packages" / "torchcanvas.xml").getroot()
    (kind,) = mime
    assert kind.get("type") == "application/x-torchcanvas-project"
    assert not list(home.rglob("*.tmp")), "a temporary file was left behind"
    assert not (home / "home").exists(), "wrote outside XDG_DATA_HOME"
    assert "application menu" in capsys.readouterr().out


def test_mime_magic_matches_the_format_line_of_every_example() -> None:
    mime = ET.fromstring(desktop.MIME_XML)
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    match = mime.find(".//m:match", ns)
    assert match is not None
    start, end = (int(x) for x in match.get("offset", "").split(":"))
    examples = sorted(resource_dir("examples").glob("*.json"))
    assert examples
    for path in examples:
        head = path.read_bytes()[: end + len(match.get("value", ""))]
        assert match.get("value", "").encode() in head[start:], f"{path.name}: the MIME magic would not match"


def test_xdg_data_home_falls_back_to_local_share() -> None:
    assert desktop.data_home({"HOME": "/h"}) == Path("/h/.local/share")
    assert desktop.data_home({"HOME": "/h", "XDG_DATA_HOME": "relative"}) == Path("/h/.local/share")
    assert desktop.data_home({"HOME": "/h", "XDG_DATA_HOME": "/x"}) == Path("/x")


def test_packaging_copies_match_what_the_command_installs() -> None:
    assert (REPO / "packaging" / "torchcanvas.desktop").read_text(encoding="utf-8") == desktop.desktop_entry(
        "torchcanvas"
    )
    assert (REPO / "packaging" / "torchcanvas-mime.xml").read_text(encoding="utf-8") == desktop.MIME_XML


def test_a_failed_write_keeps_the_previous_entry(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = home / "data"
    desktop.install_desktop(data, "/old/torchcanvas")
    entry = data / "applications" / "torchcanvas.desktop"
    before = entry.read_bytes()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(Exception, match="disk is full"):
        desktop.install_desktop(data, "/new/torchcanvas")
    assert entry.read_bytes() == before
    assert not list(data.rglob("*.tmp"))


def test_launcher_is_this_installs_script() -> None:
    expected = Path(sys.executable).parent / "torchcanvas"
    if expected.is_file():
        assert desktop.launcher() == str(expected)
    with pytest.raises(SystemExit) as exited:  # the command's --help loads its module, as running it does
        cli.main(["install-desktop", "--help"])
    assert exited.value.code == 0
    assert "install-desktop" in cli.COMMANDS
