"""``torchcanvas import file.py`` without ``:Class`` (tester's J10 e): it said only "give the model as
path/to/file.py:ClassName". A file with one nn.Module class now gives that class (a note says so); with several,
the message lists them, read from the file's text without running it."""

from __future__ import annotations

from pathlib import Path

from core.cli import main
from core.import_command import module_classes

ONE = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return F.relu(self.fc(x))
"""

SEVERAL = """import torch
from torch import nn
from torch.nn import Module
from dataclasses import dataclass


@dataclass
class Config:
    width: int = 8


class Block(Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)


class Residual(Block):
    pass


class Net(torch.nn.Sequential):
    pass


while True:  # the file loops when it is run: listing its classes must not run it
    pass
"""


def test_a_file_with_one_model_class_imports_it_and_says_so(tmp_path: Path, capsys) -> None:
    source = tmp_path / "lenet.py"
    source.write_text(ONE, encoding="utf-8")
    out = tmp_path / "lenet.json"
    assert main(["import", str(source), "-o", str(out), "--input-shape", "4"]) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    assert f"Imported {source}:Net:" in said, said
    assert "note: Took Net, the one nn.Module class in lenet.py" in said, said
    assert out.is_file()


def test_a_file_with_several_model_classes_lists_them(tmp_path: Path, capsys) -> None:
    source = tmp_path / "models.py"
    source.write_text(SEVERAL, encoding="utf-8")
    assert module_classes(source) == ["Block", "Residual", "Net"]  # not the dataclass
    assert main(["import", str(source), "-o", str(tmp_path / "m.json"), "--input-shape", "4"]) == 1
    said = capsys.readouterr().err
    assert f"Its nn.Module classes: Block, Residual, Net: give one as {source}:Net." in said, said
    assert not (tmp_path / "m.json").exists()


def test_a_file_with_no_model_class_says_how_to_name_one(tmp_path: Path, capsys) -> None:
    source = tmp_path / "build.py"
    source.write_text("import torchvision\n\n\ndef resnet():\n    return torchvision.models.resnet18()\n")
    assert main(["import", str(source), "-o", str(tmp_path / "b.json")]) == 1
    said = capsys.readouterr().err
    assert f"{source} defines no nn.Module class: give the model as {source}:ClassName" in said, said
