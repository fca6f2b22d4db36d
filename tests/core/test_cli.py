import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from tests.conftest import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_check_every_example(path, capsys):
    data = json.loads(path.read_text())["training"]["dataset"]
    if data.startswith("folder:") and not (path.parent / Path(data.split(":", 1)[1])).is_dir():
        # resnet18's ImageNet folder is the user's: check prints the summary, then refuses it as train does
        assert main(["check", str(path)]) == 1
        captured = capsys.readouterr()
        assert "Total params:" in captured.out and "no such folder" in captured.err
        return
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Total params:" in out and "OK: the network is valid." in out


def test_check_table_reads_like_keras(capsys):
    main(["check", str(EXAMPLES / "mnist_mlp.json")])
    out = capsys.readouterr().out
    assert "fc1      Linear   [N, 512]        401,920  flatten" in out
    assert "Total params: 407,050" in out


def test_check_invalid_project_exits_1_with_plain_errors(tmp_path, capsys):
    data = json.loads((EXAMPLES / "mnist_mlp.json").read_text())
    fc1 = next(n for n in data["graph"]["nodes"] if n["name"] == "fc1")
    data["graph"]["edges"] = [e for e in data["graph"]["edges"] if e["dst"] != fc1["id"]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "fc1's input is not connected" in err
    assert "Traceback" not in err


def test_bad_file_gives_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "torchcanvas-project", "schema_version": 1, "graph": {"nodes": 5}}')
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "graph.nodes" in err
    assert main(["check", str(tmp_path / "missing.json")]) == 2


def test_export_model_only_writes_importable_module(tmp_path):
    out = tmp_path / "model.py"
    assert main(["export", str(EXAMPLES / "mnist_cnn.json"), "-o", str(out), "--model-only"]) == 0
    namespace: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)
    assert sum(p.numel() for p in namespace["Net"]().parameters()) == 1199882


def test_help_documents_commands():
    result = subprocess.run([sys.executable, "-m", "core", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for word in ("check PROJECT", "export PROJECT", "--screenshot", "train"):
        assert word in result.stdout
