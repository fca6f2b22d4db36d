"""Model files as people publish them: the model built by a function (``def ResNet18(): return ResNet(...)``), a
file that parses its command line or calls ``sys.exit()`` when it is run. Each imports, or is refused with a
message naming the file and the line; none ends the program."""

from __future__ import annotations

import re
import sys

import pytest

from core.cli import main
from core.fx_import.source import load_source, parse_args
from core.fx_import.trace import ModelImportError

BUILDERS = """from functools import partial

from torch import nn


class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc = nn.Linear(2, hidden)

    def forward(self, x):
        return self.fc(x)


def Net8():
    return Net(8)


net3 = partial(Net, 3)


def not_a_model():
    return 42
"""

ARGPARSE = """import argparse

from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--dataset", required=True)
opt = parser.parse_args()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        return self.fc(x)
"""


def _write(tmp_path, text: str, name: str = "model.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_function_that_builds_the_model_imports_like_a_class(tmp_path, capsys):
    path = _write(tmp_path, BUILDERS)
    assert load_source(f"{path}:Net8").fc.out_features == 8
    assert load_source(f"{path}:net3").fc.out_features == 3
    assert main(["import", f"{path}:Net8", "-o", str(tmp_path / "net.json"), "--input-shape", "2"]) == 0
    assert "Outputs equal the original's" in capsys.readouterr().out


def test_a_function_that_gives_no_module_is_refused_in_words(tmp_path):
    path = _write(tmp_path, BUILDERS)
    with pytest.raises(ModelImportError, match=r"not_a_model\(\) gives a int, not an nn.Module"):
        load_source(f"{path}:not_a_model")


def test_a_file_whose_argparse_fails_when_run_is_a_message_not_the_end(tmp_path, capsys):
    path = _write(tmp_path, ARGPARSE)
    argv = list(sys.argv)
    with pytest.raises(ModelImportError) as caught:
        load_source(f"{path}:Net")
    text = str(caught.value)
    assert f"{path} stops the program (sys.exit(2)) at line 7 (`opt = parser.parse_args()`)" in text, text
    assert "the following arguments are required: --dataset" in text
    assert "if __name__" in text
    assert sys.argv == argv  # put back
    assert main(["import", f"{path}:Net", "-o", str(tmp_path / "net.json"), "--input-shape", "2"]) == 1
    err = capsys.readouterr().err
    assert "cannot import the model" in err and "stops the program" in err
    assert not (tmp_path / "net.json").exists()


def test_the_file_sees_no_arguments_of_torchcanvas(tmp_path, monkeypatch):
    text = "import sys\nfrom torch import nn\n\n\nclass Net(nn.Identity):\n    SEEN = list(sys.argv)\n"
    path = _write(tmp_path, text)
    monkeypatch.setattr(sys, "argv", ["torchcanvas", "import", "--weights", "w.pt"])
    seen = type(load_source(f"{path}:Net")).SEEN
    assert seen == [str(path)]
    assert sys.argv == ["torchcanvas", "import", "--weights", "w.pt"]


@pytest.mark.parametrize("where", ["module", "constructor"])
def test_sys_exit_anywhere_in_the_file_is_a_message(tmp_path, where):
    body = "import sys\nfrom torch import nn\n"
    if where == "module":
        body += "sys.exit('no GPU here')\n"
    body += "\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        sys.exit(3)\n"
    path = _write(tmp_path, body)
    with pytest.raises(ModelImportError, match=r"stops the program \(sys.exit\((3|'no GPU here')\)\) at line \d+"):
        load_source(f"{path}:Net")


@pytest.mark.slow  # a child process imports torch: seconds
def test_timeout_stops_a_file_that_loops_forever(tmp_path, capsys):
    import time

    path = _write(tmp_path, "while True:\n    pass\n")
    started = time.perf_counter()
    assert main(["import", f"{path}:Net", "-o", str(tmp_path / "net.json"), "--timeout", "5"]) == 1
    assert time.perf_counter() - started < 60
    err = capsys.readouterr().err
    assert f"{path}:Net did not finish within 5 s and was stopped" in err
    assert not (tmp_path / "net.json").exists()


@pytest.mark.slow  # a child process imports torch: seconds
def test_timeout_runs_the_same_import_in_a_child(tmp_path, capfd):
    path = _write(tmp_path, BUILDERS)
    out = tmp_path / "net.json"
    assert main(["import", f"{path}:Net8", "-o", str(out), "--input-shape", "2", "--timeout", "300"]) == 0
    assert "Outputs equal the original's" in capfd.readouterr().out
    assert out.is_file() and (tmp_path / "net.initial.pt").is_file()


def test_timeout_must_be_above_zero(tmp_path, capsys):
    assert main(["import", "torchvision:resnet18", "-o", str(tmp_path / "n.json"), "--timeout", "0"]) == 2
    assert "--timeout 0: give a number of seconds above 0" in capsys.readouterr().err


@pytest.mark.slow  # --timeout imports again in a child process (torch): seconds
def test_argv_gives_the_file_its_own_command_line(tmp_path, capsys):
    """A file that parses its command line when run (pytorch/examples' dcgan requires --dataset) imports when the
    user gives that command line with --argv; sys.argv is put back after."""
    path = _write(tmp_path, ARGPARSE + "\n\nSEEN = opt.dataset\n")
    argv = list(sys.argv)
    model = load_source(f"{path}:Net", argv=["--dataset", "fake"])
    assert sys.modules[type(model).__module__].SEEN == "fake"
    assert sys.argv == argv
    out = tmp_path / "net.json"
    args = ["import", f"{path}:Net", "-o", str(out), "--input-shape", "2", "--argv", "--dataset fake"]
    assert main(args) == 0, capsys.readouterr().err
    assert out.exists()
    assert main([*args, "--force", "--timeout", "300"]) == 0, capsys.readouterr().err  # the child gets it too
    with pytest.raises(ModelImportError, match="give the file's own arguments with --argv"):
        load_source(f"{path}:Net")
    assert main(["import", f"{path}:Net", "-o", str(out), "--force", "--argv", "--dataset 'fake"]) == 1
    assert "close its quotes" in capsys.readouterr().err


CONFIGURED = """from dataclasses import dataclass

from torch import nn


@dataclass
class Config:
    width: int = 4
    bias: bool = True


class Net(nn.Module):
    def __init__(self, config, scale=1.0):
        super().__init__()
        self.fc = nn.Linear(2, config.width, bias=config.bias)
        self.scale = scale

    def forward(self, x):
        return self.fc(x) * self.scale
"""


def test_args_may_call_a_class_of_the_models_file(tmp_path, capsys):
    """nanoGPT's GPT(config) takes a GPTConfig, which JSON cannot give: --args 'config=Config(width=3)' builds it
    from the file's own class, after the file has run; nothing else is evaluated."""
    path = _write(tmp_path, CONFIGURED)
    model = load_source(f"{path}:Net", parse_args("config=Config(width=3, bias=False), scale=-2.5"))
    assert model.fc.out_features == 3 and model.fc.bias is None and model.scale == -2.5
    out = tmp_path / "net.json"
    assert main(["import", f"{path}:Net", "-o", str(out), "--input-shape", "2", "--args", "config=Config(7)"]) == 0
    assert "Imported" in capsys.readouterr().out
    for text, why in [
        ("config=print(1)", "`print` is not a class the model's file defines"),
        ("config=dataclass(1)", "`dataclass` is not a class the model's file defines"),
        ("config=Config(width=__import__('os'))", "is not a class the model's file defines"),
        ("config=Config.__init__", "`Config.__init__` is not a literal or a call of a class"),
        ("config=Config(depth=2)", "Config(...) failed: TypeError"),
        ("Config(), scale=2", "either all by position or all by name"),
    ]:
        with pytest.raises(ModelImportError, match=re.escape(why)):
            load_source(f"{path}:Net", parse_args(text))
    for text in ("config=", "config=Config(), 2"):
        with pytest.raises(ModelImportError, match="nor Python arguments"):
            parse_args(text)
