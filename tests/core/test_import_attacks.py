"""Import given hostile or mistaken input: --args nested 100,000 deep, a wrong argument count for the user's class,
and weights whose outputs are NaN. Each gets a plain message that names the cause, never a traceback or a
false "equal"."""

from __future__ import annotations

import pytest

from core.cli import main
from core.fx_import.source import load_source, parse_args
from core.fx_import.trace import ModelImportError

TINY = '''from torch import nn


class Helper:
    pass


class Tiny(nn.Module):
    """Two layers; the hidden size must be given."""

    def __init__(self, hidden, classes=3):
        super().__init__()
        self.fc = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.out(self.fc(x))
'''
TINY_LINE = 8  # where ``class Tiny`` is


def _import(tmp_path, *extra: str) -> int:
    source = tmp_path / "tiny.py"
    source.write_text(TINY, encoding="utf-8")
    argv = ["import", f"{source}:Tiny", "-o", str(tmp_path / "net.json"), "--input-shape", "2", *extra]
    return main(argv)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000])
def test_args_nested_100000_deep_is_refused_plainly(tmp_path, capsys, text):
    with pytest.raises(ModelImportError, match="--args is nested too deeply"):
        parse_args(text)
    assert _import(tmp_path, "--args", text) == 1
    err = capsys.readouterr().err
    assert "--args is nested too deeply" in err and "RecursionError" not in err and "a bug" not in err


def test_args_nested_just_too_deep_for_later_messages_is_refused_too():
    with pytest.raises(ModelImportError, match="nested too deeply"):
        parse_args("[" * 900 + "]" * 900)  # json reads it; printing it in a message would overflow later
    assert parse_args('[[1, 2], {"k": [3]}]') == [[1, 2], {"k": [3]}]


@pytest.mark.parametrize(
    ("args", "given", "why"),
    [
        (None, "without --args", "missing a required argument: 'hidden'"),
        ("[1, 2, 3]", "with --args [1, 2, 3]", "too many positional arguments"),
        ('{"hid": 3}', 'with --args {"hid": 3}', "missing a required argument: 'hidden'"),
    ],
)
def test_a_wrong_argument_count_names_the_users_file_class_signature_and_line(tmp_path, capsys, args, given, why):
    source = tmp_path / "tiny.py"
    assert _import(tmp_path, *(["--args", args] if args else [])) == 1
    err = capsys.readouterr().err
    assert f"{source}:{TINY_LINE}: class Tiny takes Tiny(hidden, classes=3); {given}: {why}." in err, err
    assert "source.py" not in err and "Traceback" not in err  # never TorchCanvas's own line
    with pytest.raises(ModelImportError, match=r"takes Tiny\(hidden, classes=3\)"):
        load_source(f"{source}:Tiny", parse_args(args))


def test_right_arguments_still_import(tmp_path, capsys):
    assert _import(tmp_path, "--args", '{"hidden": 4}') == 0
    assert "Outputs equal the original's" in capsys.readouterr().out
