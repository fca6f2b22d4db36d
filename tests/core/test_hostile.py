"""Hostile projects: names and values crafted to break out of the generated code never run anything.

Every file in fixtures/hostile/ carries the payload ``__import__('pathlib').Path('PWNED').touch()`` somewhere a
careless generator would paste it. Each must either fail to load (a clean ProjectLoadError), fail to generate
(a CodegenError), or generate code that, executed and run, never creates the sentinel file ``PWNED``.
"""

from __future__ import annotations

import ast
import importlib
import linecache
from pathlib import Path

import pytest
import torch

from core.code.codegen import CodegenError, generate_model
from core.errors import ProjectLoadError, TorchCanvasError
from core.files.project import Project, load

HOSTILE = sorted((Path(__file__).parent / "fixtures" / "hostile").glob("*.json"))
PAYLOAD = "__import__('pathlib').Path('PWNED').touch()"

# Files a validator must refuse at load time (a looser validator makes this test fail).
MUST_REFUSE = {
    "name_call_breakout.json",
    "name_newline.json",
    "name_dunder_class.json",
    "name_dunder_init.json",
    "name_keyword.json",
    "name_builtin_after_nfkc.json",
    "name_fullwidth.json",
    "name_module_attr.json",
    "name_self.json",
    "name_torch.json",
    "choice_quote.json",
    "choice_newline.json",
    "choice_list.json",
    "int_as_code_string.json",
    "int_huge.json",
    "int_float_huge.json",
    "int_bool.json",
    "nested_lists.json",
    "shape_strings.json",
    "param_key_injection.json",
    "param_dict_value.json",
    "optimizer_injection.json",
    "device_injection.json",
    "lr_string.json",
    "seed_huge.json",
    "unicode_identifier_param_key.json",
}


def _no_injected_calls(source: str) -> None:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert node.id != "__import__", "the payload became code"
        if isinstance(node, ast.Attribute):
            assert node.attr != "touch", "the payload became code"


def _run_model(project: Project, where: Path) -> None:
    """Exec the model module, build it and run a forward pass (on the meta device: no memory, same code)."""
    code = generate_model(project.graph, title=project.name)
    _no_injected_calls(code.source)
    filename = f"<hostile {where.name}>"
    linecache.cache[filename] = (len(code.source), None, code.source.splitlines(True), filename)
    namespace: dict = {"__name__": "hostile_model"}
    exec(compile(code.source, filename, "exec"), namespace)
    with torch.device("meta"):
        model = namespace[code.class_name]()
        inputs = []
        for node in project.graph.nodes_of_type("Input"):
            shape = (2, *node.params.get("shape", [1]))
            if node.params.get("dtype") == "int64":
                inputs.append(torch.zeros(shape, dtype=torch.int64))
            else:
                inputs.append(torch.zeros(shape))
        model(*inputs)


def _run_script(project: Project) -> None:
    try:
        script = importlib.import_module("core.code.script")
    except ModuleNotFoundError:  # pragma: no cover - the training part ships it
        return
    try:
        code = script.generate_script(project)
    except TorchCanvasError:
        return
    _no_injected_calls(code.source)
    namespace: dict = {"__name__": "hostile_script"}  # module level only: no training
    exec(compile(code.source, "<hostile script>", "exec"), namespace)


def test_corpus_is_there() -> None:
    assert len(HOSTILE) >= 30
    assert {p.name for p in HOSTILE} >= MUST_REFUSE


@pytest.mark.slow
@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_project_never_runs_its_payload(path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "PWNED"
    try:
        project = load(path)
    except ProjectLoadError as exc:
        assert not exc.unexpected
        assert str(path) in str(exc)
        return
    finally:
        assert not sentinel.exists()
    assert path.name not in MUST_REFUSE, f"{path.name} should have been refused when loading"
    try:
        _run_model(project, path)
    except CodegenError:
        pass
    assert not sentinel.exists(), "the model code ran the payload"
    _run_script(project)
    assert not sentinel.exists(), "the training script ran the payload"


def test_the_sentinel_would_catch_an_injection(tmp_path: Path, monkeypatch) -> None:
    """The check is real: the payload pasted into code does create the sentinel, and the AST check sees it."""
    monkeypatch.chdir(tmp_path)
    source = f"x = 1\n{PAYLOAD}\n"
    with pytest.raises(AssertionError):
        _no_injected_calls(source)
    exec(compile(source, "<payload>", "exec"), {})
    assert (tmp_path / "PWNED").exists()
