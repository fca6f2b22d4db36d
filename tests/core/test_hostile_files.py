"""Files that attack TorchCanvas (issue 22): an import that would replace someone else's weights, weights files
that are not weights (a malicious pickle, random bytes, a device, a pipe), a full disk under ``torch.save`` and a
``--force`` through a symbolic link. Each gets a plain sentence, and no file that is not ours is lost."""

from __future__ import annotations

import errno
import os
import pickle
import random
import textwrap
import warnings
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.errors import ExportError, TorchCanvasError, TrainingError
from core.files.initial_weights import initial_weights, save_with_weights, weights_file_for
from core.files.project import load
from core.files.weights import read_weights
from core.training.setup import start_weights

MLP = Path(__file__).resolve().parents[2] / "resources" / "examples" / "digits_mlp.json"

TINY = textwrap.dedent(
    """
    import torch.nn as nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(x)
    """
)
PRECIOUS = b"someone else's weights, not to be lost"


def _import_argv(tmp_path: Path, out: Path) -> list[str]:
    source = tmp_path / "tiny.py"
    source.write_text(TINY)
    return ["import", f"{source}:Tiny", "-o", str(out), "--input-shape", "2"]


# --- 1. import never replaces weights that are not its own ----------------------------------------------------
def test_import_refuses_to_replace_an_existing_initial_weights_file_without_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "net.json"
    other = weights_file_for(out)
    other.write_bytes(PRECIOUS)
    assert main(_import_argv(tmp_path, out)) == 2
    err = capsys.readouterr().err
    assert str(other) in err and "--force" in err
    assert other.read_bytes() == PRECIOUS and not out.exists()
    assert main([*_import_argv(tmp_path, out), "--force"]) == 0  # asked for: replaced
    assert initial_weights(load(out), out) == other and other.read_bytes() != PRECIOUS


def test_a_failed_project_write_leaves_the_weights_file_alone(tmp_path: Path, monkeypatch, capsys) -> None:
    import core.files.initial_weights as initial
    from core.files.file_errors import FileWriteError

    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    weights = weights_file_for(out)
    before_weights, before_project = weights.read_bytes(), out.read_bytes()

    def refuse(project, path) -> None:
        raise FileWriteError(path, "the disk is full; free some space and try again", errno.ENOSPC)

    monkeypatch.setattr(initial, "save", refuse)
    assert main([*_import_argv(tmp_path, out), "--force"]) == 1
    assert "the disk is full" in capsys.readouterr().err
    assert weights.read_bytes() == before_weights and out.read_bytes() == before_project


def test_weights_that_cannot_be_written_put_the_previous_project_back(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    weights = weights_file_for(out)
    before_weights, before_project = weights.read_bytes(), out.read_bytes()
    project = load(out)
    project.description = "changed"

    def full(obj, f, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(TorchCanvasError, match="the disk is full"):
        save_with_weights(project, {"fc.weight": torch.zeros(3, 2)}, out, replace=True)
    assert out.read_bytes() == before_project and weights.read_bytes() == before_weights
    fresh = tmp_path / "fresh.json"  # a new project whose weights fail is not left behind
    with pytest.raises(TorchCanvasError, match="the disk is full"):
        save_with_weights(project, {"fc.weight": torch.zeros(3, 2)}, fresh)
    assert not fresh.exists() and not weights_file_for(fresh).exists()


def test_save_with_weights_keeps_a_foreign_weights_file_and_replaces_its_own(tmp_path: Path) -> None:
    """The window's import asks only about the project file: a weights file that the replaced project does not
    name is refused; its own weights (re-importing over the same project) are replaced."""
    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    project = load(out)
    state = {"fc.weight": torch.ones(3, 2), "fc.bias": torch.ones(3)}
    save_with_weights(project, state, out)  # its own: replaced
    assert torch.equal(torch.load(weights_file_for(out), weights_only=True)["fc.bias"], torch.ones(3))
    other = tmp_path / "other.json"
    weights_file_for(other).write_bytes(PRECIOUS)
    with pytest.raises(TorchCanvasError, match="not this project's initial weights"):
        save_with_weights(project, state, other)
    assert weights_file_for(other).read_bytes() == PRECIOUS and not other.exists()


# --- 3. weights files that are not weights: our own sentences, never torch's ----------------------------------
class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _hostile_weights(kind: str, folder: Path) -> Path:
    """A file of each kind that is not a usable weights file; ``/dev/zero`` is the real device."""
    path = folder / f"{kind}.pt"
    if kind == "malicious pickle":
        torch.save({"fc.weight": _Payload()}, path)
    elif kind == "plain pickle":
        path.write_bytes(pickle.dumps({"fc.weight": _Payload()}, protocol=4))
    elif kind == "random bytes":
        path.write_bytes(b"\x13\x37" + bytes(random.Random(22).randrange(256) for _ in range(4000)))
    elif kind == "truncated zip":
        torch.save({"fc.weight": torch.zeros(300, 300)}, path)
        path.write_bytes(path.read_bytes()[:200_000])
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev zero":
        path = Path("/dev/zero")
    elif kind == "text file":
        path.write_text("root:*:19000:0:99999:7:::\n")  # what --weights /etc/shadow would read
    return path


WHY = {
    "malicious pickle": "holds Python objects (it asks for posix.system) that could run code when loaded",
    "plain pickle": "holds Python objects that could run code when loaded",
    "random bytes": "it is not a PyTorch weights file",
    "truncated zip": "the file is damaged or incomplete",
    "directory": "No weights (.pt or .safetensors) in the run folder",
    "fifo": "that is a pipe (FIFO), not a weights file",
    "dev zero": "that is a device or other special file, not a weights file",
    "text file": "it is not a PyTorch weights file",
}
TORCH_WORDS = ("weights_only", "Weights only load failed", "list index", "Warning", "Traceback", "is empty")


def _plain(text: str, kind: str, path: Path) -> None:
    assert str(path) in text, text
    assert WHY[kind] in text, text
    assert not any(words in text for words in TORCH_WORDS), text


def _hostile(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are a POSIX thing")
    if kind == "dev zero" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    if kind == "malicious pickle" and os.name != "posix":
        pytest.skip("the payload's function is posix.system")
    return _hostile_weights(kind, tmp_path)


@pytest.mark.timeout(60, method="signal")  # a FIFO opened the blocking way would hang: fail instead
@pytest.mark.parametrize("kind", sorted(WHY))
def test_export_weights_from_a_hostile_file_is_our_sentence(kind: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    weights = _hostile(kind, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["export", str(MLP), "-f", "weights", "-o", str(tmp_path / "w.pt"), "--weights", str(weights)])
    assert code == 2
    _plain(capsys.readouterr().err, kind, weights)
    assert not [w for w in caught if "torch" in str(w.filename)]
    assert not (tmp_path / "w.pt").exists() and not (tmp_path / "PWNED").exists()


@pytest.mark.timeout(60, method="signal")
@pytest.mark.parametrize("kind", sorted(WHY))
def test_import_weights_from_a_hostile_file_is_our_sentence(kind: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    weights = _hostile(kind, tmp_path)
    out = tmp_path / "net.json"
    assert main([*_import_argv(tmp_path, out), "--weights", str(weights)]) == 1
    _plain(capsys.readouterr().err, kind, weights)
    assert not out.exists() and not weights_file_for(out).exists() and not (tmp_path / "PWNED").exists()


@pytest.mark.timeout(60, method="signal")
@pytest.mark.parametrize("kind", sorted(WHY))
def test_fine_tuning_from_hostile_initial_weights_is_our_sentence(kind: str, tmp_path: Path, monkeypatch) -> None:
    """The initial weights of `torchcanvas train --fine-tune` and of the window's runs: ``start_weights``, which
    reads through the same loader as export and import."""
    monkeypatch.chdir(tmp_path)
    weights = _hostile(kind, tmp_path)
    with pytest.raises(TrainingError) as info:
        start_weights(torch.nn.Linear(2, 3), None, "", weights, None)
    _plain(str(info.value), kind, weights)
    assert str(info.value).startswith("Cannot start from the imported weights:") and not (tmp_path / "PWNED").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file: no EACCES")
def test_an_unreadable_weights_file_says_permission_denied(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pt"
    torch.save({"fc.weight": torch.zeros(3, 2)}, locked)
    locked.chmod(0)
    try:
        with pytest.raises(ExportError, match=r"permission denied\. Give yourself read access"):
            read_weights(locked)
    finally:
        locked.chmod(0o644)


def test_a_good_weights_file_still_loads(tmp_path: Path) -> None:
    state = {"fc.weight": torch.randn(3, 2), "fc.bias": torch.randn(3)}
    torch.save(state, tmp_path / "good.pt")
    torch.save(state, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    for name in ("good.pt", "old.pt"):
        loaded = read_weights(tmp_path / name).state
        assert all(torch.equal(loaded[k], v) for k, v in state.items())


# --- 4. torch.save onto a full disk: the sentence every writer gives -------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed: No space left on device"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["runtime-error", "os-error"],
)
def test_every_torch_save_writer_says_the_disk_is_full(error, tmp_path: Path, monkeypatch, capsys) -> None:
    from core.files.export import build_model

    run = tmp_path / "run"
    run.mkdir()
    torch.save(build_model(load(MLP)).module.state_dict(), run / "last.pt")
    out = tmp_path / "w.pt"
    out.write_bytes(PRECIOUS)
    source = tmp_path / "tiny.py"
    source.write_text(TINY)

    def full(*args, **kwargs) -> None:
        # a fresh exception each time: raising the parametrized one would leave its traceback (and the trainer in
        # its frames) alive for the rest of the session, which tests/gui/test_run_memory.py counts as a leak
        raise type(error)(*error.args)

    monkeypatch.setattr(torch, "save", full)
    commands = {
        "export": ["export", str(MLP), "-f", "weights", "-o", str(out), "--weights", str(run), "--force"],
        "train": ["train", str(MLP), "--epochs", "1", "--out", str(tmp_path / "runs")],
        "import": ["import", f"{source}:Tiny", "-o", str(tmp_path / "tiny.json"), "--input-shape", "2"],
    }
    for what, argv in commands.items():
        assert main(argv) in (1, 2), what
        err = capsys.readouterr().err
        assert "the disk is full; free some space and try again" in err, (what, err)
        assert "unexpected" not in err and "a bug in TorchCanvas" not in err and "inline_container" not in err
    assert out.read_bytes() == PRECIOUS and not (tmp_path / "tiny.json").exists()


# --- 5. --force never writes through a symbolic link -----------------------------------------------------------
def test_force_never_writes_through_a_link_to_a_file_elsewhere(tmp_path: Path, tmp_path_factory, capsys) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "bashrc"
    elsewhere.write_bytes(PRECIOUS)
    run = tmp_path / "run"
    run.mkdir()
    from core.files.export import build_model

    torch.save(build_model(load(MLP)).module.state_dict(), run / "last.pt")
    source = tmp_path / "tiny.py"
    source.write_text(TINY)
    project, weights = tmp_path / "net.json", tmp_path / "net.initial.pt"
    links = {
        "script": tmp_path / "train.py",
        "weights": tmp_path / "w.pt",
        "project": project,
    }
    for link in links.values():
        link.symlink_to(elsewhere)
    for fmt in ("script", "weights"):
        argv = ["export", str(MLP), "-f", fmt, "-o", str(links[fmt]), "--weights", str(run), "--force"]
        assert main(argv) == 2, fmt
        assert f"{links[fmt]}: it is a link to {elsewhere};" in capsys.readouterr().err
    imported = ["import", f"{source}:Tiny", "-o", str(project), "--input-shape", "2", "--force"]
    assert main(imported) == 1
    assert f"{project}: it is a link to {elsewhere};" in capsys.readouterr().err
    project.unlink()
    weights.symlink_to(elsewhere)  # the initial weights file is the link
    assert main(imported) == 1
    assert f"{weights}: it is a link to {elsewhere};" in capsys.readouterr().err
    assert not project.exists() and weights.is_symlink()  # the project written first was taken back
    assert elsewhere.read_bytes() == PRECIOUS


@pytest.mark.timeout(60, method="signal")  # reading the FIFO would wait for a writer forever: fail instead
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing")
def test_save_as_beside_a_fifo_of_the_weights_name_takes_another_name(tmp_path: Path) -> None:
    from core.files.initial_weights import carry_initial_weights

    out = tmp_path / "net.json"
    assert main(_import_argv(tmp_path, out)) == 0
    project = load(out)
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "net.initial.pt")  # the weights' name in the new folder is a pipe
    carried = carry_initial_weights(project, out, elsewhere / "net.json")
    assert carried == elsewhere / "net.initial-2.pt" and carried.read_bytes() == weights_file_for(out).read_bytes()
    assert (elsewhere / "net.initial.pt").is_fifo() and project.extra["initial_weights"] == carried.name
