"""``torchcanvas install-desktop``: put TorchCanvas in the Linux application menu and teach the file manager that
a TorchCanvas project opens in it.

Writes, for the current user only (no root, nothing outside the XDG data folder, ``~/.local/share`` unless
``$XDG_DATA_HOME`` says otherwise): the desktop entry ``applications/torchcanvas.desktop``, the icon in every
shipped size under ``icons/hicolor/``, and the MIME type ``application/x-torchcanvas-project`` in
``mime/packages/``. Project files are ``*.json``, so the type is recognised by content (the ``"format":
"torchcanvas-project"`` line near the top of every project) as a kind of JSON, not by a name pattern that would
claim every JSON file. Each file is written atomically; running it again replaces them with the same content.

``packaging/torchcanvas.desktop`` and ``packaging/torchcanvas-mime.xml`` are these same texts for distribution
packagers (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.cli import command
from core.files.file_errors import FileWriteError, explain_os_error
from core.files.fileio import atomic_write_bytes
from core.resources import require, resource_dir

APP_ID = "torchcanvas"
MIME_TYPE = "application/x-torchcanvas-project"

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Name=TorchCanvas
GenericName=Neural network editor
Comment=Draw a neural network, read its PyTorch code, train it
Exec={exec} %f
Icon=torchcanvas
Terminal=false
Categories=Development;Education;Science;
MimeType=application/x-torchcanvas-project;
"""

MIME_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="application/x-torchcanvas-project">
    <comment>TorchCanvas project</comment>
    <sub-class-of type="application/json"/>
    <generic-icon name="torchcanvas"/>
    <magic priority="80">
      <match type="string" value="&quot;format&quot;: &quot;torchcanvas-project&quot;" offset="0:1024"/>
    </magic>
  </mime-type>
</mime-info>
"""


@dataclass(frozen=True)
class Installed:
    files: list[Path]
    notes: list[str]  # caches that could not be refreshed (the menu picks the entry up at the next login)


def data_home(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (as the XDG spec says)."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def launcher() -> str:
    """The command the desktop entry runs: this frozen app, or the ``torchcanvas`` script of this install."""
    if getattr(sys, "frozen", False):
        return sys.executable
    beside = Path(sys.executable).parent / "torchcanvas"  # the venv or prefix this Python belongs to
    if beside.is_file():
        return str(beside)
    return shutil.which("torchcanvas") or "torchcanvas"


def desktop_entry(exec_path: str) -> str:
    return DESKTOP_ENTRY.format(exec=_desktop_quote(exec_path))


def install_desktop(target: Path, exec_path: str) -> Installed:
    """Write the desktop entry, the icons and the MIME type under ``target`` (an XDG data folder)."""
    icons = target / "icons" / "hicolor"
    files = [
        _write(target / "applications" / f"{APP_ID}.desktop", desktop_entry(exec_path).encode()),
        _write(target / "mime" / "packages" / f"{APP_ID}.xml", MIME_XML.encode()),
        _write(icons / "scalable" / "apps" / f"{APP_ID}.svg", require("icons", "torchcanvas.svg").read_bytes()),
    ]
    for png in sorted(resource_dir("icons").glob("torchcanvas-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        files.append(_write(icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png", png.read_bytes()))
    notes = [
        note
        for note in (
            _refresh("update-mime-database", str(target / "mime")),
            _refresh("update-desktop-database", "-q", str(target / "applications")),
            # no gtk-update-icon-cache: a per-user icon cache goes stale when another program adds an icon
            # without refreshing it, and then hides that icon; without a cache the folders are read as they are
        )
        if note
    ]
    return Installed(files, notes)


def _write(path: Path, data: bytes) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileWriteError(path, explain_os_error(exc), exc.errno) from exc
    return atomic_write_bytes(path, data)


def _refresh(tool: str, *args: str) -> str:
    """Run a desktop cache tool if the system has it; a missing or failing one is a note, never an error."""
    path = shutil.which(tool)
    if path is None:
        return ""
    try:
        done = subprocess.run([path, *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{tool} did not run ({exc})"
    return f"{tool} failed: {done.stderr.strip()[:200]}" if done.returncode else ""


def _desktop_quote(path: str) -> str:
    """Quote an Exec path as the desktop entry spec wants (double quotes; `\\`, `"`, `` ` ``, `$` escaped)."""
    if all(c.isalnum() or c in "/._-+" for c in path):
        return path
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def _install_args(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Add TorchCanvas to the application menu of a Linux desktop and let the file manager open TorchCanvas "
        "projects with it (for this user: $XDG_DATA_HOME or ~/.local/share; no root needed)."
    )
    p.add_argument("--exec", dest="exec_path", metavar="PATH", help="the command to start (default: this install's)")


@command("install-desktop", _install_args)
def run_install_desktop(args: argparse.Namespace) -> int:
    target = data_home()
    exec_path = args.exec_path or launcher()
    result = install_desktop(target, exec_path)
    for path in result.files:
        print(f"Wrote {path}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"TorchCanvas is in the application menu (it starts {shlex.quote(exec_path)}).")
    return 0
