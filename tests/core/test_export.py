"""Exports: script, model module, weights (.pt / .safetensors), ONNX and .pt2, with clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.cli import main
from core.errors import ExportError
from core.files.export import build_model, export, load_weights, sample_inputs
from core.files.project import Project, load
from core.model.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"


def _trained_run(project: Project, folder: Path, seed: int = 7) -> Path:
    """A run folder as the trainer leaves it: weights that differ from a fresh initialisation."""
    built = build_model(project)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in built.module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    folder.mkdir()
    torch.save(built.module.state_dict(), folder / "last.pt")  # the final weights, which the app evaluates
    torch.save({k: torch.zeros_like(v) for k, v in built.module.state_dict().items()}, folder / "best.pt")
    return folder


def _gelu_project() -> Project:
    graph = Graph()
    x = graph.add("Input", shape=[8])
    fc = graph.add("Linear", out_features=4)
    act = graph.add("GELU", name="act")
    out = graph.add("Output")
    graph.chain([x, fc, act, out])
    return Project(graph, name="gelu")


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_model_module_of_every_example_builds(path: Path, tmp_path: Path) -> None:
    project = load(path)
    result = export(project, "model", tmp_path / "model.py")
    namespace: dict = {}
    exec(compile(result.path.read_text(encoding="utf-8"), str(result.path), "exec"), namespace)
    built = build_model(project)
    model = namespace["Net"]()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in built.module.parameters())


def test_script_export_writes_the_training_script(tmp_path: Path) -> None:
    result = export(load(MLP), "script", tmp_path / "train.py")
    source = result.path.read_text(encoding="utf-8")
    compile(source, "train.py", "exec")
    assert "class Net(nn.Module)" in source and "backward()" in source


def test_weights_from_a_run_folder_round_trip_as_pt_and_safetensors(tmp_path: Path) -> None:
    project = load(MLP)
    run = _trained_run(project, tmp_path / "run")
    best = torch.load(run / "last.pt", weights_only=True)
    pt = export(project, "weights", tmp_path / "w.pt", run)
    back = torch.load(pt.path, weights_only=True)
    assert back.keys() == best.keys() and all(torch.equal(back[k], best[k]) for k in best)
    safetensors_torch = pytest.importorskip("safetensors.torch")
    st = export(project, "weights", tmp_path / "w.safetensors", run)
    loaded = safetensors_torch.load_file(str(st.path))
    assert all(torch.equal(loaded[k], best[k]) for k in best)
    model = build_model(project, st.path).module  # and it loads back into the generated network
    assert torch.equal(model.state_dict()[next(iter(best))], next(iter(best.values())))


def test_weights_export_needs_weights(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="--weights"):
        export(load(MLP), "weights", tmp_path / "w.pt")


def test_weights_that_do_not_fit_name_the_layer(tmp_path: Path) -> None:
    project = load(MLP)
    state = build_model(project).module.state_dict()
    key = next(k for k in state if k.endswith("weight"))
    state[key] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "bad.pt")
    layer = key.split(".")[0]
    with pytest.raises(ExportError, match=rf"{layer}: the weights {key} have shape \[3, 3\]"):
        export(project, "weights", tmp_path / "w.pt", tmp_path / "bad.pt")
    del state[key]
    torch.save(state, tmp_path / "missing.pt")
    with pytest.raises(ExportError, match="no weights for"):
        build_model(project, tmp_path / "missing.pt")


class _Payload:
    def __reduce__(self):
        return (Path.touch, (Path("PWNED"),))


def test_weights_are_loaded_without_running_pickled_code(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    torch.save({"fc1.weight": _Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ExportError, match="Could not read the weights"):
        load_weights(tmp_path / "evil.pt")
    assert not (tmp_path / "PWNED").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="No weights"):
        load_weights(tmp_path / "empty")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_mlp", "residual_cnn"])
def test_onnx_is_one_checked_file_that_matches_pytorch(name: str, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    project = load(ROOT / "resources" / "examples" / f"{name}.json")
    run = _trained_run(project, tmp_path / "run")
    result = export(project, "onnx", tmp_path / "net.onnx", run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx", "run"]  # no .onnx.data sidecar
    model = onnx.load(str(result.path))
    onnx.checker.check_model(model)
    assert model.graph.initializer and all(not i.external_data for i in model.graph.initializer)
    ort = pytest.importorskip("onnxruntime")
    assert result.max_abs_diff is not None and "onnxruntime matches" in result.details
    built = build_model(project, run)
    batch = sample_inputs(built, project, batch=5)  # another batch size: the batch dimension is dynamic
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: batch[0].numpy()})[0]
    with torch.no_grad():
        expected = built.module(*batch).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_onnx_without_the_extra_says_how_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExportError, match=r'pip install "torchcanvas\[export\]"'):
        export(load(MLP), "onnx", tmp_path / "net.onnx")
    assert not (tmp_path / "net.onnx").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_lstm", "mnist_cnn"])
def test_pt2_reloads_and_matches(name: str, tmp_path: Path) -> None:
    project = load(ROOT / "resources" / "examples" / f"{name}.json")
    run = _trained_run(project, tmp_path / "run")
    result = export(project, "pt2", tmp_path / "net.pt2", run)
    program = torch.export.load(str(result.path))
    built = build_model(project, run)
    batch = sample_inputs(built, project, batch=3)
    with torch.no_grad():
        assert torch.allclose(program.module()(*batch), built.module(*batch), atol=1e-5)


def test_a_layer_that_cannot_be_exported_is_named(tmp_path: Path, monkeypatch) -> None:
    """Data-dependent Python control flow cannot be traced: the error names the node and the format."""

    def branching(self, x):
        return x if bool(x.sum() > 0) else -x

    monkeypatch.setattr(nn.GELU, "forward", branching)
    with pytest.raises(ExportError) as info:
        export(_gelu_project(), "pt2", tmp_path / "net.pt2")
    assert info.value.node_id is not None
    assert str(info.value).startswith("act (GELU) cannot be exported to torch.export")


def test_layer_is_found_by_probing_when_the_error_names_no_line(tmp_path: Path, monkeypatch) -> None:
    real_export = torch.export.export

    def refusing_gelu(module, args, **kwargs):
        """An exporter that refuses a GELU before running anything: its error names no line of the code."""
        if any(isinstance(m, nn.GELU) for m in module.modules()):
            raise RuntimeError("GELU is not supported by this exporter")
        return real_export(module, args, **kwargs)

    monkeypatch.setattr(torch.export, "export", refusing_gelu)
    with pytest.raises(ExportError, match=r"^act \(GELU\) cannot be exported to torch.export: GELU is not supp"):
        export(_gelu_project(), "pt2", tmp_path / "net.pt2")


def test_invalid_network_is_a_clear_export_error(tmp_path: Path) -> None:
    data = json.loads(MLP.read_text(encoding="utf-8"))
    data["graph"]["edges"] = data["graph"]["edges"][1:]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    for fmt in ("model", "onnx", "pt2"):
        with pytest.raises(ExportError, match="problems to fix"):
            export(load(bad), fmt, tmp_path / f"out.{fmt}")


@pytest.mark.slow
def test_cli_formats_and_defaults(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    run = _trained_run(load(MLP), tmp_path / "run")
    assert main(["export", str(MLP), "--format", "pt2", "--weights", str(run)]) == 0
    assert (tmp_path / "digits_mlp.pt2").exists()
    assert main(["export", str(MLP), "--format", "weights", "--weights", str(run), "-o", "w.pt"]) == 0
    assert (tmp_path / "w.pt").exists()
    assert main(["export", str(MLP), "-o", "m.py", "--model-only"]) == 0
    assert "class Net" in (tmp_path / "m.py").read_text(encoding="utf-8")
    assert main(["export", str(MLP)]) == 0 and (tmp_path / "digits_mlp.py").exists()
    capsys.readouterr()
    assert main(["export", str(MLP), "--format", "weights"]) == 2
    assert "--weights" in capsys.readouterr().err
    assert main(["export", str(MLP), "--format", "onnx", "--model-only"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_exports_to_onnx_and_pt2(path: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    project = load(path)
    onnx_result = export(project, "onnx", tmp_path / "net.onnx")
    pt2_result = export(project, "pt2", tmp_path / "net.pt2")
    assert onnx_result.path.stat().st_size > 0 and pt2_result.max_abs_diff is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx", "net.pt2"]
