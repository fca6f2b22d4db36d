"""Exports never destroy a file: a failed export (a layer that cannot be exported, a full disk) leaves the file
already at the output byte for byte, and the message names the path and the real cause."""

from __future__ import annotations

import contextlib
import errno
import json
import resource
import signal
import stat
from pathlib import Path

import pytest
import torch
from torch import nn

from core.cli import main
from core.errors import ExportError
from core.files.export import build_model, export
from core.files.project import Project, load
from core.model.graph import Graph
from tests.core.test_fileio import full_disk_after

ROOT = Path(__file__).resolve().parents[2]
MLP = ROOT / "resources" / "examples" / "digits_mlp.json"
OLD = b"previous export, which must survive\n" * 50


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _weights(project: Project, folder: Path) -> Path:
    folder.mkdir()
    torch.save(build_model(project).module.state_dict(), folder / "last.pt")
    return folder


@contextlib.contextmanager
def file_size_limit(limit: int):
    """A real kernel write failure (EFBIG, the same code path as a full disk) for files written in this process,
    including those PyTorch's C++ writers write."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "name"), [("script", "train.py"), ("model", "net_model.py"), ("weights", "w.pt"), ("pt2", "net.pt2")]
)
def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path: Path, fmt: str, name: str) -> None:
    project = load(MLP)
    run = _weights(project, tmp_path / "run")
    target = tmp_path / name
    target.write_bytes(OLD)
    size = len(export(project, fmt, tmp_path / f"full_{name}", run).path.read_bytes())
    with file_size_limit(size // 2), pytest.raises(ExportError) as info:
        export(project, fmt, target, run)
    assert target.read_bytes() == OLD
    message = str(info.value)
    assert str(target) in message and "inline_container" not in message and "cannot be exported" not in message
    assert _leftovers(tmp_path) == []


def test_weights_export_on_a_full_disk_says_the_disk_is_full(tmp_path: Path, monkeypatch) -> None:
    project = load(MLP)
    run = _weights(project, tmp_path / "run")
    target = tmp_path / "model.pt"
    target.write_bytes(OLD)
    full_disk_after(monkeypatch, 8192)
    with pytest.raises(ExportError) as info:
        export(project, "weights", target, run)
    monkeypatch.undo()
    assert str(info.value) == f"Could not write {target}: the disk is full; free some space and try again."
    assert target.read_bytes() == OLD and _leftovers(tmp_path) == []


def test_safetensors_export_on_a_full_disk_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("safetensors")
    project = load(MLP)
    run = _weights(project, tmp_path / "run")
    target = tmp_path / "model.safetensors"
    target.write_bytes(OLD)
    full_disk_after(monkeypatch, 8192)
    with pytest.raises(ExportError, match="the disk is full"):
        export(project, "weights", target, run)
    monkeypatch.undo()
    assert target.read_bytes() == OLD


def _gelu_project() -> Project:
    graph = Graph()
    x = graph.add("Input", shape=[8])
    fc = graph.add("Linear", out_features=4)
    act = graph.add("GELU", name="act")
    out = graph.add("Output")
    graph.chain([x, fc, act, out])
    return Project(graph, name="gelu")


@pytest.mark.slow
def test_a_failed_onnx_export_keeps_the_file_already_there(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")

    def branching(self, x):
        return x if bool(x.sum() > 0) else -x

    monkeypatch.setattr(nn.GELU, "forward", branching)
    target = tmp_path / "net.onnx"
    target.write_bytes(OLD)
    with pytest.raises(ExportError, match=r"^act \(GELU\) cannot be exported to ONNX"):
        export(_gelu_project(), "onnx", target)
    assert target.read_bytes() == OLD and _leftovers(tmp_path) == []


def test_a_full_disk_during_onnx_export_is_not_blamed_on_a_layer(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")

    def export_to_a_full_disk(module, args, path, **kwargs):
        Path(path).write_bytes(b"\x08\x07half an onnx file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch.onnx, "export", export_to_a_full_disk)
    target = tmp_path / "net.onnx"
    target.write_bytes(OLD)
    with pytest.raises(ExportError) as info:
        export(load(MLP), "onnx", target)
    assert str(info.value) == f"Could not write {target}: the disk is full; free some space and try again."
    assert target.read_bytes() == OLD and _leftovers(tmp_path) == []


def test_export_files_get_ordinary_permissions_and_lf(tmp_path: Path) -> None:
    old = __import__("os").umask(0o022)
    try:
        out = export(load(MLP), "script", tmp_path / "train.py").path
    finally:
        __import__("os").umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644 and b"\r" not in out.read_bytes()


# --- the project itself is never overwritten by an export ---------------------------------------------------
def test_export_over_the_project_itself_is_refused(tmp_path: Path, capsys) -> None:
    project = tmp_path / "P.json"
    project.write_bytes(MLP.read_bytes())
    assert main(["export", str(project), "-o", str(project)]) == 2
    err = capsys.readouterr().err
    assert "project file" in err and str(project) in err and "Traceback" not in err
    assert project.read_bytes() == MLP.read_bytes()


def test_export_over_another_project_file_needs_force(tmp_path: Path, capsys) -> None:
    other = tmp_path / "other.json"
    other.write_bytes(MLP.read_bytes())
    assert main(["export", str(MLP), "-o", str(other)]) == 2
    assert "--force" in capsys.readouterr().err and other.read_bytes() == MLP.read_bytes()
    assert main(["export", str(MLP), "-o", str(other), "--force"]) == 0
    assert other.read_text(encoding="utf-8").startswith('"""')


# --- weights that cannot be used ----------------------------------------------------------------------------
def test_an_empty_weights_file_is_a_message(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "e.pt"
    empty.touch()
    assert main(["export", str(MLP), "-f", "weights", "-o", str(tmp_path / "w.pt"), "--weights", str(empty)]) == 2
    err = capsys.readouterr().err
    assert f"{empty} is empty (0 bytes)" in err and "Traceback" not in err
    assert not (tmp_path / "w.pt").exists()


def test_a_run_folder_with_an_empty_last_pt_uses_best_pt_and_says_so(tmp_path: Path, capsys) -> None:
    project = load(MLP)
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").touch()
    best = build_model(project).module.state_dict()
    torch.save(best, run / "best.pt")
    out = tmp_path / "w.pt"
    assert main(["export", str(MLP), "-f", "weights", "-o", str(out), "--weights", str(run)]) == 0
    printed = capsys.readouterr().out
    assert "last.pt is empty" in printed and "Used best.pt" in printed
    back = torch.load(out, weights_only=True)
    assert all(torch.equal(back[k], best[k]) for k in best)
    # the GUI passes the run's last.pt itself: the same fallback
    assert "Used best.pt" in export(project, "weights", tmp_path / "w2.pt", run / "last.pt").details


def test_a_corrupt_summary_is_skipped_by_the_core_reader(tmp_path: Path) -> None:
    from core.training.run_folder import project_runs

    for name, accuracy in (("20261130-100000_net", 0.9), ("20261130-110000_net", "0.93")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "project.json").write_text(json.dumps({"name": "Net"}))
        (folder / "hparams.json").write_text("{}")
        (folder / "metrics.csv").write_text("epoch,loss\n1,0.5\n")
        (folder / "summary.json").write_text(json.dumps({"status": "finished", "test_accuracy": accuracy}))
    runs, notes = project_runs(tmp_path, "Net")
    assert [r.folder.name for r in runs] == ["20261130-100000_net"] and runs[0].history == [{"epoch": 1.0, "loss": 0.5}]
    assert len(notes) == 1 and "20261130-110000_net" in notes[0] and '"test_accuracy" should be a number' in notes[0]


def test_run_folder_files_get_ordinary_permissions_and_lf(tmp_path: Path) -> None:
    from core.training.run_folder import RunFolder

    old = __import__("os").umask(0o022)
    try:
        folder = RunFolder(tmp_path, "Net")
        folder.write_text("train.py", "a = 1\r\nb = 2\n")
        folder.write_json("summary.json", {"status": "finished"})
        folder.log_epoch({"epoch": 1, "loss": 0.5})
        folder.log_epoch({"epoch": 2, "loss": 0.25})
        folder.save_weights("last.pt", nn.Linear(2, 2))
        folder.close()
    finally:
        __import__("os").umask(old)
    files = sorted(p for p in folder.path.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"train.py", "summary.json", "metrics.csv", "last.pt"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o644" for p in files}
    for name in ("train.py", "summary.json", "metrics.csv"):
        assert b"\r" not in (folder.path / name).read_bytes(), name
    assert (folder.path / "metrics.csv").read_text().splitlines()[1:] == ["1,0.5,,,,,", "2,0.25,,,,,"]
