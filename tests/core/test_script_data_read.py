"""Issue 24, "emitted, not spliced": each data source's reading lines of the exported script are template functions
in ``core/code/templates/read_*.py`` (linted, typed, tested as code); a source only names its template, the tags
it keeps and its values, which enter the script as Python literals (never pasted text), so a path or a column
name holding quotes and backslashes reads back exactly and the file still passes ruff."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.code.script import generate_script
from core.code.script_data import python_literal, read_lines
from core.code.templates import FOLDER, function_lines
from core.datasets import load_for_settings, parse_spec
from core.datasets.spec import SOURCES
from core.files.project import Project
from core.settings import TrainingSettings
from core.training.setup import run_as_module
from tests.core.train_fixtures import mlp_project, write_images

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = 'we "said" it\'s a\\b'  # two double quotes, one single, a backslash: ruff quotes it with '...'


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, check=False)


def _ruff_clean(folder: Path) -> None:
    check = _ruff("check", "--isolated", "--no-cache", str(folder))
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _ruff("format", "--isolated", "--no-cache", "--check", "--diff", str(folder))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def _code_in_strings(path: Path) -> list[str]:
    """The strings (f-strings read with ``x`` for each value; docstrings left out) of a module that are Python
    statements assigning or calling: lines of generated code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings | parts:
            text = node.value
        else:
            continue
        try:
            body = ast.parse(text.strip()).body
        except SyntaxError:
            continue
        assigns = " = " in text and any(isinstance(s, ast.Assign) for s in body)  # spec options: "classes=2"
        calls = re.search(r"\w\(", text) and any(isinstance(getattr(s, "value", None), ast.Call) for s in body)
        if assigns or calls:  # a title "Iris (scikit-learn)" parses as a call too
            found.append(f"{path.name}:{node.lineno}: {text!r}")
    return found


def test_no_source_module_builds_script_code_from_strings() -> None:
    """Before, core/datasets held ``f"raw = make_points({args})"``, ``f"DATA_FILE = {script_string(path)}"`` and
    the few-shot lines as strings; now its sources name a template, flags and values."""
    found = [line for path in sorted((ROOT / "core" / "datasets").glob("*.py")) for line in _code_in_strings(path)]
    assert not found, "\n".join(found)


def test_every_source_names_a_template_function_that_exists(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(12)))
    text = tmp_path / "t.tsv"
    text.write_text("".join(f"{'ab'[i % 2]}\tword{i}\n" for i in range(12)))
    specs = {
        "table": "digits",
        "points": "spirals",
        "sequences": "sequences",
        "shapes": "shapes",
        "vision": "mnist",
        "npz": "npz:a.npz",
        "idx": "idx:a,b",
        "folder": "folder:photos",
        "csv": "csv:t.csv:y",
        "tabular": f"table:{table}",
        "text": f"text:{text}",
    }
    assert set(specs) == set(SOURCES)
    for kind, text_spec in specs.items():
        load = SOURCES[kind].script(parse_spec(text_spec), TrainingSettings(), (1, 8, 8), False)
        module, name = load.read.split(".")
        assert module.startswith("read_") and (FOLDER / f"{module}.py").is_file(), load.read
        assert function_lines(module, name)[0].startswith(f"def {name}("), load.read
        lines = read_lines(load.read, load.flags, load.values)
        # the template's return gives raw (a text binds it beside its vocabulary, for load_data's end)
        assert lines[-1].startswith(("raw = ", "*raw, tokens = ")), (kind, lines)


def test_a_template_variant_is_a_tag_and_a_value_a_literal() -> None:
    assert read_lines("read_files.npz", {"tokens": False}, {}) == ["raw = load_npz(DATA_FILE)"]
    assert read_lines("read_files.npz", {"tokens": True}, {}) == ["raw = load_npz(DATA_FILE, tokens=True)"]
    folder = read_lines("read_folder.folder", {"crop": True}, {"SIZE": (224, 224), "CHANNELS": 3})
    assert folder == ["raw = load_image_folder(IMAGE_FOLDER, (224, 224), 3, RESIZE_CROP)"]
    points = read_lines("read_builtin.spirals", {}, {"SAMPLES": 9, "NOISE": 0.5, "CLASS_COUNT": 2})
    assert points == ["raw = spiral_points(9, 0.5, 2, SEED)"]
    table = read_lines("read_builtin.sklearn", {}, {"SET_NAME": HOSTILE})
    assert table == [f"raw = load_sklearn({python_literal(HOSTILE)})"]


@pytest.mark.slow  # runs ruff once over a file of literals
def test_python_literal_reads_back_and_is_as_ruff_format_writes_it(tmp_path: Path) -> None:
    texts = ["", "plain", "'", '"', "'\"", '"\'"', HOSTILE, "\\", "ends\\", "a\\'b", "tab\there", "line\nnext"]
    texts += ["café", "\x00\x7f", "bad\udcffbyte", "über/‘quotes’", "C:\\new\\table.csv"]
    values = [*texts, 3, 0.1, -2.5e-07, True, None, (1,), (224, 224), [0, 3], {"a'": "number", 'b"': "category"}]
    lines = [f"V{i} = {python_literal(value)}" for i, value in enumerate(values)]
    source = "\n".join(lines) + "\n"
    namespace: dict = {}
    exec(source, namespace)
    assert [namespace[f"V{i}"] for i in range(len(values))] == values
    assert python_literal(np.int64(3)) == "3" and python_literal(np.float64(0.3)) == "0.3"  # not np.float64(0.3)
    (tmp_path / "literals.py").write_text(source, encoding="utf-8", errors="surrogatepass")
    fmt = _ruff("format", "--isolated", "--no-cache", "--check", "--diff", str(tmp_path))
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def _same_first_splits(project: Project, shape: tuple[int, ...]) -> None:
    """The script's load_data gives the app's training and validation tensors, exactly."""
    data = load_for_settings(project.training, shape)
    module, _ = run_as_module(generate_script(project).source)
    x_train, y_train, x_val, y_val = module.load_data()[:4]
    assert torch.equal(x_train, data.x_train) and torch.equal(y_train, data.y_train)
    assert torch.equal(x_val, data.x_val) and torch.equal(y_val, data.y_val)


@pytest.mark.slow  # reads four sources twice and runs ruff: seconds
def test_paths_and_columns_with_quotes_and_backslashes_read_back_in_the_script(tmp_path: Path) -> None:
    """Before, values went in through json.dumps: ``"we \\"said\\" it's a\\\\b"``, which ruff format rewrites to
    single quotes (fewer escapes), so the exported file failed ``ruff format --check``."""
    folder = tmp_path / HOSTILE
    folder.mkdir()
    rng = np.random.default_rng(0)
    table = folder / "data.csv"
    column = 'kind "of" it\'s \\'
    header = '"' + column.replace('"', '""') + '"'
    table.write_text(f"a,b,{header}\n" + "".join(f"{rng.normal():.4f},{i % 4},{'xy'[i % 2]}\n" for i in range(40)))
    images = rng.integers(0, 255, (30, 4, 4)).astype(np.uint8)
    np.savez(folder / "arrays.npz", x_train=images, y_train=np.arange(30) % 3)
    pictures = write_images(folder / "pictures", {"a": 5, "b": 5})
    quoted_column = column.replace("%", "%25").replace("&", "%26").replace("=", "%3D")
    cases = [
        (mlp_project([2], 8, 2, dataset=f"csv:{table}:{column}", val_fraction=0.2), (2,)),
        (mlp_project([2], 8, 2, dataset=f"table:{table}?label={quoted_column}&number=b", val_fraction=0.2), (2,)),
        (mlp_project([1, 4, 4], 8, 3, dataset=f"npz:{folder / 'arrays.npz'}:per_class=5", val_fraction=0.2), (1, 4, 4)),
        (mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", val_fraction=0.2), (3, 6, 6)),
    ]
    out = tmp_path / "scripts"
    out.mkdir()
    for i, (project, shape) in enumerate(cases):
        source = generate_script(project).source
        assert any(isinstance(n, ast.Constant) and HOSTILE in str(n.value) for n in ast.walk(ast.parse(source)))
        (out / f"script{i}.py").write_text(source, encoding="utf-8")
        _same_first_splits(project, shape)
    _ruff_clean(out)


@pytest.mark.slow  # runs ruff
def test_a_few_shot_script_with_a_long_path_passes_ruff_format(tmp_path: Path) -> None:
    """Before, ``raw = keep_classes(raw, CLASSES, PER_CLASS, SEED, "<spec>")`` stayed one line however long the
    spec's path made it, and ruff format wanted it wrapped (every few-shot spec on a file in a temporary folder)."""
    pictures = write_images(tmp_path / "a folder with a rather long name" / "pictures", {"a": 5, "b": 5})
    out = tmp_path / "scripts"
    out.mkdir()
    for i, spec in enumerate((f"folder:{pictures}:per_class=2", "digits:classes=0-1,per_class=3")):
        source = generate_script(mlp_project([3, 6, 6], 8, 2, dataset=spec)).source
        assert "raw = keep_classes(" in source
        (out / f"few_shot{i}.py").write_text(source)
    _ruff_clean(out)


@pytest.mark.slow  # decodes images at 256 pixels
def test_few_shot_images_are_cropped_in_the_script_as_in_the_app() -> None:
    """A few-shot spec on images read whole (digits, npz, idx, csv, torchvision) resized for pretrained weights: the
    app resizes the short side to 256 and crops the centre 224 (``finish``), the script only squashed the images to
    224 x 224 (its few-shot lines had their own resize, without the crop). Now both take ``resized_raw``."""
    weights = "resnet18-f37072fd.pth"  # torch's cache name of ResNet18_Weights.IMAGENET1K_V1 (not read here)
    settings = {"initial_weights": weights, "resize": [224, 224], "normalize": False, "test_fraction": 0.0}
    project = mlp_project([3, 224, 224], 4, 2, dataset="digits:classes=0-1,per_class=3", **settings)
    assert "resize_crop(x, 256, 224)" in generate_script(project).source
    _same_first_splits(project, (3, 224, 224))
