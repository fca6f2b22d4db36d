"""``torchcanvas`` where no window can open: without a display, or without a system library Qt's X11 plugin needs,
it said Qt's own wrong advice ("xcb-cursor0 ... is needed", "Reinstalling the application may fix this problem")
and died of SIGABRT; now it names the missing packages with the apt and dnf lines, or says how to run without a
display, and exits 2. The start is run in a subprocess (the bug was an abort) with the display taken away, and
with a stand-in ``ldd`` that reports the libraries Qt's plugin would not find."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.shell.platform_check import Choice, choose, missing_packages_message, x_display_answers

ROOT = Path(__file__).resolve().parents[2]
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES}
    base.update(TORCHCANVAS_LOG_DIR=str(tmp_path / "logs"), TORCHCANVAS_RECOVERY_DIR=str(tmp_path / "recovery"))
    command = [sys.executable, "-m", "gui"]
    return subprocess.run(
        command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_without_a_display_it_says_how_to_run_offscreen_and_exits_2(tmp_path):
    done = start(tmp_path)  # before: SIGABRT (-6) with Qt's words
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "no display" in done.stderr and "QT_QPA_PLATFORM=offscreen" in done.stderr and "--screenshot" in done.stderr
    assert "Reinstalling" not in done.stderr


def test_missing_xcb_libraries_are_named_with_their_packages(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    ldd = fake / "ldd"  # what ldd says on a system without these two packages
    ldd.write_text(
        "#!/bin/sh\n"
        "echo '\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x0)'\n"
        "echo '\tlibxcb-icccm.so.4 => not found'\n"
        "echo '\tlibxcb-keysyms.so.1 => not found'\n"
        "echo '\tlibxcb-icccm.so.4 => not found'\n"
    )
    ldd.chmod(0o755)
    # a display that does not exist: before, Qt aborted on it whatever the libraries
    done = start(tmp_path, DISPLAY=":987", PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1." in done.stderr
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in done.stderr
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in done.stderr
    assert "xcb-cursor" not in done.stderr and "Reinstalling" not in done.stderr


def nothing_missing(plugin: Path) -> list[str]:
    return []


def answers(display: str) -> bool:
    return True


def test_an_explicit_platform_is_the_users_choice():
    for platform in ("offscreen", "wayland", "minimal", "wayland;xcb", "vnc:size=800x600"):
        assert choose({"QT_QPA_PLATFORM": platform}, "linux", lambda p: ["libxcb.so.1"], answers) == Choice()


def test_an_explicit_xcb_without_a_display_is_refused():
    choice = choose({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", nothing_missing, answers)
    assert choice.problem and choice.problem.startswith("no display")


def test_a_display_with_every_library_opens_the_window_as_qt_chooses():
    assert choose({"DISPLAY": ":0"}, "linux", nothing_missing, answers) == Choice()
    assert choose({"WAYLAND_DISPLAY": "wayland-0"}, "linux", nothing_missing, answers) == Choice()


def test_missing_xcb_libraries_under_wayland_use_the_wayland_plugin():
    def xcb_broken(plugin: Path) -> list[str]:
        return ["libxcb-icccm.so.4"] if plugin.name == "libqxcb.so" else []

    env = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert choose(env, "linux", xcb_broken, answers) == Choice(platform="wayland")
    assert choose({"DISPLAY": ":0"}, "linux", xcb_broken, answers).problem


def test_a_display_that_does_not_answer_is_said_in_words():
    assert not x_display_answers(":987")
    choice = choose({"DISPLAY": ":987"}, "linux", nothing_missing, x_display_answers)
    assert choice.problem == (
        "no display: the X display ':987' does not answer; use `torchcanvas --screenshot FILE` or set "
        "`QT_QPA_PLATFORM=offscreen`."
    )


def test_other_systems_are_not_checked():
    assert choose({}, "win32", lambda p: ["x"], answers) == Choice()
    assert choose({}, "darwin", lambda p: ["x"], answers) == Choice()


def test_a_library_without_a_known_package_is_still_named():
    text = missing_packages_message(["libxcb-cursor.so.0", "libfoo.so.3"])
    assert "libxcb-cursor.so.0, libfoo.so.3." in text
    assert "sudo apt install libxcb-cursor0" in text and "sudo dnf install xcb-util-cursor" in text
    assert "libfoo.so.3: `apt-file search NAME` or `dnf provides NAME`" in text
