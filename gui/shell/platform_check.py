"""Can Qt open a window here? Asked before the first QApplication, because Qt's answer is an abort.

Without a display, or with one of the system libraries its X11 (xcb) plugin links against missing, Qt kills the
process (SIGABRT) saying that ``xcb-cursor0`` is needed and that reinstalling the application may help: both
wrong for us (it names xcb-cursor0 even when libxcb-icccm4 is what is missing, and reinstalling TorchCanvas
installs no system library). This module finds the missing libraries with ``ldd`` on PySide6's own plugin (the
dynamic loader's exact answer), maps them to the Debian/Ubuntu and Fedora packages, and says so. It imports no
Qt module: importing QtGui already needs some of the libraries it checks.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The libraries Qt 6's xcb plugin and QtGui link against, by soname: (Debian/Ubuntu package, Fedora package).
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
}

OFFSCREEN_HINT = "use `torchcanvas --screenshot FILE` or set `QT_QPA_PLATFORM=offscreen`"


@dataclass(frozen=True)
class Choice:
    """What the launcher does before creating the QApplication."""

    platform: str | None = None  # a QT_QPA_PLATFORM to set for this process; None leaves Qt's own choice
    problem: str | None = None  # why no window can open, in words: print it and exit 2


def plugin_path(name: str) -> Path | None:
    """PySide6's platform plugin ``libq<name>.so``, found without importing PySide6 (None if absent)."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "Qt" / "plugins" / "platforms" / f"libq{name}.so"
        if path.is_file():
            return path
    return None


def missing_libraries(plugin: Path) -> list[str]:
    """The sonames the dynamic loader cannot find for ``plugin`` (and the Qt libraries it needs), in ldd's order.
    Without ldd (a minimal system), each known library is tried with dlopen instead."""
    try:
        done = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return [name for name in PACKAGES if "wayland" not in name and not _loads(name)]
    missing: list[str] = []
    for line in done.stdout.splitlines():
        name, _, where = line.strip().partition(" => ")
        if where.strip() == "not found" and name not in missing:
            missing.append(name)
    return missing


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def x_display_answers(display: str) -> bool:
    """Whether the X server named by ``display`` accepts a connection (a stale DISPLAY also makes Qt abort)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return False
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def choose(
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    find_missing: Callable[[Path], list[str]] = missing_libraries,
    display_answers: Callable[[str], bool] = x_display_answers,
) -> Choice:
    """Decide before Qt does. Only Linux is checked (Windows and macOS always have their plugin), and a
    QT_QPA_PLATFORM the user set is theirs: only a plain ``xcb`` is checked, anything else is left to Qt."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return Choice()
    requested = [name.split(":")[0].strip() for name in env.get("QT_QPA_PLATFORM", "").split(";") if name.strip()]
    if requested and requested != ["xcb"]:
        return Choice()
    x_display = env.get("DISPLAY", "")
    wayland = not requested and bool(env.get("WAYLAND_DISPLAY")) and _plugin_loads("wayland", find_missing)
    if not x_display:
        if wayland:
            return Choice()
        return Choice(problem=f"no display (DISPLAY is not set): {OFFSCREEN_HINT}.")
    plugin = plugin_path("xcb")
    missing = find_missing(plugin) if plugin else []
    if missing:
        if wayland:  # the session also has Wayland, and Qt's Wayland plugin can load: use it rather than abort
            return Choice(platform="wayland")
        return Choice(problem=missing_packages_message(missing))
    if not display_answers(x_display):
        if wayland:
            return Choice(platform="wayland")
        return Choice(problem=f"no display: the X display {x_display!r} does not answer; {OFFSCREEN_HINT}.")
    return Choice()


def _plugin_loads(name: str, find_missing: Callable[[Path], list[str]]) -> bool:
    plugin = plugin_path(name)
    return plugin is not None and not find_missing(plugin)


def missing_packages_message(missing: list[str]) -> str:
    """The missing libraries, the packages that hold them and the install line for Debian/Ubuntu and Fedora."""
    debian = _unique(PACKAGES[name][0] for name in missing if name in PACKAGES)
    fedora = _unique(PACKAGES[name][1] for name in missing if name in PACKAGES)
    unknown = [name for name in missing if name not in PACKAGES]
    lines = [
        "cannot open a window: Qt's X11 platform plugin needs system libraries that are not installed: "
        + ", ".join(missing)
        + ".",
    ]
    if debian:
        lines.append(f"  Debian/Ubuntu: sudo apt install {' '.join(debian)}")
        lines.append(f"  Fedora:        sudo dnf install {' '.join(fedora)}")
    if unknown:
        lines.append(f"  (the package that holds {', '.join(unknown)}: `apt-file search NAME` or `dnf provides NAME`)")
    lines.append(f"Without a window: {OFFSCREEN_HINT}.")
    return "\n".join(lines)


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
