"""What a user is told after ``torchcanvas import``: a freshly imported project passes ``check`` and ``export``
with its dataset left for them to choose, and a failed import names the user's file, line and the real cause (a
syntax mistake, a layer of theirs that does not fit the one before it, a size that is not a size)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from core.cli import main
from core.fx_import import import_model
from core.fx_import.source import parse_shape
from core.fx_import.trace import ModelImportError

SEVEN = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(7, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(F.relu(self.fc(x)))
"""

TYPO = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)
        self.fc2 = nn.Linear(6, 2)

    def forward(self, x):
        hidden = torch.relu(self.fc(x))
        return self.fc2(hidden)
"""


def _import(tmp_path, capsys, text: str, shape: str, name: str = "net.py") -> tuple[int, str]:
    folder = tmp_path / "my models"
    folder.mkdir(exist_ok=True)
    source = folder / name
    source.write_text(text)
    code = main(["import", f"{source}:Net", "-o", str(tmp_path / "net.json"), "--input-shape", shape])
    return code, capsys.readouterr().err


def test_an_imported_project_passes_check_and_export_with_its_dataset_left_to_choose(tmp_path, capsys) -> None:
    code, err = _import(tmp_path, capsys, SEVEN.replace("Linear(7, 16)", "Linear(2, 16)"), "2")
    assert code == 0, err
    project = tmp_path / "net.json"
    assert json.loads(project.read_text())["training"]["dataset"] == ""  # not digits, which fits no imported model
    assert main(["check", str(project)]) == 0
    out, err = capsys.readouterr()
    assert "OK: the network is valid." in out and "error" not in err
    assert "note: No dataset is chosen yet" in out and "--data SPEC" in out
    script = tmp_path / "net.py"
    assert main(["export", str(project), "-o", str(script)]) == 0, capsys.readouterr().err
    assert "class Net(nn.Module)" in script.read_text()
    assert "export writes the model's code alone" in capsys.readouterr().out
    assert main(["export", str(project), "-f", "script", "-o", str(tmp_path / "train.py")]) == 2
    assert "a training script needs a dataset" in capsys.readouterr().err
    # the data chosen at training time: the imported network trains on it
    assert main(["train", str(project), "--data", "spirals", "--epochs", "1", "--out", str(tmp_path / "runs")]) == 0


def test_a_syntax_error_names_the_users_file_line_and_text_not_torchcanvas(tmp_path, capsys) -> None:
    broken = "import torch.nn as nn\nclass Net(nn.Module)\n    def __init__(self):\n        super().__init__()\n"
    code, err = _import(tmp_path, capsys, broken, "7", name="syntax.py")
    assert code == 1
    assert "my models/syntax.py, line 2: SyntaxError: expected ':' (`class Net(nn.Module)`)" in err
    assert "core/fx_import" not in err and "source.py" not in err


def test_a_layer_that_does_not_fit_the_one_before_is_named_not_the_input_shape(tmp_path, capsys) -> None:
    code, err = _import(tmp_path, capsys, TYPO, "10")
    assert code == 1
    assert "fc2 (Linear(in_features=6, out_features=2, bias=True)) at " in err
    assert "net.py:13 (`return self.fc2(hidden)`) receives [1, 5]" in err and "(1x5 and 6x2)" in err
    assert "mistake is likely in the model's own code" in err and "Give the shape of one sample" not in err


def test_a_wrong_input_shape_is_still_blamed_on_the_input_shape_naming_the_first_layer(tmp_path, capsys) -> None:
    code, err = _import(tmp_path, capsys, SEVEN, "10")
    assert code == 1
    assert "does not run on an input of shape [1, 10]: fc (Linear(in_features=7" in err
    assert "net.py:12" in err and "Give the shape of one sample with --input-shape" in err


@pytest.mark.parametrize(("text", "said"), [("0,0", "0 is not a size"), ("-1", "-1 is not a size"), ("3,0,5", "0 is")])
def test_a_size_below_one_is_said_to_be_a_whole_number_from_one(text: str, said: str) -> None:
    with pytest.raises(ModelImportError) as info:
        parse_shape(text)
    assert said in str(info.value) and "whole number from 1 to 100,000" in str(info.value)


def test_a_size_too_large_and_too_many_sizes_are_said_so() -> None:
    with pytest.raises(ModelImportError, match="1000000 is too large"):
        parse_shape("3,1000000")
    with pytest.raises(ModelImportError, match="1 to 4 whole numbers"):
        parse_shape("1,2,3,4,5")


class ManyAranges(nn.Module):
    def forward(self, x):
        for _ in range(40):
            x = x + torch.arange(x.size(1))
        return x


def test_a_call_repeated_in_a_loop_is_named_once():
    """nanoGPT's refusal listed `torch.arange` at the same line ~180 times: one message of 30,000 characters."""
    with pytest.raises(ModelImportError) as caught:
        import_model(ManyAranges(), [4])
    text = str(caught.value)
    assert text.count("`torch.arange` at") == 1, text
    assert len(text) < 1000, len(text)


class SequenceFirst(nn.Module):
    """As pytorch/examples' TransformerModel: the sequence length read with len() from dim 0."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        mask = torch.tril(torch.ones(len(src), len(src)))
        return self.embed(src) * mask.sum()


def test_len_of_a_tensor_is_explained_as_its_first_dimension_not_with_torch_fx_advice():
    with pytest.raises(ModelImportError) as info:
        import_model(SequenceFirst(), [6])
    text = info.value.problems[0]
    assert text.startswith("`model` (a `SequenceFirst`) takes len() of a tensor at ")
    assert "the batch in a drawing" in text and "build it batch first" in text and "torch.fx.wrap" not in text
