"""The wheel is the app: it holds every bundled file, and the app installed from it runs on its own.

The wheel is built from a copy of the source tree (what git tracks or would track) and unpacked into a folder
that stands in for site-packages. The app then runs from that folder in an isolated interpreter: no current
folder on the path, no PYTHONPATH, and the editable install's import hook (which maps ``core``, ``gui`` and
``torchcanvas_resources`` back to this source tree) taken off, so a file missing from the wheel cannot be found
in the repository instead. The third-party packages (torch, PySide6, ...) still come from the venv.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core import __version__ as core_version

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "resources"
SCREENSHOT_TIMEOUT_S = 180  # a missing example used to open an invisible dialog: --screenshot hung until killed

# Runs the wheel's console script from the unpacked wheel only. argv: SITE ENTRY_POINT [torchcanvas args...]
BOOT = """
import importlib, sys
site, entry = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
sys.argv[0] = "torchcanvas"
sys.path.insert(0, site)
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
for name in ("core", "gui", "torchcanvas_resources"):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        continue
    if not str(module.__file__).startswith(site):
        sys.exit(f"{name} was imported from {module.__file__}, not from the wheel")
module_name, _, function = entry.partition(":")
sys.exit(getattr(importlib.import_module(module_name), function)())
"""


def source_files() -> list[str]:
    """What a fresh clone holds: tracked and untracked-but-not-ignored files that exist now (without git: the
    tree less what .gitignore names)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        skip = {"build", "dist", "runs", "__pycache__"}  # and every hidden folder (.git, .venv, caches)
        files = [p.relative_to(REPO) for p in REPO.rglob("*") if p.is_file()]
        return [
            f.as_posix()
            for f in files
            if not any(part.startswith(".") or part in skip or part.endswith(".egg-info") for part in f.parts[:-1])
        ]
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def build_isolation_flags() -> list[str]:
    """Build offline with the venv's setuptools when it is new enough (seconds), else in pip's isolated env."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return []
    return ["--no-build-isolation"] if major >= 68 else []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in source_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *build_isolation_flags(), "-w", str(root), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = root.glob("torchcanvas-*.whl")
    return found


@pytest.fixture(scope="module")
def site(wheel: Path) -> Path:
    folder = wheel.parent / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    return folder


def run_installed(site: Path, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    (dist_info,) = site.glob("torchcanvas-*.dist-info")
    entry_points = configparser.ConfigParser()
    entry_points.read(dist_info / "entry_points.txt")
    entry = entry_points["console_scripts"]["torchcanvas"]
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(cwd),
        "XDG_CONFIG_HOME": str(cwd / "config"),
        "TORCHCANVAS_RECOVERY_DIR": str(cwd / "recovery"),
        "TORCHCANVAS_LOG_DIR": str(cwd / "logs"),
    }
    try:
        return subprocess.run(
            [sys.executable, "-I", "-c", BOOT, str(site), entry, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"torchcanvas {' '.join(args)} from the installed wheel hung for {timeout} s: {exc.stderr!r}")


def test_wheel_holds_every_bundled_file_and_module(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    bundled = [p.relative_to(RESOURCES).as_posix() for p in RESOURCES.rglob("*") if p.is_file()]
    bundled = [name for name in bundled if "__pycache__" not in name and not name.endswith(".pyc")]
    assert any(name.startswith("examples/") for name in bundled)
    assert any(name.startswith("icons/") for name in bundled)
    missing = [name for name in bundled if f"torchcanvas_resources/{name}" not in names]
    assert not missing, f"resources/ files missing from the wheel: {missing}"
    modules = [p.relative_to(REPO).as_posix() for folder in ("core", "gui") for p in (REPO / folder).rglob("*.py")]
    missing = [name for name in modules if "__pycache__" not in name and name not in names]
    assert not missing, (
        f"modules missing from the wheel: {missing}; a new sub-package must be added to [tool.setuptools] "
        "packages in pyproject.toml"
    )
    assert not any(name.startswith(("resources/", "tests/", "bench/")) for name in names)


def test_installed_wheel_checks_and_screenshots_on_its_own(site: Path, tmp_path: Path) -> None:
    version = run_installed(site, tmp_path, "--version")
    assert version.returncode == 0, version.stderr
    (dist_info,) = site.glob("torchcanvas-*.dist-info")
    metadata = (dist_info / "METADATA").read_text(encoding="utf-8").splitlines()
    assert f"Version: {version.stdout.split()[-1]}" in metadata
    assert version.stdout.strip() == f"torchcanvas {core_version}"

    example = site / "torchcanvas_resources" / "examples" / "mnist_cnn.json"
    check = run_installed(site, tmp_path, "check", str(example))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK: the network is valid." in check.stdout

    out = tmp_path / "window.png"
    shot = run_installed(site, tmp_path, "--screenshot", str(out), timeout=SCREENSHOT_TIMEOUT_S)
    assert shot.returncode == 0, shot.stdout + shot.stderr
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1600, 1000)
    assert not list(tmp_path.glob("logs/*")), "the installed app logged an error"
