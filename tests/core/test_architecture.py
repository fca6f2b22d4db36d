"""core must stay usable without a screen (it never imports Qt, pyqtgraph or gui), and inside core and gui each floor
imports only the floors below it (pyproject's import-linter contracts; docs/CONTRACTS.md, "Floors")."""

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "gui")


@pytest.mark.slow
def test_no_core_module_imports_qt_or_gui():
    offenders = []
    for path in (REPO / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([lint, str(root / "pyproject.toml")], cwd=root, env=env, capture_output=True, text=True)


def test_import_linter_contract_holds():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def _core_floors() -> list[str]:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c.get("containers") == ["core"])["layers"]


# The arrows still allowed up a floor (docs/CONTRACTS.md, "Floors"): none in either package, and none is to be added.
STILL_ALLOWED: dict[str, set[str]] = {"core": set(), "gui": set()}


def test_no_arrow_up_a_floor_is_added():
    """The floors' exceptions only shrink, and none is left: gui's last went when why_view took Try it's Background
    from the dashboard's package (gui.widgets.background now); core's three when a run folder's weights file
    (core.weights_reading) and the torchvision weights of a downloaded file (core.hub_files) moved below code and
    datasets, which name them."""
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    for package, allowed in STILL_ALLOWED.items():
        floors = next(c for c in contracts if c.get("containers") == [package])
        assert set(floors.get("ignore_imports", [])) <= allowed, package


def test_every_subcommand_module_sits_above_cli():
    """cli finds a subcommand's module by name and the module registers itself with cli's decorator (so it imports
    cli): it sits on a floor above cli, beside train_command, never in a package below it (lr-find's did, in
    inspect, an arrow up the floors)."""
    from core.cli import COMMAND_MODULES

    floors = _core_floors()
    above = {name.strip() for floor in floors[: floors.index("cli")] for name in floor.split("|")}
    assert [m for m in COMMAND_MODULES.values() if m.removeprefix("core.") not in above] == []


@pytest.mark.slow  # a child process imports every datasets module (torch): seconds
def test_the_datasets_load_nothing_from_the_floors_above():
    """datasets sits below model, code and files: importing any of its modules loads none of theirs (the text
    examples' writer used files' atomic writer from inside datasets; it is files' own now)."""
    floors = _core_floors()
    below = [name.strip() for floor in floors[floors.index("datasets") :] for name in floor.split("|")]
    code = (
        "import sys, pkgutil, importlib, core.datasets\n"
        "for m in pkgutil.iter_modules(core.datasets.__path__): importlib.import_module('core.datasets.' + m.name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith('core.') and m.split('.')[1] not in {below!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _runtime_imports(tree: ast.AST) -> list[str]:
    """The modules a file imports when it runs (function-local ones included), leaving out ``if TYPE_CHECKING:``."""
    found: list[str] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            found += [m for child in node.orelse for m in _runtime_imports(child)]
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        found += _runtime_imports(node)
    return found


def test_no_floor_below_the_shell_imports_it_even_in_a_function():
    """The shell builds the window from the floors below; they ask it for nothing (the file dialogs for data and
    weights were the shell's, imported inside the data form's and the transfer form's functions: they are now
    gui.data.opening's and gui.training.panel_transfer's own)."""
    named = []
    for path in sorted((REPO / "gui").rglob("*.py")):
        floor = path.relative_to(REPO / "gui").parts[0]
        if floor in ("shell", "__main__.py"):
            continue
        tree = ast.parse(path.read_text(), str(path))
        named += [f"{path.relative_to(REPO)}: {m}" for m in _runtime_imports(tree) if m.startswith("gui.shell")]
    assert named == []


BACK_ARROWS = [
    # a floor importing one above it: the model reading a project file, the commands reaching into the canvas
    ("core/model/planted.py", "from core.files import project\n", "core's floors", "core.model.planted -> core.files"),
    ("gui/commands/planted.py", "from gui.canvas import scene\n", "gui's floors", "gui.commands.planted -> gui.canvas"),
    # a new package of core that nobody gave a floor
    ("core/planted.py", "", "core's floors", "not listed as layers: - core.planted"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "line", "contract", "arrow"), BACK_ARROWS, ids=["core", "gui", "unplaced"])
def test_a_planted_back_arrow_breaks_the_floors(tmp_path, path, line, contract, arrow):
    """The contracts make the wrong change fail: a copy of the code with one import up a floor is refused by name."""
    for package in ("core", "gui"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert _lint_imports(tmp_path).returncode == 0  # the copy as it is keeps every contract
    (tmp_path / path).write_text(line)
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = " ".join(result.stdout.split("Broken contracts")[1].split())  # the report wraps long lines
    assert contract in broken and arrow in broken, result.stdout


@pytest.mark.slow
def test_importing_core_loads_no_qt():
    code = (
        "import sys, core.cli, core.model.analysis, core.code.codegen, core.files.project; "
        "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui')])"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
